"""The GAN of this project on 1-D data, where the paper's theory can be checked
against exact densities: Figure 1, the optimal discriminator D* (Proposition 1),
C(G) = -log 4 + 2 JSD (Theorem 1), and the gradient of the two generator losses.

- `densities`: known 1-D densities, D*, KL, JSD and C(G) on a grid (NumPy);
- `game`: small 1-D models and training loops around `keras_gan.model.gan.GAN`;
- `experiments`: the runs behind each figure; `figures`: the plots;
- `report`: all of them, and the numbers block of docs/theory.md.

`python -m keras_gan.toy` regenerates everything.
"""
