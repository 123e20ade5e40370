"""The NaN guard, the backups it protects, and flags that can never crash train.py."""

import os

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
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
def tiny_run(mnist_dir, tmp_path):
    """train.py's flags for a real run of one step (~8 s): the flags under test come after."""
    return ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test[:256]", "--batch-size", "8",
            "--epochs", "1", "--steps-per-epoch", "1", "--samples", "4", "--seed", "0",
            "--jit-compile", "off", "--verbose", "0", "--no-eval", "--no-export",
            "--logdir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]


def built_gan(logdir):
    """What the run's gan.keras holds, read from its config (not loaded): the GAN's
    settings, G's latent size and whether G's optimizer averages its weights."""
    import json
    import zipfile

    config = json.loads(zipfile.ZipFile(os.path.join(logdir, "gan.keras")).read("config.json"))
    generator = config["config"]["generator"]["config"]
    first = generator["input_layers"][0]  # ["z", 0, 0], or [["z", 0, 0], ["label", 0, 0]]
    z = first[0] if isinstance(first, list) else first
    generator_input = next(layer["config"] for layer in generator["layers"] if layer["name"] == z)
    g_optimizer = config["compile_config"]["g_optimizer"]["config"]
    return dict(config["config"], latent_dim=generator_input["batch_shape"][-1],
                ema=g_optimizer["ema_momentum"] if g_optimizer["use_ema"] else 0.0)


def assert_usage_error(code, err, flag, tmp_path):
    assert code == 2, err
    assert err.startswith("train.py: error: ") and err.count("\n") == 1, err
    assert flag in err, err
    assert not os.path.exists(tmp_path / "run") and not os.path.exists(tmp_path / "export")


@pytest.mark.parametrize("flag,value", [
    ("--latent-dim", "0"), ("--steps-per-execution", "0"), ("--log-every-n-steps", "0"),
    ("--ema", "-0.5"), ("--r1-gamma", "nan"), ("--r1-interval", "0"), ("--label-smoothing", "-0.5"),
    ("--k", "0"), ("--batch-size", "0"), ("--learning-rate", "-1"), ("--beta-1", "1"),
    ("--eval-samples", "999"), ("--eval-samples", "10001"),
])
def test_a_known_bad_value_exits_2_with_one_line_naming_its_flag(tmp_path, capsys, mnist_dir, flag, value):
    """After the flags of a real run that trains (the fuzz below trains with them): without the
    flag's check the run would start, and train or crash, instead of this one line."""
    code = train.main(tiny_run(mnist_dir, tmp_path) + [flag, value])
    assert_usage_error(code, capsys.readouterr().err, flag, tmp_path)


