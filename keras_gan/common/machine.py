"""Which machine produced a figure: printed beside every measured number."""

import os
import platform


def cpu_description():
    """E.g. "AMD EPYC, 2 cores": the CPU's model name and the core count."""
    cpu = platform.processor() or platform.machine() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores"
