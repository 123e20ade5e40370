"""Import TensorFlow without its C++ start-up chatter, and hide its known
harmless lines during training.

On import and on first use of the devices TensorFlow 2.21 prints lines such
as the oneDNN notice, "Could not find cuda drivers" and, on machines without
a GPU, "failed call to cuInit" -- from C++, before its log level applies, so
TF_CPP_MIN_LOG_LEVEL alone does not hide them. Unless the user set
TF_CPP_MIN_LOG_LEVEL (then TensorFlow's own behaviour is kept), the
command-line tools start TensorFlow (import, then the first use of its
devices) inside `tensorflow_start`, which sets the level to 2 (errors only)
for what follows, and during training hide one harmless error line
(`hidden_stderr_lines`).

Both use one mechanism, `StderrFilter`: file descriptor 2 (C++ writes there,
not to `sys.stderr`) becomes a pipe, read by a thread that passes on every
line except those matching a pattern, as they come.
"""

import contextlib
import os
import re
import sys
import threading

# Whether `tensorflow_start` set TensorFlow's log level (the user had not):
# then its known noise is filtered, at start-up and during training, for as
# long as the level is still the one it set.
_filtering = False
OUR_LEVEL = "2"


def ours_to_filter():
    return _filtering and os.environ.get("TF_CPP_MIN_LOG_LEVEL") == OUR_LEVEL

# Start-up notices, in glog/absl format ("I0000 00:00:... file.cc:NN] ...")
# or absl's one warning about itself.
START_UP_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cuda_platform|cuda_executor|cpu_feature_guard"
    rb"|cuda_diagnostics|cuda_driver|cuda_fft|cuda_dnn|cuda_blas)\.cc:\d+\])"
)


@contextlib.contextmanager
def tensorflow_start():
    """Run a block that imports TensorFlow (and perhaps creates a strategy),
    then start TensorFlow's devices, without the start-up notices, and
    without the packages Keras would import for features no program here
    uses (keras_gan/common/lean_start.py)."""
    global _filtering
    from keras_gan.common.lean_start import unused_imports_refused

    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and not ours_to_filter():
        with unused_imports_refused(keras_backend()):
            yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = OUR_LEVEL
    _filtering = True
    with hidden_stderr_lines(START_UP_NOISE):
        with unused_imports_refused(keras_backend()):
            yield
        # Device start-up (cuInit and friends) happens on first use. After the
        # block, which may need to configure the devices first (a multi-worker
        # strategy must be created before they start). Not for Keras on JAX or
        # PyTorch: TensorFlow is not theirs to start (it may not be installed).
        if keras_backend() != "tensorflow":
            return
        import tensorflow as tf

        tf.config.list_logical_devices()


def keras_backend():
    """Keras' backend: asked of Keras where it is imported, else KERAS_BACKEND."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


# Harmless TensorFlow 2.21 messages at ERROR level, during training:
HARMLESS_DURING_TRAINING = re.compile(
    # Grappler's remapper cannot fuse a LeakyReLU gradient inside Keras'
    # multi-step loop without XLA, nor (with --r1-interval above 1) a
    # convolution's BiasAdd inside the lazy penalty's tf.cond; it says so and
    # leaves the graph unfused (the step still runs, and its speed is what
    # the compile trial measures).
    rb"^E\d{4} [\d:. ]+\d+ (meta_optimizer\.cc:\d+\] remapper failed: INVALID_ARGUMENT: "
    rb"Mutation::Apply error: fanout .*(LeakyReluGrad|exist for missing node '[^']*/BiasAdd')"
    # A step loaded from the persistent XLA cache (keras_gan/training/
    # compile_settings.py): TensorFlow reads the binary entry as text first,
    # and the text parser's complaint is printed before the binary read succeeds ...
    rb"|text_format\.cc:\d+\] Error parsing text-format tensorflow\.XlaSerializedCacheEntry: "
    # ... and XLA compares the program's target features with the host's
    # instruction sets, where its own code-generation preferences
    # ("+prefer-no-gather", "+prefer-no-scatter": tuning, not instructions)
    # are never listed, so it warns of a mismatch (and SIGILL) on the very
    # machine that compiled it. A line naming any other feature is shown.
    rb"|cpu_aot_loader\.cc:\d+\] Loading XLA:CPU AOT result\. Target machine feature "
    rb"\+prefer-[\w-]+ is not )"
)


class StderrFilter:
    """Pass file descriptor 2 through a filter that drops lines matching
    `pattern`, as they come (a pipe read by a thread), from `start()` to
    `stop()`; only where `tensorflow_start` set TensorFlow's log level (the
    user did not set TF_CPP_MIN_LOG_LEVEL).

    Keep the window short (TensorFlow's start; in training, the compile trial
    and fit's first call, where the harmless line comes from): a process
    that dies inside it may lose the lines still in the pipe, a crash report
    among them.
    """

    def __init__(self, pattern=HARMLESS_DURING_TRAINING):
        self.pattern = pattern
        self.original = self.thread = None

    def start(self):
        if self.thread is not None or not ours_to_filter():
            return
        sys.stderr.flush()
        self.original = os.dup(2)
        read_end, write_end = os.pipe()
        # A larger buffer where Linux allows: C++ code that writes while
        # holding Python's lock (an extension's import) must not fill the
        # pipe before the thread can read it.
        with contextlib.suppress(AttributeError, OSError):
            import fcntl

            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)
        os.dup2(write_end, 2)
        os.close(write_end)
        self.thread = threading.Thread(target=self._pump, args=(read_end,), name="stderr-filter",
                                       daemon=True)
        self.thread.start()

    def _pump(self, read_end):
        with os.fdopen(read_end, "rb") as lines:
            for line in lines:
                if not self.pattern.match(line):
                    view = memoryview(line)
                    while view:  # os.write may write part of it
                        view = view[os.write(self.original, view):]

    def stop(self):
        if self.thread is None:
            return
        sys.stderr.flush()
        # fd 2 back: the pipe's last writer is gone, and the thread reads to its end
        # (unless a child process inherited the pipe: then do not wait for it).
        os.dup2(self.original, 2)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            os.close(self.original)
        self.thread = self.original = None


@contextlib.contextmanager
def hidden_stderr_lines(pattern=HARMLESS_DURING_TRAINING):
    """`StderrFilter` for the block's duration."""
    stderr_filter = StderrFilter(pattern)
    stderr_filter.start()
    try:
        yield stderr_filter
    finally:
        stderr_filter.stop()
