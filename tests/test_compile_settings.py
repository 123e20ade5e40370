"""train.py's choice of XLA and steps per call: flags, static rule, timed trial, cache."""

import concurrent.futures
import json
import os

import pytest

from conftest import tiny_images

import train
from keras_gan.training import compile_settings as cs

CONFIG = {"model": "mlp", "batch_size": 8, "machine": "test"}


def never_build(jit, spe):
    raise AssertionError("no trial was expected")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(cs.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def choose(jit_flag="auto", spe_flag=None, run_steps=10_000, config=CONFIG, build=never_build,
           dataset=None):
    return cs.choose(jit_flag, spe_flag, run_steps, 100, config, build, dataset, 8, log=lambda _: None)


def test_candidates_offer_xla_on_and_off_at_16_steps_per_call_unless_the_flags_say():
    assert cs.candidates("auto", None, 100) == [(True, 16), (False, 16)]
    assert cs.candidates("off", None, 5) == [(False, 5)]  # capped at an epoch's steps
    assert cs.candidates("auto", 4, 100) == [(True, 4), (False, 4)]
    assert cs.candidates("on", 2, 100) == [(True, 2)]


def test_fastest_takes_the_most_images_per_second_and_ties_go_to_the_first():
    assert cs.fastest({(True, 16): 10.0, (False, 16): 12.0, (False, 1): 11.0}) == (False, 16)
    assert cs.fastest({(True, 16): 10.0, (False, 16): 10.0}) == (True, 16)


def test_flags_that_fix_both_settings_are_obeyed_without_a_trial(cache_dir):
    choice = choose("off", 3)
    assert (choice.jit_compile, choice.steps_per_execution) == (False, 3)
    assert not cache_dir.exists()


def test_the_trial_runs_from_min_run_steps_on(cache_dir, monkeypatch):
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: dict.fromkeys(options, 1.0))
    assert choose(run_steps=cs.MIN_RUN_STEPS).reason.startswith("timed trial")


def test_rates_are_images_per_second_of_whole_calls_over_the_median_round(monkeypatch):
    """Candidates run whole calls: 16 steps as 4 calls of 4, or 16 calls of 1;
    images/s = calls x steps per call x images per step / median seconds.
    Each round takes its own time, chosen so that only the median of the timed
    rounds makes (True, 4) the faster: by the minimum, the mean, the maximum,
    the first or the last round, or with the untimed warm-up counted, (False, 1) is."""
    calls_made = []
    seconds = {4: iter([50.0, 0.5, 0.4, 2.1]),  # warm-up, then rounds: median 0.5
               1: iter([50.0, 0.2, 1.2, 1.0])}  # median 1.0; smaller min, mean, max, first, last

    class Model:
        def __init__(self, spe):
            self.steps_per_execution = spe

        def make_train_function(self):
            pass

    def fake_time_calls(model, iterator, calls):
        calls_made.append((model.steps_per_execution, calls))
        return next(seconds[model.steps_per_execution])

    monkeypatch.setattr(cs, "time_calls", fake_time_calls)
    monkeypatch.setattr(cs, "TRIAL_ROUNDS", 3)
    rates = cs.run_trial([(True, 4), (False, 1)], lambda jit, spe: Model(spe), [], 10)
    assert rates == {(True, 4): 16 * 10 / 0.5, (False, 1): 16 * 10 / 1.0}
    assert cs.fastest(rates) == (True, 4)
    assert calls_made[:2] == [(4, 8), (1, 32)]  # two untimed rounds each, first
    assert calls_made[2:] == [(4, 4), (1, 16)] * 3


def test_a_short_run_takes_the_static_default_and_says_why(cache_dir):
    choice = choose(run_steps=cs.MIN_RUN_STEPS - 1)
    assert (choice.jit_compile, choice.steps_per_execution) == (cs.STATIC_JIT_COMPILE, 16)
    assert f"{cs.MIN_RUN_STEPS - 1:,} steps" in choice.reason
    assert choose("off", run_steps=10).jit_compile is False  # a given flag still holds
    assert not cache_dir.exists()


