"""One worker of a 2-worker MultiWorkerMirroredStrategy cluster (TF_CONFIG set
by tests/test_multi_worker.py): distribute make_dataset's pipeline the way
Keras' fit does and record which images this worker received in one epoch.
Usage: python shard_job.py OUT.json
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from keras_gan.common.lean_start import unused_imports_refused  # noqa: E402

with unused_imports_refused():  # as the programs start Keras
    import tensorflow as tf

    from keras_gan.data import make_dataset

strategy = tf.distribute.MultiWorkerMirroredStrategy()
images = np.zeros((48, 28, 28, 1), np.uint8)
images[:, 0, 0, 0] = np.arange(48)  # each image carries its index
dataset = make_dataset(images, batch_size=8, k=1, seed=0)  # 6 global batches
seen = []
for batch in strategy.experimental_distribute_dataset(dataset):
    for local in strategy.experimental_local_results(batch):
        seen.append(np.round((local.numpy()[:, 0, 0, 0] + 1.0) * 127.5).astype(int).tolist())
with open(sys.argv[1], "w") as f:
    json.dump(seen, f)
