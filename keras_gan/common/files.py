"""Write outputs all-or-nothing: to a temporary name first, then rename.

A crash or Ctrl-C in the middle of writing leaves the old file (or nothing)
in place, never a half-written one.
"""

import contextlib
import errno
import json
import os
import shutil
import tempfile

from keras_gan.common.options import UserError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it to `path` on success.

    The temporary name keeps `path`'s suffix, since some writers (Keras'
    `.keras` and `.weights.h5` savers, PIL) choose the format by suffix.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    base = os.path.basename(path)
    stem, dot, suffix = base.partition(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}-", suffix=dot + suffix, dir=directory)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp made it private (0600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_json(path, content, indent=1):
    """`content` as indented JSON at `path`, written whole or not at all."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(content, f, indent=indent)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable_dir(path, flag):
    """Prove that a file can be written in directory `path`, else UserError.

    Creates nothing (a temporary folder in the nearest existing parent is
    made and removed), so a run that fails a later check does not leave an
    empty run directory.
    """
    _probe_dir(path, flag, path)


def check_writable_file(path, flag):
    """Prove that file `path` can be written (its folder writable, itself not a folder)."""
    if os.path.isdir(path):
        raise UserError(f"{flag} {path}: is a directory, expected a file name.")
    _probe_dir(os.path.dirname(os.path.abspath(path)), flag, path)


def _probe_dir(path, flag, shown):
    try:
        _write_test(path)
    except OSError as e:
        raise UserError(f"{flag} {shown}: not writable ({e.strerror or type(e).__name__}).") from None


def _write_test(path):
    # Probe the nearest folder that exists with a uniquely named temporary
    # folder, rather than create `path` itself: processes that start together
    # (the workers of a cluster) may probe the same path at the same moment.
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), existing)
    tempfile.TemporaryDirectory(dir=existing, prefix=".write-test-").cleanup()


def replace_marked_block(path, begin, end, body):
    """Rewrite the text between the marker lines `begin` and `end` of file `path`
    (generated sections of docs), atomically; UserError if the markers are missing."""
    import re

    with open(path) as f:
        text = f.read()
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise UserError(f"{path}: no generated block ({begin} ... {end}).")
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write(pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text))


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)
