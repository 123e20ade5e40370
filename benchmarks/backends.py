"""The GAN's training through `fit` on each Keras backend, side by side.

    .venv/bin/python benchmarks/backends.py [--backends tensorflow jax torch]
        [--families mlp conv] [--batch-sizes 64 256 1024] [--fused 32]
        [--seconds 2] [--repeats 3] [--doc docs/performance.md] [--json PATH]

One worker process per backend (Keras picks its backend at import), all
started first; each builds every contender and warms it up (compilation
excluded). Then the timed calls go round-robin -- repeat after repeat, cell
after cell, backend after backend -- so machine noise hits all of them
alike. A timed call is one `fit` over enough steps to take about
`--seconds`, fed as train.py feeds it (`keras_gan.data.make_dataset`:
tf.data on TensorFlow, the NumPy `PyDataset` elsewhere), and ends by
reading the step count back (so asynchronous dispatch is waited for).

Contenders, per backend:
- tensorflow "XLA, spe S": train.py's TensorFlow settings (jit_compile,
  steps_per_execution=S, Keras' own loop over S steps in one graph);
- jax "1 step/call" and "fused S": one jitted step per call, or S steps in
  one `jax.lax.scan` (`GAN.compile(fused_steps=S)`, train.py's JAX default
  on a GPU);
- torch "1 step/call": Keras on PyTorch, eager (its trainer runs one step
  per call);
- pytorch-loop: plain PyTorch, no Keras -- pytorch/examples' DCGAN loop on
  the same networks (benchmarks/torch_reference.py): eager, compiled, and on
  CUDA the whole step in one CUDA graph with bfloat16 (the yardstick of
  issue #11).

The GAN is the paper's Algorithm 1 with k = 1 and Adam (no R1, no EMA:
the work the reference loops do); `--recipe default` times train.py's
default recipe instead (R1 gamma 1, EMA 0.999; the reference loops stay plain).
Reports real images per second (median over repeats) and each row's ratio
to the slowest contender of its cell. The ratios, not the absolute numbers,
transfer between machines. On the lent GPU machines (JAX and PyTorch, no
TensorFlow): `--backends jax torch pytorch-loop` (docs/performance.md says how
to run it there).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

BACKENDS = ("tensorflow", "jax", "torch", "pytorch-loop")  # the last: plain PyTorch, no Keras
DOC_BEGIN = "<!-- backends ({}): begin -->"
DOC_END = "<!-- backends ({}): end -->"
POOL = 4096  # distinct real images the pipelines cycle through


def contenders(backend, fused):
    """(label, compile arguments) of each contender on `backend`."""
    if backend == "tensorflow":
        return [(f"XLA, spe {fused}", {"jit_compile": True, "steps_per_execution": fused})]
    if backend == "jax":
        return [("1 step/call", {}), (f"fused {fused}", {"fused_steps": fused})]
    if backend == "pytorch-loop":
        return [(f"{variant} loop", {"reference": variant}) for variant in ("eager", "compiled", "cuda graph")]
    return [("1 step/call", {"jit_compile": False})]


def log(message):
    """A timestamped progress line on stderr (the parent's and the workers')."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the worker
class ReferenceCell:
    """benchmarks/torch_reference.py's loop for one (family, batch size)."""

    def __init__(self, family, batch_size, variant, seconds):
        import numpy as np

        sys.path.insert(0, HERE)
        from torch_reference import TorchLoop

        images = np.random.default_rng(0).integers(0, 256, (POOL, 28, 28, 1), np.uint8)
        self.loop = TorchLoop(family, batch_size, images, variant)  # ValueError: not here
        self.batch_size = batch_size
        self.loop.run(8)  # compiles (and captures)
        took = self.loop.run(8)
        self.steps = max(8, round(8 * seconds / took))

    def run(self):
        return self.loop.run(self.steps)


