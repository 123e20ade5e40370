"""Where a run's seconds go: the wall time of each phase of train.py, for
summary.json ("phases") and one printed line at the end.

`fit`'s seconds are split by `StepTimer`, a callback: the time between the
start and the end of each compiled call is "train steps" (compiling the step
included, in the first call); the per-epoch evaluation's own seconds are
"evaluation"; the rest of `fit` is the other callbacks' work ("monitoring":
grids, TensorBoard, backups).

Memory too: the process's peak resident memory so far, read as each phase
ends (summary.json's "peak_memory_mb"), so that the phase that raised the
peak is the first whose figure is the largest.
"""

import contextlib
import resource
import sys
import time

PHASES = ("start-up", "data", "classifier", "compile trial", "build", "train steps", "monitoring",
          "evaluation", "outputs", "export")


class PhaseClock:
    """Seconds per phase, counted from the process start."""

    def __init__(self, process_start):
        self.process_start = process_start
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.peak_mb = dict.fromkeys(PHASES, None)  # the process's peak RSS as the phase last ended

    @contextlib.contextmanager
    def phase(self, name):
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - start)

    def add(self, name, seconds):
        if name not in self.seconds:
            raise ValueError(f"unknown phase {name!r}; expected one of {', '.join(PHASES)}")
        self.seconds[name] += seconds
        self.peak_mb[name] = round(peak_rss_mb())

    def total(self):
        return time.monotonic() - self.process_start

    def as_dict(self):
        return {name: round(seconds, 1) for name, seconds in self.seconds.items()}

    def line(self):
        """'time: 512 s in all: start-up 8 s, data 2 s, ...; peak memory 1,234 MB'
        (phases that took no time left out)."""
        parts = [f"{name} {seconds:.0f} s" for name, seconds in self.seconds.items() if seconds >= 0.5]
        return (f"time: {self.total():.0f} s in all: " + ", ".join(parts)
                + f"; peak memory {peak_rss_mb():,.0f} MB")


def peak_rss_mb():
    """This process's peak resident memory so far, in MB (2**20 bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def step_timer():
    """A Keras callback that sums the seconds inside compiled calls (`.seconds`)."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self._start = 0.0, None

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            if self._start is not None:
                if logs:  # a call may return before its steps are done: wait for them
                    keras.ops.convert_to_numpy(next(iter(logs.values())))
                self.seconds += time.monotonic() - self._start
                self._start = None

    return StepTimer()
