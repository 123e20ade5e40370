"""What the README's two commands install: size on disk and time, per lock file.

    python3 benchmarks/install_size.py [--requirements requirements.txt requirements-dev.txt] [--json OUT]

For each lock file, in a fresh temporary folder: `python -m venv` and
`pip install -q -r FILE`, as the README's commands do (timed together), then
the folder's size on disk (allocated blocks, each hard-linked file once; GiB
and MiB are du -sh's units), the number of packages installed and the largest
ones. Packages come from wherever pip is configured to take them (an index, a
cache, local wheel folders), so the times say as much about that as about the
machine; the sizes do not depend on it. Needs only the standard library; the
folders are deleted afterwards. Prints the machine and the date beside the
figures.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = ["requirements.txt", "requirements-dev.txt"]
MiB = 1024 ** 2
GiB = 1024 ** 3


def machine():
    """The CPU in words (keras_gan.common.machine), else what `platform` says."""
    sys.path.insert(0, ROOT)
    try:
        from keras_gan.common.machine import cpu_description

        return cpu_description()
    except ImportError:
        return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    finally:
        sys.path.remove(ROOT)


def disk_usage(path):
    """Bytes allocated on disk under `path` (like du: blocks, hard links once)."""
    seen, total = set(), 0
    for folder, _, files in os.walk(path):
        for name in [None, *files]:
            stat = os.lstat(folder if name is None else os.path.join(folder, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_blocks * 512
    return total


def largest(site_packages, n=5):
    """The n biggest entries of site-packages, in MiB."""
    sizes = {name: disk_usage(os.path.join(site_packages, name)) for name in os.listdir(site_packages)}
    return {name: round(size / MiB) for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:n]}


def measure(requirements, python):
    """Build a virtual environment from `requirements` in a temporary folder; its figures."""
    work = tempfile.mkdtemp(prefix="install_size-")
    venv = os.path.join(work, ".venv")
    try:
        start = time.perf_counter()
        subprocess.run([python, "-m", "venv", venv], check=True)
        pip = os.path.join(venv, "bin", "pip")
        subprocess.run([pip, "install", "-q", "-r", os.path.join(ROOT, requirements)], check=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        size = disk_usage(venv)
        freeze = subprocess.run([pip, "freeze", "--all"], check=True, capture_output=True, text=True).stdout
        version = subprocess.run([os.path.join(venv, "bin", "python"), "-c", "import sys; print(sys.version.split()[0])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        site = os.path.join(venv, "lib", f"python{'.'.join(version.split('.')[:2])}", "site-packages")
        return {"requirements": requirements, "bytes": size, "gib": round(size / GiB, 2), "mib": round(size / MiB),
                "seconds": round(seconds, 1), "packages": len(freeze.split()), "python": version,
                "largest_mib": largest(site)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", nargs="+", default=DEFAULT,
                        help="lock files, relative to the repository root")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that makes the venvs")
    parser.add_argument("--json", metavar="OUT", help="also write the figures here")
    args = parser.parse_args(argv)
    report = {"machine": machine(), "date": datetime.date.today().isoformat(), "results": []}
    print(f"{report['machine']}, {report['date']}", flush=True)
    print(f"{'lock file':<24} {'size GiB':>9} {'size MiB':>9} {'time s':>8} {'time min':>9} {'packages':>9}", flush=True)
    for requirements in args.requirements:
        result = measure(requirements, args.python)
        report["results"].append(result)
        print(f"{requirements:<24} {result['gib']:>9.2f} {result['mib']:>9,} {result['seconds']:>8.0f} "
              f"{result['seconds'] / 60:>9.1f} {result['packages']:>9}", flush=True)
        print("    largest (MiB): " + ", ".join(f"{k} {v}" for k, v in result["largest_mib"].items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
