"""Train a few steps under MirroredStrategy on 2 logical CPUs, then export.

Run by tests/test_export.py in its own process: logical devices must be set
before TensorFlow initialises, which the test process has long done.
Usage: python mirrored_export_job.py FAMILY EXPORT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_gan.common.lean_start import unused_imports_refused  # noqa: E402

with unused_imports_refused():  # as the programs start Keras
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import numpy as np

    from keras_gan import GAN, build_models
    from keras_gan.data import make_dataset
    from keras_gan.outputs.saved_model import export_generator

family, export_dir = sys.argv[1:]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    gan = GAN(*build_models(family), k=2, seed=1)
    gan.compile()
images = np.random.default_rng(0).integers(0, 256, (256, 28, 28, 1), np.uint8)
gan.fit(make_dataset(images, 16, k=2, seed=0), epochs=1, verbose=0, shuffle=False)
assert strategy.num_replicas_in_sync == 2
assert gan.g_optimizer.iterations.numpy() == 8 and gan.d_optimizer.iterations.numpy() == 16
path = export_generator(gan.generator, export_dir)
np.save(os.path.join(export_dir, "expected.npy"), gan.generate(3, seed=1))
print("exported", path)