class Cell:
    """One contender for one (family, batch size), ready to be timed."""

    def __init__(self, family, batch_size, compile_args, recipe, seconds):
        import keras
        import numpy as np

        from keras_gan import GAN, build_models
        from keras_gan.model.gan import default_optimizer

        keras.utils.set_random_seed(0)
        default = recipe == "default"
        self.gan = GAN(*build_models(family), r1_gamma=1.0 if default else 0.0, seed=0)
        self.gan.compile(
            d_optimizer=default_optimizer(1e-3 if default else 2e-4, name="d_optimizer"),
            g_optimizer=default_optimizer(1e-3 if default else 2e-4, name="g_optimizer",
                                          ema=0.999 if default else None),
            **compile_args)
        self.per_call = compile_args.get("fused_steps", 1)
        self.batch_size = batch_size
        self.images = np.random.default_rng(0).integers(0, 256, (POOL, 28, 28, 1), np.uint8)
        # Warm up (compiles), then size a timed call to take about `seconds`.
        self.steps = 2 * self.per_call * compile_args.get("steps_per_execution", 1)
        self.run()
        took = self.run()
        self.steps = max(self.steps, round(self.steps * seconds / took / self.steps) * self.steps)

    def run(self):
        import keras

        from keras_gan.data import make_dataset

        dataset = make_dataset(self.images, self.batch_size, seed=0, steps_per_epoch=self.steps,
                               steps_per_call=self.per_call)
        before = int(keras.ops.convert_to_numpy(self.gan.g_optimizer.iterations))
        start = time.perf_counter()
        self.gan.fit(dataset, epochs=1, verbose=0)
        done = int(keras.ops.convert_to_numpy(self.gan.g_optimizer.iterations))  # waits for the device
        seconds = time.perf_counter() - start
        assert done - before == self.steps, (done, before, self.steps)
        return seconds


def worker():
    """Read commands (JSON lines) on stdin, answer on stdout."""
    import keras

    cells = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "build":
            skipped = []
            for key, (family, batch_size, compile_args) in command["cells"].items():
                start = time.perf_counter()
                try:
                    if "reference" in compile_args:
                        cells[key] = ReferenceCell(family, batch_size, compile_args["reference"],
                                                   command["seconds"])
                    else:
                        cells[key] = Cell(family, batch_size, compile_args, command["recipe"],
                                          command["seconds"])
                except ValueError as error:  # a CUDA-only variant on a CPU
                    skipped.append([key, str(error)])
                except Exception as error:  # one contender failing on a new machine must not sink the rest
                    skipped.append([key, f"failed: {type(error).__name__}: {error}".splitlines()[0]])
                else:
                    log(f"{key}: ready in {time.perf_counter() - start:.0f} s")
            answer = {"backend": keras.backend.backend(), "device": device_description(), "skipped": skipped}
        elif command["do"] == "time":
            cell = cells[command["cell"]]
            answer = {"seconds": cell.run(), "images": cell.steps * cell.batch_size}
        else:
            return
        print(json.dumps(answer), flush=True)


def device_description():
    import keras

    from keras_gan.common.machine import cpu_description

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        return f"{devices[0].device_kind} x{len(devices)}" if devices[0].platform == "gpu" else cpu_description()
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu_description()
    return cpu_description()


# ---------------------------------------------------------------- the parent
class Worker:
    def __init__(self, backend):
        keras_backend = "torch" if backend == "pytorch-loop" else backend
        env = dict(os.environ, KERAS_BACKEND=keras_backend, TF_CPP_MIN_LOG_LEVEL="3",
                   XLA_PYTHON_CLIENT_PREALLOCATE="false")  # JAX and PyTorch may share one GPU
        self.backend = backend
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def ask(self, **command):
        self.send(**command)
        return self.answer()

    def send(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.backend} worker died (see its messages above)")
        return json.loads(line)

    def close(self):
        self.process.stdin.write(json.dumps({"do": "quit"}) + "\n")
        self.process.stdin.close()
        self.process.wait()