def test_the_trial_picks_the_fastest_caches_it_and_the_next_run_reuses_it(cache_dir, monkeypatch):
    rates = {(True, 16): 900.0, (False, 16): 1000.0, (True, 4): 700.0, (False, 4): 600.0}
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: {o: rates[o] for o in options})
    choice = choose()
    assert (choice.jit_compile, choice.steps_per_execution) == (False, 16)
    assert "timed trial" in choice.reason and "XLA off/16 1,000" in choice.reason
    entry, = json.loads((cache_dir / cs.CACHE_FILE).read_text()).values()
    assert entry["config"] == CONFIG and entry["images_per_second"]["XLA on/16"] == 900.0

    monkeypatch.setattr(cs, "run_trial", never_build)
    again = choose()  # the cache answers, even for a short run
    assert (again.jit_compile, again.steps_per_execution) == (False, 16)
    assert "cached trial" in again.reason
    assert choose(run_steps=10).reason == again.reason
    # A flag that narrows the candidates, or another configuration, is not answered from it,
    # and its own trial does not answer for "auto" later.
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: {o: rates[o] for o in options})
    four = choose(spe_flag=4)
    assert (four.jit_compile, four.steps_per_execution) == (True, 4) and "timed trial" in four.reason
    assert choose("on").reason == "as the flags say"  # nothing left to time
    assert choose(config={**CONFIG, "batch_size": 256}).reason.startswith("timed trial")
    assert len(json.loads((cache_dir / cs.CACHE_FILE).read_text())) == 3
    assert choose().jit_compile is False and "cached trial" in choose().reason


def test_a_broken_or_unwritable_cache_costs_a_warning_not_the_run(cache_dir, monkeypatch, capsys):
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: dict.fromkeys(options, 1.0))
    cache_dir.mkdir()
    (cache_dir / cs.CACHE_FILE).write_text("{not json")
    assert choose().reason.startswith("timed trial")
    assert "unreadable compile-settings cache" in capsys.readouterr().err
    assert len(json.loads((cache_dir / cs.CACHE_FILE).read_text())) == 1  # rewritten whole

    monkeypatch.setenv(cs.CACHE_ENV, str(cache_dir / cs.CACHE_FILE / "below-a-file"))
    assert choose().reason.startswith("timed trial")
    assert "cannot write the compile-settings cache" in capsys.readouterr().err


def test_the_trial_times_real_compiled_gans_on_the_runs_batches():
    from keras_gan import GAN, build_models
    from keras_gan.data import make_dataset

    built = []

    def build(jit, spe):
        gan = GAN(*build_models("mlp"), seed=0)
        gan.compile(jit_compile=jit, steps_per_execution=spe)
        built.append(gan)
        return gan

    dataset = make_dataset(tiny_images(64), 8, seed=0).repeat()
    rates = cs.run_trial([(False, 4), (False, 1)], build, dataset, 8)
    assert set(rates) == {(False, 4), (False, 1)} and all(r > 0 for r in rates.values())
    # Each candidate trained (2 + rounds) x TRIAL_STEPS steps, compiled as asked.
    steps = (2 + cs.TRIAL_ROUNDS) * cs.TRIAL_STEPS  # 16: whole calls of 4 and of 1
    assert [int(g.g_optimizer.iterations) for g in built] == [steps, steps]
    assert [g.steps_per_execution for g in built] == [4, 1]


