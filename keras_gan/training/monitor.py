"""Monitoring a GAN while it trains: TensorBoard summaries and image files.

A GAN's losses alone say little (both players' losses move together by
design), so `GANMonitor` logs what a practitioner actually looks at:

TensorBoard (in `<run_dir>/train`, next to Keras' own `epoch_*` scalars):
- `steps/d_loss`, `steps/g_loss`, `steps/d_real`, `steps/d_fake` every N
  training steps (x axis: generator updates; values: the epoch's running mean);
- `learning_rate/discriminator`, `learning_rate/generator`, read from the two
  real optimizers, every N steps and every epoch;
- `samples/fixed_noise`: the generator's images for the *same* z every epoch,
  so progress is visible rather than drowned in sampling noise;
- `d_output/real`, `d_output/fake`: histograms of D(x) on held real images
  and of D(G(z)) on fresh fakes -- two separating humps mean D is winning;
- `run/flags`: the run's settings, as a text table.

Files in `run_dir`: `samples/epoch_NNN.png` (the fixed-noise grid per epoch),
`progress.gif` (those grids as an animation), `loss_curves.png`,
`interpolation.png` (walks through latent space between random z), and
`history.json` (the epoch metrics). For a conditional GAN every grid has one
row per class (`images.class_rows`), and each interpolation row keeps one
class. A resumed run reads the earlier epochs' grids and metrics back, so its
GIF and curves cover the whole run.
"""

import json
import os
import sys

import keras
import numpy as np

from keras_gan.common.files import atomic_path
from keras_gan.model.gan import to_unit_range, with_labels
from keras_gan.outputs.images import class_rows, load_grid_png, make_grid, save_figure_png, save_grid_png
from keras_gan.common.layout import SAMPLES_DIR, TENSORBOARD_DIR
from keras_gan.training.summaries import create_writer

HISTORY_FILE = "history.json"
# An epoch whose mean d_loss is below this is one in which D rejected nearly
# every sample with certainty: "D wins outright" (docs/algorithm.md).
D_WINS_LOSS = 0.1


