"""Measuring what a GAN learned, offline: a classifier of its own, and metrics in its space.

- `classifier`: the small CNN trained on the real training images in use,
  stored with a record of its data and accuracy, retrained when they change;
- `reference`: which real images samples are compared with;
- `metrics`: Fréchet distance, KID, precision/recall/density/coverage, mode
  statistics and the classifier score, nearest-neighbour distances;
- `parzen`: the Parzen-window log-likelihood of Goodfellow et al. (2014);
- `report`: all of them for one set of samples (`python -m keras_gan.evaluate`).
"""