def test_train_py_trial_leaves_the_seeded_run_unchanged(tmp_path, capsys, mnist_dir, monkeypatch):
    """The same seed gives the same weights whether this run timed the
    candidates first or found the choice in the cache: the trial draws from
    no random stream the run uses."""
    monkeypatch.setenv(cs.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cs, "MIN_RUN_STEPS", 0)
    monkeypatch.setattr(cs, "TRIAL_ROUNDS", 1)
    monkeypatch.setattr(cs, "TRIAL_STEPS", 2)
    # Whatever the timings, XLA off is chosen: both runs then train without
    # it, and XLA is compiled once, in the trial (not three times).
    monkeypatch.setattr(cs, "fastest", lambda rates: next(option for option in rates if not option[0]))
    # Steps per call given: XLA on and off are timed (2 settings, not 4).
    # R1 on every update: lazy R1 on a CPU takes its rule, untimed.
    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--steps", "8",
            "--steps-per-epoch", "4", "--steps-per-execution", "4", "--batch-size", "8", "--seed", "3",
            "--r1-interval", "1", "--no-export", "--verbose", "0", "--no-eval"]
    assert train.main(argv + ["--logdir", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().out
    assert "compile: timing 2 settings" in first and "timed trial" in first  # an XLA one among them
    assert train.main(argv + ["--logdir", str(tmp_path / "b")]) == 0
    assert "cached trial" in capsys.readouterr().out
    a, b = (json.loads((tmp_path / run / "summary.json").read_text()) for run in "ab")
    assert a["weights_sha256"] == b["weights_sha256"]
    # The GAN was compiled as chosen.
    entry, = json.loads((tmp_path / "cache" / cs.CACHE_FILE).read_text()).values()
    assert a["compile"]["jit_compile"] == entry["jit_compile"] is False
    assert a["compile"]["steps_per_execution"] == entry["steps_per_execution"]


def test_the_trials_models_leave_keras_automatic_names_alone():
    """gan.keras and the export name layers "dense", "dense_1", ...: the same
    whether or not throwaway models were built first."""
    import keras

    def suffix(name):
        return int(name.rpartition("_")[2]) if "_" in name else 0

    before = suffix(keras.layers.Dense(1).name)
    with cs.names_unchanged():
        for _ in range(3):
            keras.layers.Dense(1)
    assert suffix(keras.layers.Dense(1).name) == before + 1


@pytest.fixture(scope="module")
def xla_cache_runs(tmp_path_factory, mnist_dir):
    """Two train.py runs of one command, one after the other, each in a fresh
    process with the same cache folder, as a user runs them (train.py filters
    TensorFlow's noise); started as the module begins, they run on the second
    core while the in-process tests run. (folder, a future of: the first
    run's CompletedProcess, files_under the cache's xla/ folder after it,
    the second run's CompletedProcess.)"""
    import subprocess
    import sys

    from conftest import ROOT, quiet_environment

    tmp = tmp_path_factory.mktemp("xla-cache")
    env = quiet_environment()
    env.pop("TF_XLA_FLAGS", None)
    env[cs.CACHE_ENV] = str(tmp / "cache")

    def run(name):
        return subprocess.run(
            [sys.executable, os.path.join(ROOT, "train.py"), "--model", "mlp", "--data-dir", mnist_dir,
             "--split", "test", "--steps", "4", "--steps-per-epoch", "2", "--batch-size", "8",
             "--jit-compile", "on", "--seed", "2", "--no-eval", "--no-export", "--verbose", "0",
             "--logdir", str(tmp / name)],
            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)

    def both():
        first = run("a")
        written = files_under(tmp / "cache" / "xla")
        return first, written, run("b")

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="xla-cache-runs") as pool:
        yield tmp, pool.submit(both)


@pytest.fixture(scope="module", autouse=True)
def started_ahead(request):
    """Starts xla_cache_runs as the module begins, if a selected test reads it."""
    if any(item.module is request.module and "xla_cache_runs" in item.fixturenames
           for item in request.session.items):
        request.getfixturevalue("xla_cache_runs")


def test_a_later_run_loads_the_xla_program_from_the_cache_and_trains_the_same(xla_cache_runs):
    """train.py keeps XLA's compiled programs beside the choices, in a folder
    for this CPU; the second run loads its step from there, the same seed
    gives the same weights, and neither run prints anything on stderr (a
    load's harmless lines -- a text-format parse error, XLA's warning of a
    feature mismatch "that could lead to ... SIGILL" -- are hidden)."""
    tmp, future = xla_cache_runs
    first, written, second = future.result(timeout=600)
    for name, result in (("a", first), ("b", second)):
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", name
    programs = sorted(written)
    assert programs and all(p.startswith(cs.xla_cache_key() + os.sep) and p.endswith(".pb") for p in programs)
    digests = [json.loads((tmp / run / "summary.json").read_text())["weights_sha256"] for run in "ab"]
    assert digests[0] == digests[1]
    # Loaded, not compiled and written again: the same files, unmodified.
    assert files_under(tmp / "cache" / "xla") == written


def files_under(root):
    """{path relative to `root`: modification time (ns)} of every file below it."""
    return {os.path.relpath(os.path.join(folder, name), root): os.stat(os.path.join(folder, name)).st_mtime_ns
            for folder, _, names in os.walk(root) for name in names}


def test_the_xla_cache_flags_are_added_once_and_a_users_own_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv(cs.CACHE_ENV, str(tmp_path))
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_cpu_global_jit")
    cs.enable_xla_cache()
    cs.enable_xla_cache()
    folder = cs.xla_cache_dir()
    assert os.path.dirname(folder) == str(tmp_path / "xla")
    assert os.environ["TF_XLA_FLAGS"] == (f"--tf_xla_cpu_global_jit {cs.XLA_CACHE_FLAG}={folder} "
                                          f"{cs.XLA_CACHE_DEVICES_FLAG}=CPU")
    monkeypatch.setenv("TF_XLA_FLAGS", f"{cs.XLA_CACHE_FLAG}=/elsewhere")
    cs.enable_xla_cache()
    assert os.environ["TF_XLA_FLAGS"] == f"{cs.XLA_CACHE_FLAG}=/elsewhere"


def test_the_xla_cache_folder_is_this_cpus(monkeypatch):
    """Programs compiled on one CPU are never loaded on another (XLA would
    only warn, then perhaps die of SIGILL): the folder names the CPU's flags."""
    from keras_gan.common import machine

    here = cs.xla_cache_key()
    assert cs.xla_cache_key() == here
    identity = machine.cpu_identity()
    monkeypatch.setattr(machine, "cpu_identity", lambda: {**identity, "flags": "fpu sse2"})
    assert cs.xla_cache_key() != here


def test_a_resumed_run_compiles_as_its_first_part_did(tmp_path, capsys, mnist_dir, monkeypatch):
    """The choice is recorded in the run's folder: resuming it (here: the run
    marked unfinished, the cache gone, the machine now preferring another
    setting) compiles the same step again; --fresh chooses anew."""
    from keras_gan.cli import runs

    monkeypatch.setenv(cs.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cs, "MIN_RUN_STEPS", 0)
    prefer = {"jit": False}
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: {
        o: (2.0 if o[0] == prefer["jit"] else 1.0) + (0.5 if o[1] > 1 else 0.0) for o in options})
    logdir = tmp_path / "run"
    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--steps", "4",
            "--steps-per-epoch", "2", "--batch-size", "8", "--seed", "3", "--r1-interval", "1",
            "--no-export", "--verbose", "0", "--no-eval", "--logdir", str(logdir)]
    assert train.main(argv) == 0
    assert "compile: XLA off, 2 step(s) per call (timed trial" in capsys.readouterr().out
    assert runs.read_compile_choice(str(logdir)) == (False, 2)

    first = json.loads((logdir / "summary.json").read_text())["weights_sha256"]

    runs.mark_unfinished(str(logdir))
    (tmp_path / "cache" / cs.CACHE_FILE).unlink()
    prefer["jit"] = True
    assert train.main(argv) == 0
    assert "compile: XLA off, 2 step(s) per call (as this run chose before" in capsys.readouterr().out
    summary = json.loads((logdir / "summary.json").read_text())
    assert summary["compile"]["jit_compile"] is False and summary["weights_sha256"] == first
    assert train.main(argv + ["--fresh"]) == 0
    assert "compile: XLA on, 2 step(s) per call (timed trial" in capsys.readouterr().out
    assert runs.read_compile_choice(str(logdir)) == (True, 2)
    assert json.loads((logdir / "summary.json").read_text())["compile"] == {
        "jit_compile": True, "steps_per_execution": 2, "fused_steps": 1}