def slerp(z0, z1, t):
    """Spherical interpolation between latent vectors (rows of z0, z1) at t in [0, 1].

    Gaussian z concentrate near a sphere of radius sqrt(latent_dim); a
    straight line between two of them passes through the low-norm interior
    the generator never saw in training, a great-circle arc does not.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    unit0 = z0 / np.linalg.norm(z0, axis=-1, keepdims=True)
    unit1 = z1 / np.linalg.norm(z1, axis=-1, keepdims=True)
    omega = np.arccos(np.clip(np.sum(unit0 * unit1, axis=-1, keepdims=True), -1.0, 1.0))
    sin = np.sin(omega)
    safe = np.where(sin < 1e-6, 1.0, sin)
    mixed = (np.sin((1.0 - t) * omega) * z0 + np.sin(t * omega) * z1) / safe
    linear = (1.0 - t) * z0 + t * z1  # (anti)parallel vectors: no unique arc
    return np.where(sin < 1e-6, linear, mixed).astype(np.float32)


class GANMonitor(keras.callbacks.Callback):
    """Log a GAN's health to TensorBoard and write sample images; see module doc.

    Args:
        run_dir: the run directory (TensorBoard logs go to `run_dir/train`).
        real_images: a few real images in [-1, 1] for the D(x) histogram.
        real_labels: their labels (for a conditional GAN's D), or None.
        num_images: images in each fixed-noise grid (default 64).
        seed: seed of the fixed noise batch and of the interpolation.
        log_every_n_steps: interval of the step-level scalars.
        flags: a dict of the run's settings, logged once as text.
    """

    def __init__(self, run_dir, real_images, num_images=64, seed=0,
                 log_every_n_steps=100, flags=None, real_labels=None):
        super().__init__()
        if log_every_n_steps < 1:
            raise ValueError(f"log_every_n_steps must be >= 1, got {log_every_n_steps}.")
        self.run_dir = run_dir
        self.real_images = real_images
        self.real_labels = None if real_labels is None else np.asarray(real_labels, np.int32)
        self.num_images = num_images
        self.seed = seed
        self.log_every_n_steps = log_every_n_steps
        self.flags = dict(flags or {})
        self.frames = []  # uint8 grids, one per epoch
        self.history = {}
        self._restored = False
        self.d_wins = False

    # ------------------------------------------------------------ helpers
    def _step(self):
        return int(np.asarray(keras.ops.convert_to_numpy(self.model.g_optimizer.iterations)))

    def _learning_rates(self):
        return {
            "learning_rate/discriminator": float(keras.ops.convert_to_numpy(self.model.d_optimizer.learning_rate)),
            "learning_rate/generator": float(keras.ops.convert_to_numpy(self.model.g_optimizer.learning_rate)),
        }

    def grid_labels(self, n):
        """(labels, columns) of a grid of n samples: (None, None) for an
        unconditional GAN, else one row per class."""
        if self.model.num_classes is None:
            return None, None
        return class_rows(n, self.model.num_classes)

    def _images(self, z, labels=None):
        generator = self.model.sampling_generator()  # the averaged G when there is one
        images = generator(with_labels(z, labels), training=False)
        return keras.ops.convert_to_numpy(to_unit_range(images))

    def _d_probabilities(self, images, labels=None):
        logits = self.model.discriminator(with_labels(images, labels), training=False)
        return keras.ops.convert_to_numpy(keras.ops.sigmoid(keras.ops.cast(logits, "float32")))

    # ------------------------------------------------------------ callbacks
    def on_train_begin(self, logs=None):
        os.makedirs(os.path.join(self.run_dir, SAMPLES_DIR), exist_ok=True)
        self.writer = create_writer(os.path.join(self.run_dir, TENSORBOARD_DIR))
        self.fixed_z = self.model.latent_vectors(self.num_images, seed=self.seed)
        self.fixed_labels, self.grid_columns = self.grid_labels(self.num_images)
        self.next_log_step = self._step() + self.log_every_n_steps
        if self.flags:
            rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(self.flags.items()))
            self.writer.text("run/flags", "| flag | value |\n| --- | --- |\n" + rows, 0)

    def on_epoch_begin(self, epoch, logs=None):
        self._restore_earlier_epochs(epoch)

    def _restore_earlier_epochs(self, epochs):
        """Read back what earlier processes of this run wrote for epochs 1..epochs."""
        if self._restored:
            return
        self._restored = True
        path = os.path.join(self.run_dir, HISTORY_FILE)
        if epochs == 0 or not os.path.isfile(path):
            return
        with open(path) as f:
            self.history = {name: values[:epochs] for name, values in json.load(f).items()}
        for epoch in range(1, epochs + 1):
            png = os.path.join(self.run_dir, SAMPLES_DIR, f"epoch_{epoch:03d}.png")
            if os.path.isfile(png):
                self.frames.append(load_grid_png(png))

    def history_so_far(self):
        """{metric: [value per epoch]} over the whole run, resumed parts included."""
        self._restore_earlier_epochs(self.params.get("epochs", 0) if self.params else 0)
        return self.history

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step < self.next_log_step:
            return
        self.next_log_step = (step // self.log_every_n_steps + 1) * self.log_every_n_steps
        for name, value in (logs or {}).items():
            self.writer.scalar(f"steps/{name}", float(np.mean(value)), step)
        for name, value in self._learning_rates().items():
            self.writer.scalar(name, value, step)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(np.mean(value)))
        with atomic_path(os.path.join(self.run_dir, HISTORY_FILE)) as tmp:
            with open(tmp, "w") as f:
                json.dump(self.history, f)
        self._warn_if_d_wins(epoch, logs or {})
        images = self._images(self.fixed_z, self.fixed_labels)
        grid = make_grid(images, self.grid_columns)
        self.frames.append(grid)
        save_grid_png(os.path.join(self.run_dir, SAMPLES_DIR, f"epoch_{epoch + 1:03d}.png"), images,
                      cols=self.grid_columns)
        fake_z = self.model.latent_vectors(len(self.real_images), seed=self.seed + epoch + 1)
        fake_labels = self.model.check_labels(None, len(self.real_images))
        # The G that D plays against, not the averaged one.
        fakes = self.model.generator(with_labels(fake_z, fake_labels), training=False)
        real = self._d_probabilities(self.real_images, self.real_labels)
        self.writer.image("samples/fixed_noise", grid, epoch)
        self.writer.histogram("d_output/real", real, epoch)
        self.writer.histogram("d_output/fake", self._d_probabilities(fakes, fake_labels), epoch)
        for name, value in self._learning_rates().items():
            self.writer.scalar(name, value, self._step())
        self.writer.flush()

    def _warn_if_d_wins(self, epoch, logs):
        if "d_loss" not in logs:
            return
        value = lambda name: float(np.mean(logs.get(name, np.nan)))  # noqa: E731
        wins = value("d_loss") < D_WINS_LOSS
        if wins and not self.d_wins:
            print(f"WARNING: epoch {epoch + 1}: the discriminator wins outright (d_loss "
                  f"{value('d_loss'):.3f}, d_real {value('d_real'):.3f}, d_fake {value('d_fake'):.3f}): "
                  "the generator learns little from here; see docs/algorithm.md",
                  file=sys.stderr, flush=True)
        self.d_wins = wins

    def on_train_end(self, logs=None):
        self.writer.close()
        self._restore_earlier_epochs(self.params["epochs"])  # nothing left to train
        if not self.frames:
            return
        self.write_gif(os.path.join(self.run_dir, "progress.gif"))
        self.write_loss_curves(os.path.join(self.run_dir, "loss_curves.png"))
        self.write_interpolation(os.path.join(self.run_dir, "interpolation.png"))

    # ------------------------------------------------------------ files
    def write_gif(self, path, ms_per_frame=400):
        from PIL import Image

        scale = 2
        frames = [
            Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
            for f in self.frames
        ]
        with atomic_path(path) as tmp:
            frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:],
                           duration=ms_per_frame, loop=0)

    def write_loss_curves(self, path):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = np.arange(1, len(self.frames) + 1)
        fig, (losses, probs) = plt.subplots(1, 2, figsize=(10, 3.6))
        for name in ("d_loss", "g_loss"):
            if name in self.history:
                losses.plot(epochs, self.history[name], marker=".", label=name)
        losses.axhline(np.log(4.0), color="gray", lw=0.8, ls="--", label="log 4 (D at 1/2)")
        losses.set(xlabel="epoch", ylabel="loss", title="losses")
        losses.legend()
        for name, label in (("d_real", "mean D(x)"), ("d_fake", "mean D(G(z))")):
            if name in self.history:
                probs.plot(epochs, self.history[name], marker=".", label=label)
        probs.axhline(0.5, color="gray", lw=0.8, ls="--")
        probs.set(xlabel="epoch", ylabel="probability", ylim=(0, 1), title="discriminator outputs")
        probs.legend()
        save_figure_png(fig, path)

    def write_interpolation(self, path, rows=8, steps=10):
        classes = self.model.num_classes
        rows = classes or rows  # conditional: a row per class
        z = keras.ops.convert_to_numpy(self.model.latent_vectors(2 * rows, seed=self.seed + 10_000))
        t = np.linspace(0.0, 1.0, steps)[None, :, None]
        path_z = slerp(z[:rows, None, :], z[rows:, None, :], t).reshape(rows * steps, -1)
        labels = None if classes is None else np.repeat(np.arange(rows, dtype=np.int32), steps)
        save_grid_png(path, self._images(path_z, labels), cols=steps)