def measure(args, log, progress=lambda rows, devices, skipped: None):
    """Time every contender; `progress(rows, devices, skipped)` after each repeat (a cut-short run keeps those)."""
    workers = [Worker(backend) for backend in args.backends]
    cells = {}  # key -> (backend, label, family, batch size)
    devices, skipped = {}, {}
    try:
        # Every worker builds at once (compiling is most of a run on a many-core GPU machine); the
        # timed calls below run one at a time.
        for worker_ in workers:
            own = {}
            for family in args.families:
                for batch_size in args.batch_sizes:
                    for label, compile_args in contenders(worker_.backend, args.fused):
                        key = f"{worker_.backend}|{label}|{family}|{batch_size}"
                        own[key] = (family, batch_size, compile_args)
                        cells[key] = (worker_.backend, label, family, batch_size)
            log(f"{worker_.backend}: building and warming up {len(own)} contenders")
            worker_.send(do="build", cells=own, recipe=args.recipe, seconds=args.seconds)
        for worker_ in workers:
            answer = worker_.answer()
            devices[worker_.backend] = answer["device"]
            for key, why in answer["skipped"]:
                log(f"{key}: skipped ({why})")
                skipped[key.replace("|", ", ")] = why
                del cells[key]
        rates = {key: [] for key in cells}
        by_backend = {w.backend: w for w in workers}
        for repeat in range(args.repeats):
            for key, (backend, *_rest) in cells.items():
                answer = by_backend[backend].ask(do="time", cell=key)
                rates[key].append(answer["images"] / answer["seconds"])
            log(f"repeat {repeat + 1}/{args.repeats} done")
            progress(rows_of(cells, rates), devices, skipped)
    finally:
        for worker_ in workers:
            worker_.close()
    return rows_of(cells, rates), devices, skipped


def rows_of(cells, rates):
    return [{"backend": backend, "contender": label, "family": family, "batch_size": batch_size,
             "images_per_second": statistics.median(rates[key]), "all": rates[key]}
            for key, (backend, label, family, batch_size) in cells.items()]


def markdown(rows, devices, skipped, args, argv):
    lines = [
        f"Made by `python benchmarks/backends.py {' '.join(argv)}`".rstrip() + "; devices: "
        + "; ".join(f"{b}: {d}" for b, d in devices.items())
        + f". Recipe: {args.recipe}; real images per second, median of {args.repeats} timed `fit` calls "
          f"of ~{args.seconds:g} s each; ×: the cell's slowest row.",
        "",
        "| model | batch | backend | contender | images/s | × |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for family in args.families:
        for batch_size in args.batch_sizes:
            cell = [r for r in rows if r["family"] == family and r["batch_size"] == batch_size]
            slowest = min(r["images_per_second"] for r in cell)
            for r in cell:
                lines.append(f"| {family} | {batch_size} | {r['backend']} | {r['contender']} | "
                             f"{r['images_per_second']:,.0f} | {r['images_per_second'] / slowest:.2f} |")
    if skipped:
        lines += ["", "Not timed: " + "; ".join(f"{key} ({why})" for key, why in skipped.items()) + "."]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--worker"]:
        return worker()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--families", nargs="+", choices=("mlp", "conv"), default=["mlp", "conv"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 256, 1024])
    parser.add_argument("--fused", type=int, default=32, help="steps per call (JAX's scan, TF's spe)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed call")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--recipe", choices=("paper", "default"), default="paper")
    parser.add_argument("--doc", help="write the table into this file's backends block")
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or args.fused < 1 or args.repeats < 1 or args.seconds <= 0:
        parser.error("--batch-sizes, --fused and --repeats must be >= 1 and --seconds > 0")

    def save(rows, devices, skipped):
        if args.json:
            from keras_gan.common.files import write_json

            write_json(args.json, {"argv": argv, "devices": devices, "rows": rows, "skipped": skipped})

    rows, devices, skipped = measure(args, log, progress=save)
    table = markdown(rows, devices, skipped, args, argv)
    print(table)
    if args.doc:
        from keras_gan.common.files import replace_marked_block

        kind = "gpu" if any("cores" not in d for d in devices.values()) else "cpu"
        replace_marked_block(args.doc, DOC_BEGIN.format(kind), DOC_END.format(kind), table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
