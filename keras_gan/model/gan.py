"""The GAN model: Algorithm 1 of Goodfellow et al. (2014) as a `keras.Model`.

    for number of training iterations do
        for k steps do
            sample m noise samples z ~ p(z) and m examples x ~ p_data
            update D by ascending  1/m sum [log D(x) + log(1 - D(G(z)))]
        end for
        sample m noise samples z ~ p(z)
        update G by descending 1/m sum log(1 - D(G(z)))        ("minimax")
            or, as the paper recommends in practice,
                 ascending 1/m sum log D(G(z))                  ("non_saturating")
    end for

One call of `train_step` is one iteration of the outer loop, so `model.fit` is
the training loop. Each step's input batch holds k * m real images: the k
discriminator updates each get their own m of them (see `split_real_batches`).

Conditional (`num_classes`, Mirza & Osindero 2014): G and D also take the
class label y, and the game is played per class, D(x | y) and G(z | y). Each
D update's fakes get the labels of the reals beside them (so y ~ p_data(y) on
both sides), G's update draws uniform labels; the batch holds (images, labels).
"""

import keras
from keras import ops

from keras_gan.model import augment as diffaugment
from keras_gan.model import backends
from keras_gan.model import losses
from keras_gan.common.options import (
    DEFAULT_BETA_1, DEFAULT_LEARNING_RATE, balanced_labels, parse_augmentation,
)


def default_optimizer(
    learning_rate=DEFAULT_LEARNING_RATE, beta_1=DEFAULT_BETA_1, name="adam", ema=None,
    loss_scale=False,
):
    """Adam(2e-4, beta_1=0.5): the DCGAN settings, stable for both families.

    `ema`: keep an exponential moving average of the weights with this decay
    (Keras' `use_ema`); for G's optimizer, `GAN.sampling_generator` samples
    from the averaged weights.
    `loss_scale`: wrap it in a dynamic `LossScaleOptimizer`, for float16
    mixed precision (Keras only does so itself for `model.optimizer`, which
    a GAN does not use). A step whose scaled gradients overflow is skipped
    and the scale halved; the optimizer's `iterations` then do not advance.
    """
    extra = {} if ema is None else {"use_ema": True, "ema_momentum": ema}
    adam = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, name=name, **extra)
    if not loss_scale:
        return adam
    return keras.optimizers.LossScaleOptimizer(adam, name=f"{name}_loss_scale")


def inner_optimizer(optimizer):
    """The optimizer that holds the state: itself, or the one a LossScaleOptimizer wraps."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def to_unit_range(images):
    """Map generator output from [-1, 1] (tanh) to [0, 1] pixel intensities."""
    return ops.clip((images + 1.0) / 2.0, 0.0, 1.0)


def split_real_batches(real_images, k):
    """[k*m, H, W, C] -> [m, k, H, W, C]: column i is the i-th D update's batch.

    Grouping k *consecutive* images per row (rather than k contiguous blocks)
    keeps the split correct when tf.distribute hands each replica a contiguous
    slice of the global batch: every replica then holds whole rows, and the
    union over replicas of column i is exactly column i of the global batch.
    The labels of a conditional GAN are split the same way; None stays None.
    """
    if real_images is None:
        return None
    return ops.reshape(real_images, (-1, k) + tuple(real_images.shape[1:]))


def column(batches, i):
    """Column i of `split_real_batches`' output (None for no labels)."""
    return None if batches is None else batches[:, i]


def with_labels(inputs, labels):
    """A model's input: `inputs` alone, or with the labels of a conditional GAN
    (both as tensors: Keras refuses a NumPy array beside a tensor)."""
    if labels is None:
        return inputs
    return [ops.convert_to_tensor(inputs), ops.convert_to_tensor(labels, "int32")]


