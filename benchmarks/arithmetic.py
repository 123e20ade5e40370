"""The arithmetic a GAN step does, and the machine's matmul peak it is judged against.

FLOPs count multiply-adds as 2 and backward as 2x forward, over the Dense,
Conv2D and Conv2DTranspose layers only (the rest is elementwise, a few
percent). `flops_per_image` gives one step's FLOPs per real image for
Algorithm 1 (ours and K) and for T's shared forward pass;
`matmul_peak_gflops` is the yardstick: what an n x n float32 `tf.matmul`
reaches here. benchmarks/versus_references.py and benchmarks/passes.py turn
images/s and milliseconds into GFLOP/s and shares of that peak with them.
TensorFlow and Keras are imported only when a function needs them.
"""

import functools
import statistics
import time

MATMUL_SIZE, MATMUL_REPEATS = 2048, 5


def forward_flops(model):
    """Multiply-add FLOPs (2 per multiply-add) of one example's forward pass
    through the Dense, Conv2D and Conv2DTranspose layers of `model`.

    BatchNorm, activations and bias adds are left out: they are elementwise,
    a few percent of these. A layer with a kernel of another kind is an
    error rather than a silent undercount.
    """
    return sum(layer_forward_flops(layer) for layer in model.layers)


def layer_forward_flops(layer):
    """One example's forward FLOPs through one layer of a built model (0 without a kernel)."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Every input pixel scatters a kh x kw x c_out patch.
        kh, kw, c_out, c_in = layer.kernel.shape
        h, w = layer.input.shape[1:3]
        return 2 * kh * kw * c_in * c_out * h * w
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw, c_in, c_out = layer.kernel.shape
        h, w = layer.output.shape[1:3]
        return 2 * kh * kw * c_in * c_out * h * w
    if getattr(layer, "kernel", None) is not None:
        raise ValueError(f"forward_flops: no FLOP rule for {type(layer).__name__}.")
    return 0


def flops_per_image(family, k=1):
    """FLOPs per real image of one step, with backward = 2x forward.

    Algorithm 1 (ours, and K, which makes the same passes for k = 1), per m
    images: each of the k D updates runs G forward on m (G) and D forward and
    backward on m real + m fake (6 D); the G update runs G and D forward and
    backward on m (3 G + 3 D). Per real image (k m of them):
        G + 6 D + (3 G + 3 D) / k,  i.e. 4 G + 9 D for k = 1.
    T's shared forward pass: G forward and backward (3 G), D forward on 2 m
    (2 D), D backward for D's tape on 2 m (4 D) and for G's tape on m (2 D):
        3 G + 8 D.
    With G, D the forward FLOPs per example, conv: G 10.18 M, D 3.25 M ->
    69.95 M (T: 56.5 M); MLP: G 1.14 M, D 1.13 M -> 14.73 M (T: 12.5 M), the
    figures measured for docs/performance.md.
    """
    g, d = family_forward_flops(family)
    return {"algorithm_1": g + 6 * d + (3 * g + 3 * d) / k, "tutorial": 3 * g + 8 * d}


@functools.lru_cache(maxsize=None)
def family_forward_flops(family):
    """(G, D): forward FLOPs per example of the family's two networks."""
    from keras_gan.model.networks import build_models

    generator, discriminator = build_models(family)
    return forward_flops(generator), forward_flops(discriminator)


def matmul_peak_gflops(n=MATMUL_SIZE, repeats=MATMUL_REPEATS):
    """Median GFLOP/s of an n x n float32 `tf.matmul`: what this machine's
    dense kernels reach, the yardstick for the models' arithmetic."""
    import tensorflow as tf

    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    float(tf.matmul(a, b)[0, 0])  # warm-up: thread pools, kernel choice
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        float(tf.matmul(a, b)[0, 0])
        rates.append(2 * n**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)