def test_the_stderr_filter_drops_the_known_line_and_passes_the_rest(monkeypatch, capfd):
    from keras_gan.common import quiet

    monkeypatch.setattr(quiet, "_filtering", True)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", quiet.OUR_LEVEL)
    harmless = (b"E0000 00:00:1795965824.938417    9702 meta_optimizer.cc:967] remapper failed: "
                b"INVALID_ARGUMENT: Mutation::Apply error: fanout 'while/x/LeakyReluGrad_1' exist\n")
    lazy_r1 = (b"E0000 00:00:1796511192.326451   32032 meta_optimizer.cc:967] remapper failed: "
               b"INVALID_ARGUMENT: Mutation::Apply error: fanout 'while/body/_1/while/cond/then/_419/while/"
               b"cond/StatefulPartitionedCall/cond/else/_829/cond/OptionalFromValue_7' exist for missing node "
               b"'while/body/_1/while/cond/then/_419/while/cond/StatefulPartitionedCall/cond/else/_829/cond/"
               b"conv_discriminator_1/conv2d_1_2/BiasAdd'.\n")  # --r1-interval 16, without XLA
    other = b"E0000 00:00:1795965824.9 9702 meta_optimizer.cc:967] another optimizer failed\n"
    with quiet.hidden_stderr_lines():
        os.write(2, harmless)
        os.write(2, lazy_r1)
        os.write(2, other)
        os.write(2, b"x" * 100_000 + b"\n")  # longer than a pipe's buffer
    assert capfd.readouterr().err == (other + b"x" * 100_000 + b"\n").decode()
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user's level: nothing filtered
    with quiet.hidden_stderr_lines():
        os.write(2, harmless)
    assert capfd.readouterr().err == harmless.decode()
