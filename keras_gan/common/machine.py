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


def cpu_identity():
    """This CPU's vendor, model and instruction-set flags as the kernel lists
    them (Linux; else what `platform` says): two machines with the same
    identity run the same machine code."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor's block is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    # x86 ("flags"), ARM ("Features", "CPU implementer", "CPU part"), others' names.
    wanted = ("vendor_id", "cpu family", "model", "model name", "flags", "Features",
              "CPU implementer", "CPU architecture", "CPU part", "cpu", "isa")
    identity = {key: fields[key] for key in wanted if key in fields}
    identity["machine"] = platform.machine()
    if len(identity) == 1:
        identity["processor"] = platform.processor()
    return identity
