"""A cheap evaluation during training: TensorBoard `eval/*` and a warning on collapse.

2,000 samples (fixed noise, so epochs are comparable; fewer with train.py's
--eval-samples) every `every` epochs and after the last one, in the
evaluation classifier's feature space: the Fréchet distance to the reference
images and its ratio to the real-vs-real floor, precision and recall
(1,000 images each), the number of classes with at least 5% of the samples,
and KL(class histogram || uniform); for a conditional GAN (its samples in
equal shares per class), also `class_accuracy`, the share of samples the
classifier reads as the class asked for. When the classes covered drop below
`min_modes`, one WARNING line says so (again only after it recovered).
"""

import os
import sys
import time

import keras
import numpy as np

from keras_gan.evaluation import metrics
from keras_gan.model.gan import to_unit_range, with_labels
from keras_gan.common.layout import TENSORBOARD_DIR
from keras_gan.common.options import MIN_EVALUATION_SAMPLES as PRDC_IMAGES
from keras_gan.common.options import PER_EPOCH_EVALUATION_SAMPLES as SAMPLES


class QualityMonitor(keras.callbacks.Callback):
    def __init__(self, run_dir, classifier, data, seed=0, min_modes=8, samples=SAMPLES, every=1):
        super().__init__()
        self.run_dir, self.classifier, self.seed, self.every = run_dir, classifier, seed, every
        self.min_modes, self.samples = min_modes, samples
        self.reference, _, train_features = classifier.real_features(data)
        self.floor = metrics.frechet_distance(train_features, self.reference)
        rng = np.random.default_rng(seed)
        self.reference_prdc = self.reference[rng.permutation(len(self.reference))[:PRDC_IMAGES]]
        self.collapsed = False
        self.last = None
        self.seconds_measuring = 0.0  # what the evaluation cost the run (train.py's phases)

    def on_train_begin(self, logs=None):
        from keras_gan.training.summaries import create_writer

        self.writer = create_writer(os.path.join(self.run_dir, TENSORBOARD_DIR))
        self.z = self.model.latent_vectors(self.samples, seed=self.seed + 20_000)
        self.labels = self.model.check_labels(None, self.samples)  # None unless conditional

    def measure(self):
        generator = self.model.sampling_generator()
        images = np.concatenate([
            keras.ops.convert_to_numpy(to_unit_range(generator(with_labels(
                self.z[i:i + 500], None if self.labels is None else self.labels[i:i + 500]
            ), training=False)))
            for i in range(0, self.samples, 500)
        ])
        fake, probabilities = self.classifier.features_and_probabilities(images)
        fd = metrics.frechet_distance(fake, self.reference)
        prdc = metrics.precision_recall_density_coverage(self.reference_prdc, fake[:PRDC_IMAGES])
        modes = metrics.mode_statistics(probabilities)
        extra = {}
        if self.labels is not None:
            extra["class_accuracy"] = metrics.class_accuracy(probabilities, self.labels)["class_accuracy"]
        return {
            **extra,
            "frechet_distance": fd,
            "frechet_ratio_to_real": fd / self.floor if self.floor > 0 else float("nan"),
            "precision": prdc["precision"],
            "recall": prdc["recall"],
            "modes": float(modes["modes"]),
            "kl_to_uniform": modes["kl_to_uniform"],
            "recognisable": metrics.recognisable_share(probabilities),
        }

    def on_epoch_end(self, epoch, logs=None):
        last_epoch = epoch + 1 == (self.params or {}).get("epochs")
        if (epoch + 1) % self.every and not last_epoch:
            return
        start = time.monotonic()
        self.last = self.measure()
        self.seconds_measuring += time.monotonic() - start
        for name, value in self.last.items():
            self.writer.scalar(f"eval/{name}", value, epoch)
        self.writer.flush()
        collapsed = self.last["modes"] < self.min_modes
        if collapsed and not self.collapsed:
            print(f"WARNING: epoch {epoch + 1}: the generator's samples cover only "
                  f"{int(self.last['modes'])} of 10 classes at >= 5% (mode collapse?); "
                  "see docs/algorithm.md", file=sys.stderr, flush=True)
        self.collapsed = collapsed

    def on_train_end(self, logs=None):
        self.writer.close()
