"""The evaluation classifier: a small CNN the project trains itself.

Inception-based FID needs weights downloaded at run time, which these
machines cannot do; like TF-GAN's MNIST examples, the project trains its own
classifier on the real training images in use and measures samples in its
feature space (the 128 units before the softmax). It is stored once, beside
a record of what it was trained on and how accurate it is on the reference
images, and retrained when the training data change (a SHA-256 of the
images, labels and this file's architecture version).
"""

import hashlib
import json
import os
import time

import numpy as np

from keras_gan.common.files import atomic_path

ARCHITECTURE = "cnn-bn-24-24-48-48-128/v4"  # change it when build() or train() changes
FEATURES_LAYER = "features"
MODEL_FILE, RECORD_FILE = "classifier.keras", "classifier.json"
EPOCHS, BATCH_SIZE, SEED = 12, 128, 0
# BatchNorm's moving statistics follow the batches ten times faster than
# Keras' default (0.99): with 0.99 the model in inference mode was at chance
# until the learning rate had decayed (20 epochs for 98.5%); with 0.9 it is
# at 98% from about the 8th epoch (benchmarks/classifier.py, docs/evaluation.md).
BN_MOMENTUM = 0.9
# Filters of the two conv blocks. (24, 48) trained in 32 s against 55 for
# (32, 64) here (0.58-0.82 of the time across the benchmark's rows), at the
# same held-out accuracy; (16, 32) fell below 98% in a one-off run
# (benchmarks/classifier.py --widths, docs/evaluation.md).
WIDTHS = (24, 48)
# Images per forward pass when measuring. Eager passes of 1,000 raised a
# training run's peak memory by 0.9 GB (the activations of every layer at
# once); 200 cost a few percent more time and a fifth of the memory.
INFERENCE_BATCH = 200


def build(classes=10, widths=WIDTHS):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")  # pixels in [0, 1]
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=SEED)(inputs)
    for filters in widths:
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    x = layers.Dropout(0.3, seed=SEED)(x)
    outputs = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="evaluation_classifier")


def fingerprint(images, labels):
    digest = hashlib.sha256(ARCHITECTURE.encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def to_unit(images):
    """uint8 [0, 255] or floats in [0, 1] -> float32 [0, 1] with a channel axis."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    return images.reshape((-1, 28, 28, 1))


class Classifier:
    """A trained classifier with its record; `features` and `probabilities`."""

    def __init__(self, model, record):
        import keras

        self.model = model
        self.record = record
        # One forward pass gives both: the features and the class probabilities.
        # It starts after the RandomTranslation (the identity at inference),
        # which Keras may not compile with XLA: so on JAX the function that
        # measures images is jitted, not run op by op (10,000 images in about
        # half the CPU time on the developers' VM, 2026-12-05, a one-off
        # timing in docs/testing.md); on TensorFlow and PyTorch it runs as
        # before, to the bit.
        augmentation, = (layer for layer in model.layers if isinstance(layer, keras.layers.RandomTranslation))
        after_augmentation = augmentation.output
        self.both = keras.Model(after_augmentation, [model.get_layer(FEATURES_LAYER).output, model.output])
        self._real = None  # (the EvaluationData, what real_features measured on it)

    def features_and_probabilities(self, images, batch_size=INFERENCE_BATCH):
        # predict_on_batch runs Keras' compiled predict function (inference
        # mode): for 10,000 images on the developers' VM 2.5 s against 3.5 s
        # called eagerly on TensorFlow, 2.5 against 5.9 on PyTorch, the same
        # on JAX (a one-off timing there, 2026-12-04, not a benchmark script).
        images = to_unit(images)
        parts = [self.both.predict_on_batch(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        return tuple(np.concatenate([p[j] for p in parts]) for j in (0, 1))

    def features(self, images):
        return self.features_and_probabilities(images)[0]

    def real_features(self, data):
        """(reference features, reference probabilities, training features) of
        `data`'s real images (an EvaluationData), measured once and kept for
        the same `data`: a run's per-epoch evaluation needs them, and so does
        the evaluation after training (for full MNIST 70,000 images, about
        45 s on one core of the developers' VM)."""
        if self._real is None or self._real[0] is not data:
            measured = (*self.features_and_probabilities(data.reference_images), self.features(data.train_images))
            for array in measured:
                array.setflags(write=False)  # shared by every caller
            self._real = (data, measured)
        return self._real[1]

    def probabilities(self, images):
        return self.features_and_probabilities(images)[1]

    def accuracy(self, images, labels):
        return float(np.mean(self.probabilities(images).argmax(1) == np.asarray(labels)))


def fit(model, train_images, train_labels, epochs=EPOCHS, callbacks=()):
    """Trains `model` (from build()) with the recipe: Adam, cosine decay to 0
    over the run (benchmarks/classifier.py shows the held-out accuracy it
    gives epoch by epoch, for this and other BatchNorm momenta)."""
    import keras

    steps = epochs * -(-len(train_images) // BATCH_SIZE)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(to_unit(train_images), np.asarray(train_labels), batch_size=BATCH_SIZE,
                     epochs=epochs, verbose=0, shuffle=True, callbacks=list(callbacks))


def train(train_images, train_labels, test_images, test_labels, description, epochs=EPOCHS):
    """A freshly trained Classifier (fixed seed) with its record."""
    import keras

    keras.utils.set_random_seed(SEED)
    model = build()
    fit(model, train_images, train_labels, epochs)
    classifier = Classifier(model, {})
    classifier.record = {
        "architecture": ARCHITECTURE,
        "fingerprint": fingerprint(train_images, train_labels),
        "trained_on": description,
        "train_images": int(len(train_images)),
        "epochs": epochs,
        "test_images": int(len(test_images)),
        "test_accuracy": classifier.accuracy(test_images, test_labels),
    }
    return classifier


def load_or_train(folder, train_images, train_labels, test_images, test_labels, description,
                  retrain=False, log=print):
    """The classifier stored in `folder` if it was trained on these images,
    else a new one, trained and stored there (atomically)."""
    import keras

    wanted = fingerprint(train_images, train_labels)
    record_path, model_path = os.path.join(folder, RECORD_FILE), os.path.join(folder, MODEL_FILE)
    if not retrain and os.path.isfile(record_path) and os.path.isfile(model_path):
        with open(record_path) as f:
            record = json.load(f)
        if record.get("fingerprint") == wanted:
            return Classifier(keras.saving.load_model(model_path), record)
        log(f"evaluation classifier: the data changed since {record_path} was written; retraining")
    else:
        log("evaluation classifier: training (once per data set)")
    start = time.monotonic()
    classifier = train(train_images, train_labels, test_images, test_labels, description)
    # Said at once: on a first run this is most of the wait before training starts.
    log(f"evaluation classifier: trained in {time.monotonic() - start:.0f} s, "
        f"{classifier.record['test_accuracy']:.1%} right on the {len(test_images):,} reference images")
    os.makedirs(folder, exist_ok=True)
    with atomic_path(model_path) as tmp:
        classifier.model.save(tmp)
    with atomic_path(record_path) as tmp:
        with open(tmp, "w") as f:
            json.dump(classifier.record, f, indent=2)
    return classifier