@keras.saving.register_keras_serializable(package="keras_gan")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    Args:
        generator: a model z [batch, latent_dim] -> samples. For the image
            models, images in [-1, 1]; any shape works (docs/theory.md trains
            this class on 1-D data, [batch, 1]).
        discriminator: a model samples -> one logit per sample.
        k: discriminator updates per generator update (the paper's k, >= 1).
        generator_loss: "non_saturating" (default, -log D(G(z))) or
            "minimax" (log(1 - D(G(z))), the paper's value function).
        label_smoothing: one-sided label smoothing for the real targets of D,
            in [0, 1).
        augmentation: DiffAugment transforms applied to every image D sees,
            real and fake, in both players' updates: a tuple or a
            comma-separated string of "translation", "cutout" (keras_gan/model/augment.py);
            () or "none" for none (the paper).
        r1_gamma: weight of the R1 penalty (gamma / 2) E_x ||grad_x D(x)||^2
            on D's logit at real images (Mescheder et al. 2018); 0: none.
        r1_interval: lazy R1 (Karras et al. 2020): the penalty on every
            r1_interval-th discriminator update only (the 1st, the
            (1 + r1_interval)-th, ...), weighted by r1_interval, so that it
            weighs the same on average and its double backward pass is paid
            once per r1_interval updates; 1 (default): on every update.
        num_classes: None (the paper), or the number of classes of a
            conditional GAN: then G takes [z, labels], D [images, labels]
            (`build_models(..., num_classes=...)`), and `fit` gets (images,
            labels) pairs.
        seed: seed of the noise stream used in training (None: random).

    Calling the model, `gan(z)` (conditional: `gan([z, labels])`), runs the
    generator; `gan.generate(n)` returns images in [0, 1].
    """

    def __init__(
        self,
        generator,
        discriminator,
        k=1,
        generator_loss="non_saturating",
        label_smoothing=0.0,
        augmentation=(),
        r1_gamma=0.0,
        r1_interval=1,
        num_classes=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}.")
        if generator_loss not in losses.GENERATOR_LOSSES:
            raise ValueError(
                f"generator_loss must be one of {losses.GENERATOR_LOSSES}, "
                f"got {generator_loss!r}."
            )
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                f"label_smoothing must be in [0, 1), got {label_smoothing!r}."
            )
        augmentation = parse_augmentation(  # ValueError naming an unknown transform
            augmentation if isinstance(augmentation, str) else ",".join(augmentation)
        )
        if not r1_gamma >= 0.0:
            raise ValueError(f"r1_gamma must be >= 0, got {r1_gamma!r}.")
        if isinstance(r1_interval, bool) or not isinstance(r1_interval, int) or r1_interval < 1:
            raise ValueError(f"r1_interval must be an integer >= 1, got {r1_interval!r}.")
        _check_conditioning(generator, discriminator, num_classes)
        self.generator = generator
        self.discriminator = discriminator
        self.num_classes = num_classes
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.k = k
        self.generator_loss = generator_loss
        self.label_smoothing = float(label_smoothing)
        self.augmentation = augmentation
        self.r1_gamma = float(r1_gamma)
        self.r1_interval = r1_interval
        self.seed = seed
        # Set around Keras' attribute tracking: the copy is derived from the
        # optimizer's averages, not part of the saved model.
        object.__setattr__(self, "_averaged_generator", None)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        # Not in `metrics`: never reset, never logged; read by the NaN guard.
        self.first_nonfinite_step = FirstNonFiniteStep(name="first_nonfinite_step")
        # Both sub-models are already built; saying so lets fit run under a
        # distribution strategy and lets checkpoints restore eagerly.
        self.built = True

    # ------------------------------------------------------------------ compile
    def compile(self, d_optimizer=None, g_optimizer=None, fused_steps=1, **kwargs):
        """Attach one optimizer per player (default: Adam(2e-4, beta_1=0.5)).

        `fused_steps` (JAX only): S > 1 trains S steps per call in one
        `jax.lax.scan`; each batch `fit` gets then holds S steps' images (and
        labels), and `fit` counts one step per S. Other keyword arguments
        (`jit_compile`, `steps_per_execution`, ...) go to
        `keras.Model.compile`. There is no `loss` argument: the losses are
        fixed by the constructor.
        """
        if isinstance(fused_steps, bool) or not isinstance(fused_steps, int) or fused_steps < 1:
            raise ValueError(f"fused_steps must be an integer >= 1, got {fused_steps!r}.")
        if fused_steps > 1 and backends.BACKEND != "jax":
            raise ValueError(f"fused_steps={fused_steps} needs the JAX backend (jax.lax.scan); "
                             f"Keras runs on {backends.BACKEND}: use steps_per_execution.")
        self.fused_steps = fused_steps
        d_optimizer = keras.optimizers.get(
            d_optimizer or default_optimizer(name="d_optimizer")
        )
        g_optimizer = keras.optimizers.get(
            g_optimizer or default_optimizer(name="g_optimizer")
        )
        if d_optimizer is g_optimizer:
            raise ValueError(
                "d_optimizer and g_optimizer must be two different optimizer "
                "instances: each keeps its own state for its own variables."
            )
        # optimizer=None: otherwise Keras creates an unused RMSprop that
        # checkpoints and TensorBoard would then pick up.
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        joint = backends.optimizer_state([d_optimizer, g_optimizer])
        if joint is not None:  # JAX: fit threads `optimizer.variables` through the step
            self.optimizer = joint
        # Build the slots now (not lazily on the first step): under a
        # distribution strategy they must be created in the strategy scope.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
        }

    def compile_from_config(self, config):
        # keras.optimizers.deserialize, not deserialize_keras_object: the file
        # names the saving backend's own class (e.g. keras.src.backend.torch.
        # optimizers.torch_adam), and Keras' optimizers are looked up by name
        # here, so a file saved on one backend compiles on another.
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config["d_optimizer"]),
            g_optimizer=keras.optimizers.deserialize(config["g_optimizer"]),
        )

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]

    @property
    def metrics_variables(self):
        # JAX's fit threads these through the step; the NaN guard's record is state too.
        return super().metrics_variables + self.first_nonfinite_step.variables

    # ------------------------------------------------------------- Algorithm 1
    @backends.stateful_step  # JAX: (state, data) -> (logs, state); as it is elsewhere
    def train_step(self, data):
        real_images, real_labels = self.images_and_labels(data)  # labels: None unless conditional
        real_batches = split_real_batches(real_images, self.k)
        label_batches = split_real_batches(real_labels, self.k)
        batch_size = ops.shape(real_batches)[0]
        d_losses = [
            self.discriminator_step(real_batches[:, i], batch_size, column(label_batches, i))
            for i in range(self.k)
        ]
        g_loss = self.generator_step(batch_size)
        self.first_nonfinite_step.update_state(d_losses, g_loss, self.g_optimizer.iterations)
        return self._logs()

    def images_and_labels(self, data):
        """(images, labels) of a training batch; labels None unless conditional."""
        if self.num_classes is None:
            return (data[0] if isinstance(data, (tuple, list)) else data), None
        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError("A conditional GAN trains on (images, labels) pairs; got images alone.")
        return data[0], ops.cast(data[1], "int32")

    def _logs(self):
        logs = {m.name: m.result() for m in self.metrics}
        if backends.multi_worker():
            # Keras averages multi-worker logs with reduce(MEAN, axis=0), which
            # needs an axis 0 (tensorflow/tensorflow#72388): give them one.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def discriminator_step(self, real_images, batch_size, labels=None):
        """One update of D: descend -V(D, G) on m real and m fresh fake images
        (conditional: fakes of the same classes as the reals, `labels`)."""
        # D's update needs no gradient through G, and G's weights must not change here.
        fake_images = ops.stop_gradient(
            self.generator(with_labels(self.sample_z(batch_size), labels), training=True)
        )
        real_images = self.augment(real_images, batch_size)
        fake_images = self.augment(fake_images, batch_size)

        def loss():
            real_logits, penalty = self.real_logits_and_penalty(real_images, labels)
            fake_logits = self.discriminator(with_labels(fake_images, labels), training=True)
            d_loss = ops.mean(losses.discriminator_loss(real_logits, fake_logits, self.label_smoothing))
            # scale_loss: the float16 loss scale (docs/algorithm.md), else the loss as it is.
            replica_loss = self.d_optimizer.scale_loss((d_loss + penalty) / backends.replicas_in_sync())
            return replica_loss, (d_loss, real_logits, fake_logits)

        # keras_gan/model/backends: a GradientTape, autograd or jax.value_and_grad, then the optimizer
        d_loss, real_logits, fake_logits = backends.minimize(
            self.d_optimizer, self.discriminator.trainable_variables, loss
        )
        self.d_loss_tracker.update_state(d_loss)
        self.d_real_tracker.update_state(ops.sigmoid(ops.cast(real_logits, "float32")))
        self.d_fake_tracker.update_state(ops.sigmoid(ops.cast(fake_logits, "float32")))
        return d_loss

    def real_logits_and_penalty(self, real_images, labels=None):
        """D's logits at real images, and the R1 penalty (0 without it):
        (gamma / 2) mean ||grad_x logit(x)||^2 (the labels held fixed),
        times r1_interval on the updates it is due, 0 on the others."""

        def plain():
            return self.discriminator(with_labels(real_images, labels), training=True), ops.zeros((), "float32")

        def penalised():
            # Each logit depends on its own image only, so the gradient of
            # their sum holds every image's own gradient.
            real_logits, gradients = backends.input_gradient(
                lambda x: self.discriminator(with_labels(x, labels), training=True), real_images
            )
            squared_norms = ops.sum(ops.square(ops.cast(gradients, "float32")), axis=(1, 2, 3))
            return real_logits, 0.5 * self.r1_gamma * self.r1_interval * ops.mean(squared_norms)

        if self.r1_gamma == 0.0:
            return self.discriminator(with_labels(real_images, labels), training=True), 0.0
        if self.r1_interval == 1:
            return penalised()
        due = ops.equal(self.d_optimizer.iterations % self.r1_interval, 0)
        return backends.penalty_when(due, penalised, plain)

    def generator_step(self, batch_size):
        """One update of G on m fresh noise samples; D is used, not updated."""
        labels = self.sample_labels(batch_size)  # None unless conditional

        def loss():
            fake_images = self.generator(with_labels(self.sample_z(batch_size), labels), training=True)
            fake_logits = self.discriminator(
                with_labels(self.augment(fake_images, batch_size), labels), training=True
            )
            g_loss = ops.mean(losses.generator_loss(fake_logits, self.generator_loss))
            return self.g_optimizer.scale_loss(g_loss / backends.replicas_in_sync()), g_loss

        g_loss = backends.minimize(self.g_optimizer, self.generator.trainable_variables, loss)
        self.g_loss_tracker.update_state(g_loss)
        return g_loss

    def augment(self, images, n):
        """`images` with this GAN's DiffAugment transforms applied (or as they are)."""
        if not self.augmentation:
            return images
        replicas = backends.replicas_in_sync()
        image_shape = tuple(images.shape[1:3])
        parameters = diffaugment.draw_parameters(
            self.augmentation, n * replicas, self.seed_generator, image_shape
        )
        parameters = [backends.replica_slice(p, n) for p in parameters]
        return diffaugment.augment(images, self.augmentation, parameters)

    def sample_z(self, n):
        """n latent vectors z ~ N(0, I) from the model's training noise stream.

        Under tf.distribute every replica holds the same seed state, so a plain
        draw would be the same on every replica. Each draws the noise of the
        whole global batch and keeps its own slice: replicas get different
        noise, and N replicas exactly what one device would draw.
        """
        z = keras.random.normal((n * backends.replicas_in_sync(), self.latent_dim), seed=self.seed_generator)
        return backends.replica_slice(z, n)

    def sample_labels(self, n):
        """n labels drawn uniformly from the classes (None unless conditional),
        sliced per replica like `sample_z`."""
        if self.num_classes is None:
            return None
        labels = keras.random.randint(
            (n * backends.replicas_in_sync(),), 0, self.num_classes, seed=self.seed_generator, dtype="int32"
        )
        return backends.replica_slice(labels, n)

    # -------------------------------------------------------------- generation
    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def latent_vectors(self, n, seed=None):
        """n latent vectors; a given integer `seed` always gives the same ones."""
        _check_count(n)
        return keras.random.normal((n, self.latent_dim), seed=seed)

    def generate(self, n, seed=None, labels=None, batch_size=1024):
        """n images from `sampling_generator()`, a NumPy array [n, 28, 28, 1] in [0, 1].

        Conditional: image i is of class `labels[i]` (n ints in 0..num_classes-1;
        default `balanced_labels(n)`: 0, 1, ..., 9, 0, 1, ...)."""
        z = self.latent_vectors(n, seed)
        labels = self.check_labels(labels, n)
        images = self.sampling_generator().predict(with_labels(z, labels), batch_size=batch_size, verbose=0)
        return ops.convert_to_numpy(to_unit_range(images))

    def check_labels(self, labels, n):
        """`labels` as int32 [n] for a conditional GAN (None: balanced), None for
        an unconditional one; ValueError saying what was expected otherwise."""
        import numpy as np

        if self.num_classes is None:
            if labels is not None:
                raise ValueError("labels given to an unconditional GAN (num_classes is None).")
            return None
        if labels is None:
            return balanced_labels(n, self.num_classes)
        labels = np.asarray(labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be {n} integers, got shape {labels.shape} of {labels.dtype}.")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"labels must be in 0..{self.num_classes - 1}, got {labels.min()}..{labels.max()}.")
        return labels.astype(np.int32)

    def sampling_generator(self):
        """The generator to draw samples from, export and evaluate.

        G itself, unless G's optimizer keeps an exponential moving average of
        its weights (`default_optimizer(ema=...)`, Keras' `use_ema`): then a
        copy of G holding the averaged weights (and G's BatchNorm statistics).
        Keras' `fit` would only swap averages into `model.optimizer`'s
        variables, and into the training weights themselves; this copy leaves
        training untouched, so a run can resume or go on training.
        """
        optimizer = inner_optimizer(self.g_optimizer)
        averages = getattr(optimizer, "_model_variables_moving_average", None)
        if not getattr(optimizer, "use_ema", False) or averages is None:
            return self.generator
        if self._averaged_generator is None:
            object.__setattr__(self, "_averaged_generator", keras.models.clone_model(self.generator))
        copy = self._averaged_generator
        trainable = {id(v): a for v, a in zip(self.generator.trainable_weights, averages)}
        for source, target in zip(self.generator.weights, copy.weights):
            target.assign(ops.convert_to_numpy(trainable.get(id(source), source)))
        return copy

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "k": self.k,
            "generator_loss": self.generator_loss,
            "label_smoothing": self.label_smoothing,
            "augmentation": ",".join(self.augmentation) or "none",
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "num_classes": self.num_classes,
            "seed": self.seed,
        }

    # Keras saves no SeedGenerator state: without it a model resumed from a
    # `.keras` file or a backup would replay old noise (the GAN's z) and old
    # Dropout masks (the conv D's). `variables` minus `weights` is exactly
    # those states, for the GAN and every layer inside it.
    _RNG_KEY = "rng_state_{}"
    _LEGACY_SEED_KEY = "seed_generator_state"  # files written before 2026-11-29

    def rng_states(self):
        weights = {id(w) for w in self.weights}
        return [v for v in self.variables if id(v) not in weights]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(self.rng_states()):
            store[self._RNG_KEY.format(i)] = ops.convert_to_numpy(state)

    def load_own_variables(self, store):
        rng_keys = {self._RNG_KEY.format(i) for i in range(len(self.rng_states()))}
        rng_keys.add(self._LEGACY_SEED_KEY)
        super().load_own_variables({k: store[k] for k in store.keys() if k not in rng_keys})
        for i, state in enumerate(self.rng_states()):
            if self._RNG_KEY.format(i) in store.keys():
                state.assign(store[self._RNG_KEY.format(i)])
        if self._LEGACY_SEED_KEY in store.keys():
            self.seed_generator.state.assign(store[self._LEGACY_SEED_KEY])

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class FirstNonFiniteStep(keras.metrics.Metric):
    """The first generator step whose losses were NaN or infinite, and which.

    `result()` is [step, which]: step -1 while all were finite; which is a
    bit mask, 1 for d_loss and 2 for g_loss. Updated inside the compiled step,
    so it names the exact step even when many steps run per call
    (`steps_per_execution`); the guard callback reads it once per call.
    """

    LOSS_BITS = {"d_loss": 1, "g_loss": 2}

    def __init__(self, name="first_nonfinite_step", **kwargs):
        super().__init__(name=name, **kwargs)
        self.record = self.add_variable(
            shape=(2,), initializer=keras.initializers.Constant([-1, 0]), dtype="int32",
            aggregation="only_first_replica", name="record",
        )

    def update_state(self, d_losses, g_loss, step):
        d_bad = ops.logical_not(ops.all(ops.isfinite(ops.stack(d_losses))))
        g_bad = ops.logical_not(ops.isfinite(g_loss))
        which = ops.cast(d_bad, "int32") + 2 * ops.cast(g_bad, "int32")
        record = ops.convert_to_tensor(self.record)
        first = ops.logical_and(ops.less(record[0], 0), ops.greater(which, 0))
        new = ops.stack([ops.cast(step, "int32"), which])
        self.record.assign(ops.where(first, new, record))

    def result(self):
        return ops.convert_to_tensor(self.record)

    def describe(self):
        """None if every step was finite, else "step N: d_loss, g_loss"."""
        step, which = (int(v) for v in ops.convert_to_numpy(self.record))
        if step < 0:
            return None
        names = [name for name, bit in self.LOSS_BITS.items() if which & bit]
        return f"step {step}: {', '.join(names)} not finite"


def load_checkpoint(path, flag="--checkpoint"):
    """The GAN in a `.keras` file, loaded in Keras' safe mode; UserError (one
    line naming `flag` and the file) for anything that is not one."""
    from keras_gan.common.options import UserError

    try:
        gan = keras.saving.load_model(path, safe_mode=True)
    except Exception as e:  # Keras raises many types for a bad file
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise UserError(f"{flag} {path}: cannot load ({reason}).") from None
    if not isinstance(gan, GAN):
        raise UserError(f"{flag} {path}: holds a {type(gan).__name__}, not a keras_gan GAN.")
    return gan


def _check_conditioning(generator, discriminator, num_classes):
    """ValueError unless both models take labels exactly when `num_classes` is set."""
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2
    ):
        raise ValueError(f"num_classes must be None or an integer >= 2, got {num_classes!r}.")
    expected = 1 if num_classes is None else 2
    for name, model in (("generator", generator), ("discriminator", discriminator)):
        if len(model.inputs) != expected:
            wanted = "[samples, labels]" if num_classes else "one input"
            raise ValueError(
                f"num_classes={num_classes!r} needs a {name} that takes {wanted}; this one takes "
                f"{len(model.inputs)} input(s) (build_models(..., num_classes=...) makes a matching pair)."
            )


def _check_count(n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
