"""Differentiable augmentation of the discriminator's inputs (DiffAugment).

Zhao et al. (2020), "Differentiable Augmentation for Data-Efficient GAN
Training": with few real images, D memorises them and its feedback to G
turns to noise. Showing D randomly transformed images -- real *and* fake, in
D's update *and* in G's -- keeps D from memorising, and because every
transform is differentiable, G's gradient flows back through it. Since D only
ever sees augmented images of both kinds, G is still pulled towards the
un-augmented data distribution (the transforms below do not leak: G gains
nothing by producing shifted or holed digits, which would be shifted and
holed once more).

Two of the paper's three policies (its "color" policy is for RGB images):

- translation: shift each image by up to 1/8 of its size in each direction
  (int(28 / 8 + 0.5) = 4 pixels on 28x28, rounded as in the paper's code),
  filling with zeros;
- cutout: zero a square of half the image's side (14x14) at a random place
  (partly outside the image near the borders), as in the paper's code.

Images are in [-1, 1], so the fill value 0 is mid-grey, as in the paper.
Everything is `keras.ops`: the same code serves every backend.
"""

import keras
from keras import ops


def translation_shifts(n, seed, image_shape, ratio=0.125):
    """[n, 2] int32 shifts (dy, dx), each uniform in -pad..pad."""
    pad = _scaled_size(image_shape, ratio)
    return ops.concatenate(
        [keras.random.randint((n, 1), -pad[i], pad[i] + 1, seed=seed) for i in (0, 1)], axis=1)


def _scaled_size(image_shape, ratio):
    """(height, width) times `ratio`, rounded as the paper's code rounds."""
    return int(image_shape[0] * ratio + 0.5), int(image_shape[1] * ratio + 0.5)


def translate(images, shifts, ratio=0.125):
    """Shift image b by shifts[b] = (dy, dx) pixels, filling with zeros."""
    height, width = images.shape[1], images.shape[2]
    pad_y, pad_x = _scaled_size((height, width), ratio)
    padded = ops.pad(images, ((0, 0), (pad_y, pad_y), (pad_x, pad_x), (0, 0)))
    # A per-image crop as two one-hot selections: rows[b, i] picks padded row
    # i + pad - dy[b]. Differentiable, and the same ops on every backend.
    rows = ops.one_hot(ops.arange(height)[None, :] + pad_y - shifts[:, :1], height + 2 * pad_y)
    cols = ops.one_hot(ops.arange(width)[None, :] + pad_x - shifts[:, 1:], width + 2 * pad_x)
    rows, cols = ops.cast(rows, images.dtype), ops.cast(cols, images.dtype)
    return ops.einsum("bip,bpqc,bjq->bijc", rows, padded, cols)


def cutout_corners(n, seed, image_shape, ratio=0.5):
    """[n, 2] int32 top-left corners (y, x) of the holes, as in the paper's
    code: offset - size // 2 with the offset uniform over the image, so holes
    may hang over the border."""
    size = _scaled_size(image_shape, ratio)
    corners = [
        keras.random.randint((n, 1), 0, image_shape[i] + 1 - size[i] % 2, seed=seed) - size[i] // 2
        for i in (0, 1)
    ]
    return ops.concatenate(corners, axis=1)


def cutout(images, corners, ratio=0.5):
    """Zero a (ratio * size)-sided square at corners[b] in image b."""
    height, width = images.shape[1], images.shape[2]
    size_y, size_x = _scaled_size((height, width), ratio)
    row, col = ops.arange(height)[None, :], ops.arange(width)[None, :]
    inside_y = ops.logical_and(row >= corners[:, :1], row < corners[:, :1] + size_y)
    inside_x = ops.logical_and(col >= corners[:, 1:], col < corners[:, 1:] + size_x)
    hole = ops.logical_and(inside_y[:, :, None], inside_x[:, None, :])
    keep = ops.cast(ops.logical_not(hole), images.dtype)
    return images * keep[:, :, :, None]


_TRANSFORMS = {
    "translation": (translation_shifts, translate),
    "cutout": (cutout_corners, cutout),
}


def draw_parameters(policy, n, seed, image_shape):
    """The random parameters of `policy` for n images: a list, one [n, 2]
    int32 tensor per transform. Drawn apart from the images so that a caller
    can draw for a global batch and keep its own slice (see GAN.train_step)."""
    return [_TRANSFORMS[name][0](n, seed, image_shape) for name in policy]


def augment(images, policy, parameters):
    """Apply each transform of `policy`, in order, with its parameters."""
    for name, params in zip(policy, parameters):
        images = _TRANSFORMS[name][1](images, params)
    return images