# Valid and invalid values. Every valid combination must stay a run of a step or two
# on top of tiny_run: hypothesis draws anew in every session, and a valid
# `--epochs 99999999999` (once here) trained until CI was killed.
FLAG_VALUES = {
    "--model": st.sampled_from(["mlp", "conv", "gru", ""]),
    "--epochs": st.sampled_from(["1", "2", "0", "-3", "2.5", "x"]),
    "--batch-size": st.sampled_from(["8", "4", "0", "1e3", "-1"]),
    "--k": st.sampled_from(["1", "2", "0", "k", "auto"]),
    "--lr-schedule": st.sampled_from(["constant", "linear", "cosine"]),
    "--latent-dim": st.sampled_from(["1", "5", "0", "5000", "nan"]),
    "--learning-rate": st.sampled_from(["2e-4", "0", "-1", "inf", "nan", "fast"]),
    "--beta-1": st.sampled_from(["0.5", "0", "1", "-0.1", "nan"]),
    "--generator-loss": st.sampled_from(["minimax", "non_saturating", "hinge"]),
    "--label-smoothing": st.sampled_from(["0", "0.1", "1", "-0.5"]),
    "--dataset": st.sampled_from(["mnist", "cifar"]),
    "--seed": st.sampled_from(["0", "7", "-1", "4294967296", "1.5"]),
    "--steps-per-epoch": st.sampled_from(["1", "0", "x"]),
    "--strategy": st.sampled_from(["default", "mirrored", "tpu"]),
    "--jit-compile": st.sampled_from(["off", "maybe"]),
    "--steps-per-execution": st.sampled_from(["1", "2", "0"]),
    "--samples": st.sampled_from(["4", "1", "0", "10001"]),
    "--verbose": st.sampled_from(["0", "3"]),
    "--log-every-n-steps": st.sampled_from(["1", "0"]),
    "--data-dir": st.sampled_from(["/no/such/dir"]),
    "--augmentation": st.sampled_from(["none", "translation,cutout", "cutout", "blur", "cutout,cutout", ""]),
    "--r1-gamma": st.sampled_from(["0", "0.5", "-1", "nan"]),
    "--r1-interval": st.sampled_from(["1", "3", "0", "1.5"]),
    "--ema": st.sampled_from(["0", "0.9", "1", "-0.5"]),
    "--steps": st.sampled_from(["1", "0", "1e4"]),
    "--eval-samples": st.sampled_from(["1000", "999"]),
}
SWITCHES = ["--no-download", "--fresh", "--bogus-flag", "--conditional"]
EXPECTED = {  # flag -> (key in built_gan, how its value reads there)
    "--k": ("k", int), "--generator-loss": ("generator_loss", str),
    "--label-smoothing": ("label_smoothing", float), "--r1-gamma": ("r1_gamma", float),
    "--r1-interval": ("r1_interval", int),
    "--latent-dim": ("latent_dim", int), "--ema": ("ema", float),
}
AUGMENTATION_READS = {"none": "none", "": "none", "cutout": "cutout", "translation,cutout": "translation,cutout"}
TRAINS = {"--latent-dim": "5", "--steps-per-execution": "1", "--log-every-n-steps": "1",
          "--ema": "0.9", "--r1-gamma": "0.5", "--r1-interval": "2", "--label-smoothing": "0.1", "--k": "2"}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flags=st.dictionaries(st.sampled_from(sorted(FLAG_VALUES)), st.none(), max_size=4).flatmap(
        lambda chosen: st.fixed_dictionaries({flag: FLAG_VALUES[flag] for flag in chosen})
    ),
    switches=st.lists(st.sampled_from(SWITCHES), unique=True, max_size=2),
    dangling=st.booleans(),
)
@example(flags=TRAINS, switches=["--conditional"], dangling=False)  # the known-bad test's values, valid
@example(flags={"--model": "conv", "--augmentation": "translation,cutout", "--generator-loss": "minimax"},
         switches=[], dangling=False)
def test_any_flags_either_train_or_fail_with_one_line(tmp_path_factory, capsys, mnist_dir,
                                                      flags, switches, dangling):
    """train.main itself, nothing stubbed, on a real one-step run with random flags on top:
    either it trains and the GAN it saved was built with the flags' values, or one line
    on stderr, exit code 2 and nothing created (1 only for a loss that went non-finite)."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    argv = tiny_run(mnist_dir, tmp_path)
    argv += [part for flag, value in flags.items() for part in (flag, value)] + switches
    if dangling:
        argv.append("--epochs")  # a flag without its value
    code = train.main(argv)
    err = capsys.readouterr().err
    if code == 0:
        assert err == ""
        gan = built_gan(tmp_path / "run")
        for flag, (key, kind) in EXPECTED.items():
            if flag in flags:
                assert gan[key] == pytest.approx(kind(flags[flag])), flag
        assert gan["num_classes"] == (10 if "--conditional" in switches else None)
        assert gan["augmentation"] == AUGMENTATION_READS[flags.get("--augmentation", "none")]
    elif code == 1:  # training stopped at a non-finite loss
        assert "training stopped at" in err and err.count("\n") == 1, err
    else:
        assert_usage_error(code, err, "", tmp_path)