XLA_CACHE_LOAD = [
    b"E0000 00:00:1796321358.705067   12090 text_format.cc:378] Error parsing text-format "
    b"tensorflow.XlaSerializedCacheEntry: 2:1: Expected identifier, got: 6\n",
    b"E0000 00:00:1796321358.887004   12090 cpu_aot_loader.cc:220] Loading XLA:CPU AOT result. "
    b"Target machine feature +prefer-no-scatter is not  supported on the host machine. Machine type "
    b"used for XLA:CPU compilation doesn't match the machine type for execution. Compile machine "
    b"features: [+64bit,+avx2,+prefer-no-gather,+prefer-no-scatter] vs host machine features: "
    b"[64bit,avx2]. This could lead to execution errors such as SIGILL.\n",
    b"E0000 00:00:1796321358.887053   12090 cpu_aot_loader.cc:220] Loading XLA:CPU AOT result. "
    b"Target machine feature +prefer-no-gather is not  supported on the host machine. (...)\n",
]


def test_the_xla_cache_lines_are_hidden_but_a_real_feature_mismatch_is_not(monkeypatch, capfd):
    """A program loaded from the XLA cache makes TensorFlow print three error
    lines, all harmless: hidden. An instruction set the host lacks is not
    harmless (SIGILL): shown."""
    from keras_gan.common import quiet

    monkeypatch.setattr(quiet, "_filtering", True)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", quiet.OUR_LEVEL)
    real = XLA_CACHE_LOAD[2].replace(b"+prefer-no-gather", b"+avx512f")
    with quiet.hidden_stderr_lines():
        for line in XLA_CACHE_LOAD + [real]:
            os.write(2, line)
    assert capfd.readouterr().err == real.decode()




def test_xla_is_ruled_out_untimed_only_for_a_conditional_step_without_a_gpu():
    assert cs.xla_ruled_out("auto", True, [])
    assert not cs.xla_ruled_out("auto", True, ["GPU:0"])
    assert not cs.xla_ruled_out("auto", False, [])
    assert not cs.xla_ruled_out("on", True, [])


@pytest.mark.parametrize("r1_interval, gpu, expected", [
    ("4", False, "compile: XLA off, 2 step(s) per call (rule: XLA ran lazy R1's conditional step"),
    ("4", True, "compile: XLA on, 2 step(s) per call (timed trial"),
    ("1", False, "compile: XLA on, 2 step(s) per call (timed trial"),
])
def test_lazy_r1_on_a_cpu_takes_xla_off_without_a_trial(tmp_path, capsys, mnist_dir, monkeypatch,
                                                        r1_interval, gpu, expected):
    """Lazy R1's tf.cond ran 2-3x slower under XLA on a CPU: there train.py
    skips the trial (whose XLA candidate cost most of its seconds) and takes
    XLA off; on a GPU, or with R1 on every update, the trial decides (here
    rigged to prefer XLA on)."""
    from keras_gan.training import distribute

    monkeypatch.setenv(cs.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cs, "MIN_RUN_STEPS", 0)
    monkeypatch.setattr(distribute, "has_gpu", lambda: gpu)
    monkeypatch.setattr(cs, "run_trial", lambda options, build, dataset, n: {
        o: 2.0 if o[0] else 1.0 for o in options})
    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--steps", "2",
            "--steps-per-epoch", "2", "--batch-size", "8", "--r1-interval", r1_interval, "--no-export",
            "--verbose", "0", "--no-eval", "--logdir", str(tmp_path / "run")]
    assert train.main(argv) == 0
    assert expected in capsys.readouterr().out
