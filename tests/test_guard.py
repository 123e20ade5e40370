"""The NaN guard, the backups it protects, and flags that can never crash train.py."""

import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import train
from keras_gan.training import backup
from keras_gan.training.guard import NonFiniteGuard
from keras_gan.common.options import NonFiniteLoss

from test_gan import make_gan, values
from conftest import tiny_images

STEPS = 4


def batches(n, nan_at=None):
    images = tiny_images(n * 8).astype("float32") / 127.5 - 1.0
    steps = images.reshape(n, 8, 28, 28, 1)
    if nan_at is not None:
        steps[nan_at - 1, 0, 0, 0, 0] = np.nan  # one pixel of step nan_at (counted from 1)
    return tf.data.Dataset.from_tensor_slices(steps)


def test_an_injected_nan_stops_fit_at_its_step_and_keeps_the_last_good_backup(tmp_path):
    gan = make_gan()
    gan.compile(steps_per_execution=2)  # the bad step is inside a call, not at its end
    with pytest.raises(NonFiniteLoss, match=r"^step 7: d_loss, g_loss not finite$"):
        gan.fit(batches(12, nan_at=7), epochs=3, steps_per_epoch=STEPS, verbose=0,
                callbacks=[NonFiniteGuard(), backup.EpochBackup(str(tmp_path))])
    assert backup.last_epoch(str(tmp_path)) == 1  # epoch 2 held the NaN: never backed up
    restored = make_gan(seed=1)
    assert backup.restore(restored, str(tmp_path)) == 1
    assert all(np.all(np.isfinite(w)) for w in values(restored.weights))
    assert int(restored.g_optimizer.iterations) == STEPS


def test_finite_training_is_not_stopped():
    gan = make_gan()
    gan.fit(batches(8), epochs=2, steps_per_epoch=STEPS, verbose=0, callbacks=[NonFiniteGuard()])
    assert gan.first_nonfinite_step.describe() is None
    assert int(gan.g_optimizer.iterations) == 8


def test_backup_restores_weights_optimizers_and_every_random_state(tmp_path):
    """Conv D's Dropout draws from its own seed state: it must come back too."""
    from keras_gan import build_models

    gan = make_gan(models=build_models("conv", latent_dim=8))
    backups = backup.EpochBackup(str(tmp_path))
    gan.fit(batches(4), epochs=2, steps_per_epoch=2, verbose=0, callbacks=[backups])
    state = {"weights": values(gan.weights), "rng": values(gan.rng_states()),
             "d_opt": values(gan.d_optimizer.variables), "g_opt": values(gan.g_optimizer.variables)}
    gan.fit(batches(2), epochs=3, initial_epoch=2, steps_per_epoch=2, verbose=0, callbacks=[backups])
    # The newest two are kept (a multi-worker resume may need the older one).
    assert sorted(os.listdir(tmp_path)) == ["epoch-00002.weights.h5", "epoch-00003.weights.h5"]
    assert backup.last_epoch(str(tmp_path)) == 3
    os.remove(tmp_path / "epoch-00003.weights.h5")  # as if killed while writing it

    fresh = make_gan(seed=5, models=build_models("conv", latent_dim=8))
    assert len(gan.rng_states()) == len(fresh.rng_states()) == 2  # the noise stream and Dropout
    assert backup.restore(fresh, str(tmp_path)) == 2
    restored = {"weights": values(fresh.weights), "rng": values(fresh.rng_states()),
                "d_opt": values(fresh.d_optimizer.variables), "g_opt": values(fresh.g_optimizer.variables)}
    for key in state:
        assert len(state[key]) == len(restored[key]) > 0, key
        for a, b in zip(state[key], restored[key]):
            np.testing.assert_array_equal(a, b, err_msg=key)


def test_no_backup_means_epoch_zero(tmp_path):
    gan = make_gan()
    before = values(gan.weights)
    assert backup.restore(gan, str(tmp_path / "none")) == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, values(gan.weights)))


# ------------------------------------------------------------------ flag fuzzing
FLAG_VALUES = {
    "--model": st.sampled_from(["mlp", "conv", "gru", ""]),
    "--epochs": st.sampled_from(["1", "0", "-3", "2.5", "x", "99999999999"]),
    "--batch-size": st.sampled_from(["64", "0", "1", "1e3", "-1"]),
    "--k": st.sampled_from(["1", "2", "0", "k", "auto", "Auto"]),
    "--lr-schedule": st.sampled_from(["constant", "linear", "cosine"]),
    "--latent-dim": st.sampled_from(["32", "0", "5000", "nan"]),
    "--learning-rate": st.sampled_from(["2e-4", "0", "-1", "inf", "nan", "1e30", "fast"]),
    "--beta-1": st.sampled_from(["0.5", "1", "-0.1", "nan"]),
    "--generator-loss": st.sampled_from(["minimax", "non_saturating", "hinge"]),
    "--label-smoothing": st.sampled_from(["0", "0.1", "1", "-0.5"]),
    "--dataset": st.sampled_from(["mnist", "fashion_mnist", "cifar"]),
    "--split": st.sampled_from(["train", "test[:10]", "train[:"]),
    "--seed": st.sampled_from(["0", "7", "-1", "2147483648", "4294967296", "1.5"]),
    "--steps-per-epoch": st.sampled_from(["3", "0", "x"]),
    "--strategy": st.sampled_from(["auto", "default", "mirrored", "multi_worker", "tpu"]),
    "--jit-compile": st.sampled_from(["auto", "on", "off", "maybe"]),
    "--steps-per-execution": st.sampled_from(["1", "16", "0"]),
    "--samples": st.sampled_from(["64", "0", "10001"]),
    "--verbose": st.sampled_from(["0", "1", "3"]),
    "--log-every-n-steps": st.sampled_from(["100", "0"]),
    "--data-dir": st.sampled_from(["/no/such/dir"]),
    "--augmentation": st.sampled_from(["none", "translation,cutout", "cutout", "blur", "cutout,cutout", ""]),
    "--r1-gamma": st.sampled_from(["0", "1", "-1", "nan"]),
    "--ema": st.sampled_from(["0", "0.999", "1", "-0.5"]),
    "--steps": st.sampled_from(["100", "0", "1e4"]),
}
SWITCHES = ["--no-download", "--no-export", "--fresh", "--bogus-flag", "--conditional",
            "--mixed-precision"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flags=st.dictionaries(st.sampled_from(sorted(FLAG_VALUES)), st.none(), max_size=6).flatmap(
        lambda chosen: st.fixed_dictionaries({flag: FLAG_VALUES[flag] for flag in chosen})
    ),
    switches=st.lists(st.sampled_from(SWITCHES), unique=True, max_size=2),
    dangling=st.booleans(),
)
def test_any_flags_either_start_a_run_or_fail_with_one_line(tmp_path, monkeypatch, capsys,
                                                            flags, switches, dangling):
    """Everything main() does before training, on random flag combinations:
    either the run would start, or one line on stderr and exit code 2."""
    started = []
    monkeypatch.setattr(train, "run", started.append)
    argv = [part for flag, value in flags.items() for part in (flag, value)] + switches
    if dangling:
        argv.append("--epochs")  # a flag without its value
    argv += ["--logdir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    code = train.main(argv)
    err = capsys.readouterr().err
    if code == 0:
        assert started and err == ""
    else:
        assert code == 2 and not started
        assert err.startswith("train.py: error: ") and err.count("\n") == 1, err
    assert not os.path.exists(tmp_path / "run") and not os.path.exists(tmp_path / "export")
