"""Image grids as PNG files."""

import math

import numpy as np

from keras_gan.common.files import atomic_path


def class_rows(n, num_classes):
    """Labels for a grid of n images with one row per class, and its column
    count: class c fills row c (`ceil(n / num_classes)` columns)."""
    cols = math.ceil(n / num_classes)
    return np.repeat(np.arange(num_classes, dtype=np.int32), cols)[:n], cols


def make_grid(images, cols=None, pad=2):
    """[n, h, w, 1] floats in [0, 1] -> one uint8 [H, W] grid image.

    Cells are separated by `pad` black pixels; `cols` defaults to a square.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 1:
        raise ValueError(f"expected images [n, h, w, 1], got shape {images.shape}.")
    n, h, w, _ = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad), np.uint8)
    pixels = np.round(np.clip(images[..., 0], 0.0, 1.0) * 255).astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


def load_grid_png(path, scale=2):
    """The uint8 grid of `make_grid` back from a PNG that `save_grid_png` wrote."""
    from PIL import Image

    with Image.open(path) as png:
        return np.asarray(png.convert("L"))[::scale, ::scale].copy()


def save_figure_png(fig, path, dpi=100):
    """Write a matplotlib figure as PNG (atomically) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
    return path


def save_grid_png(path, images, cols=None, scale=2):
    """Write `images` (in [0, 1]) as a grid PNG, enlarged `scale` times."""
    from PIL import Image

    grid = Image.fromarray(make_grid(images, cols))  # 2-D uint8: mode "L"
    if scale > 1:
        grid = grid.resize((grid.width * scale, grid.height * scale), Image.NEAREST)
    with atomic_path(path) as tmp:
        grid.save(tmp, format="PNG")
    return path
