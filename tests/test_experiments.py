"""python -m keras_gan.experiments: runs, reads summaries, writes docs/results.md's block.

One configuration is trained for real (train.py in its own process, then the
evaluation); the other tables are rendered from runs made by copying that run
and planting distinct figures in its summary.json, so each cell is checked to
come from its own run's summary. What command each configuration runs is
checked on the command itself, and against train.py's own flag parser.
"""

import json
import os
import shutil
import subprocess
import sys
import types

import pytest

from conftest import ROOT, quiet_environment


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, evaluation):
    """(argv, doc, runs dir, tmp) after `experiments --only mlp-k1-ns`: one
    tiny train.py run, evaluated, and its row written into a copy of docs/results.md."""
    from keras_gan import experiments

    tmp = tmp_path_factory.mktemp("experiments")
    doc = tmp / "results.md"
    shutil.copy(os.path.join(ROOT, "docs", "results.md"), doc)
    argv = ["--only", "mlp-k1-ns", "--seeds", "3", "--epochs", "1", "--steps-per-epoch", "4",
            "--no-download", "--classifier-dir", evaluation[2], "--runs-dir", str(tmp / "runs"),
            "--doc", str(doc)]
    assert experiments.main(argv) == 0
    return argv, doc, tmp / "runs", tmp


def block_of(text):
    from keras_gan import experiments

    return text[text.index(experiments.BEGIN):text.index(experiments.END)]


def test_a_real_run_writes_its_row_and_nothing_outside_the_block(real_run):
    from keras_gan import experiments

    argv, doc, runs, tmp = real_run
    text, before = doc.read_text(), open(os.path.join(ROOT, "docs", "results.md")).read()
    assert text.replace(block_of(text), "") == before.replace(block_of(before), "")
    block = block_of(text)
    assert "| Adversarial nets (the paper) | 225 ± 2 |" in block
    summary = json.loads((runs / "mlp-k1-ns-s3" / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["args"]["model"] == "mlp"  # 1 epoch of 4 steps
    row = next(line for line in block.splitlines() if line.startswith("| mlp-k1-ns | 3 | mlp | 1 |"))
    e = summary["evaluation"]
    assert f"| 4 | {summary['seconds']:.0f} |" in row
    assert f"| {e['frechet_distance']:.2f} | {e['frechet_ratio_to_real']:.1f}× |" in row
    assert (tmp / "images" / "results" / "mlp-k1-ns-s3.png").is_file()
    assert "(images/results/mlp-k1-ns-s3.png)" in block
    # Every other configuration (each with --seeds' one seed) is listed as not run yet.
    not_run = next(line for line in block.splitlines() if line.startswith("**Not run yet**"))
    assert f"({len(experiments.CONFIGS) - 1} runs" in not_run and "mlp-k1-ns seed" not in not_run
    assert "conditional seed 3" in not_run
    # Its record: the run's settings, summary and evaluation curves, beside the doc.
    from keras_gan.evaluation import run_records
    from keras_gan.evaluation import curves

    record = json.loads((tmp / "run-records" / "mlp-k1-ns-s3.json").read_text())
    assert (tmp / "run-records" / "mlp-k1-ns-s3.png").read_bytes() == \
        (runs / "mlp-k1-ns-s3" / "samples.png").read_bytes()
    assert record["summary"] == summary and record["run"] == "mlp-k1-ns-s3"
    assert record["settings"]["model"] == "mlp" and record["settings"]["steps_per_epoch"] == 4
    assert not set(run_records.WHERE) & set(record["settings"])
    for tag in run_records.CURVE_TAGS:
        seconds, values = curves.curve(str(runs / "mlp-k1-ns-s3"), tag)
        assert len(seconds) >= 1 and record["curves"][tag] == [seconds.tolist(), values.tolist()], tag
    # Rerunning reuses the finished run instead of training it again.
    written = (runs / "mlp-k1-ns-s3" / "summary.json").stat().st_mtime_ns
    assert experiments.main(argv) == 0
    assert (runs / "mlp-k1-ns-s3" / "summary.json").stat().st_mtime_ns == written


# The real run's length, which every planted run's settings share.
LENGTH = {"--epochs": "1", "--steps-per-epoch": "4"}


def plant(runs, name, seconds, frechet_ratio, recognisable, args=(), **fields):
    """A finished run `name`-s3: the real run's folder (its samples and its
    evaluation curve) with the settings `name` trains with (run.json) and a
    summary.json whose figures are the given ones."""
    from keras_gan import experiments

    source = runs / "mlp-k1-ns-s3"
    target = runs / f"{name}-s3"
    shutil.copytree(source, target)
    (target / "run.json").write_text(json.dumps(experiments.settings_now(name, 3, LENGTH)))
    summary = json.loads((source / "summary.json").read_text())
    summary["args"] = dict(summary["args"], **dict(args))
    summary["seconds"] = seconds
    summary["evaluation"] = dict(summary["evaluation"], frechet_ratio_to_real=frechet_ratio,
                                 recognisable={"samples": recognisable, "reference": 0.97})
    summary.update(fields)
    (target / "summary.json").write_text(json.dumps(summary))
    return summary


def test_each_table_reads_its_own_runs_and_only_merges(real_run, monkeypatch, capsys):
    """The conditional, k, longer and backend tables and the figures, from
    runs with distinct figures; a --render-only of other configurations keeps
    every finished row (merges) and lists the rest as not run."""
    from keras_gan import experiments
    from keras_gan.evaluation import run_records

    argv, doc, runs, tmp = real_run
    accuracy = {"class_accuracy": 0.912, "lowest_class": 8, "lowest_class_accuracy": 0.765,
                "per_class_accuracy": {str(k): 0.9 + k / 100 if k != 8 else 0.765 for k in range(10)}}
    conditional = plant(runs, "conditional", 101, 3.1, 0.61, {"conditional": True, "model": "conv"})
    conditional["evaluation"]["conditional"] = accuracy
    (runs / "conditional-s3" / "summary.json").write_text(json.dumps(conditional))
    plant(runs, "default", 200, 4.2, 0.72, {"model": "conv"}, backend="tensorflow")
    plant(runs, "default-k2", 230, 5.3, 0.68, {"model": "conv", "k": 2}, discriminator_updates=8)
    plant(runs, "default-3x", 600, 3.3, 0.83, {"model": "conv"}, steps=36000)
    plant(runs, "default-torch", 400, 4.4, 0.71, {"model": "conv"}, backend="torch")
    plant(runs, "today", 150, 3.7, 0.77, {"model": "conv", "r1_gamma": 1.0, "r1_interval": 16})

    render = ["--render-only", "--only", "mlp-k2-ns", "--seeds", "3", "--epochs", "1", "--steps-per-epoch", "4",
              "--runs-dir", str(runs), "--doc", str(doc)]
    assert experiments.main(render) == 0
    lines = block_of(doc.read_text()).splitlines()
    assert any(line.startswith("| mlp-k1-ns | 3 | mlp | 1 |") for line in lines)  # merged, not replaced
    assert any(line.startswith("| conditional | 3 | conv | 1 |") and "| 101 |" in line for line in lines)
    assert "| conditional | 3 | 91.2% | 8: 76.5% | 1 | 0.900 0.910 0.920 0.930 0.940 0.950 0.960 " \
           "0.970 0.765 0.990 |" in lines
    # k: the budget is the default run's seconds; each k's row from its own summary.
    assert any("| ÷ floor at 200 s (2,000 samples) |" in line for line in lines)
    assert any(line.startswith("| default-k2 | 3 | 2 | 2.00 | 230 |") and line.endswith("| 5.3× |")
               for line in lines)
    assert any(line.startswith("| default | 3 | 1 | 1.00 | 200 |") and line.endswith("| 4.2× |")
               for line in lines)
    # Longer: its steps, seconds, end ratio and recognisable share.
    assert any(line.startswith("| default-3x | 3 | 36,000 | 600 |") and line.endswith("| 3.3× | 0.83 / 0.97 |")
               for line in lines)
    # Today's default: its own table, between the grid and the sweep.
    today = block_of(doc.read_text()).split("### Today's default")[1].split("\n###")[0]
    rows = [line for line in today.splitlines() if "| today |" in line]
    assert len(rows) == 1 and rows[0].startswith("| today | 3 | conv | 1 |")
    assert "R1 γ=1 every 16" in today and "| 150 |" in today and "| 3.7× |" in today
    # Backends: each seed's default beside the other backend's run, named.
    assert any(line.startswith("| default-torch | 3 | conv | 1 |") and line.endswith("| torch |")
               for line in lines)
    assert any(line.startswith("| default | 3 | conv | 1 |") and line.endswith("| tensorflow |")
               for line in lines)
    for figure in ("k_budget.png", "longer.png", "longer_recognisable.png", "recognisable.png"):
        assert (tmp / "images" / "results" / figure).is_file(), figure
    assert "![Fréchet ÷ floor against the recognisable share, every run]" in "\n".join(lines)
    not_run = next(line for line in lines if line.startswith("**Not run yet**"))
    assert "mlp-k2-ns seed 3" in not_run and "default-k2 seed" not in not_run
    assert f"({len(experiments.CONFIGS) - 7} runs" in not_run
    assert not (runs / "mlp-k2-ns-s3").exists()  # --render-only trains nothing

    # A run folder of other settings is not a row either, and leaves its record alone.
    settings = json.loads((runs / "default-3x-s3" / "run.json").read_text())
    (runs / "default-3x-s3" / "run.json").write_text(json.dumps(dict(settings, r1_gamma=0.0)))
    assert experiments.main(render) == 0
    lines = block_of(doc.read_text()).splitlines()
    assert not any(line.startswith("| default-3x |") for line in lines)
    assert "default-3x seed 3 (trained with other settings than today's: --r1-gamma 0.0 -> 1.0)" in next(
        line for line in lines if line.startswith("**Not run yet**"))
    assert json.loads((tmp / "run-records" / "default-3x-s3.json").read_text())["settings"] == \
        run_records.training_settings(settings)
    (runs / "default-3x-s3" / "run.json").write_text(json.dumps(settings))
    assert experiments.main(render) == 0

    # Without the run folders, the records beside the doc give the same tables.
    def tables(doc):  # the block without its "Made by" line, which names the command
        return [line for line in block_of(doc.read_text()).splitlines() if not line.startswith("Made by")]

    from_runs = tables(doc)
    from_records = ["--render-only", "--only", "mlp-k2-ns", "--seeds", "3", "--epochs", "1",
                    "--steps-per-epoch", "4", "--runs-dir", str(tmp / "none"), "--doc", str(doc)]
    assert experiments.main(from_records) == 0
    assert tables(doc) == from_runs
    # A record of other settings than its configuration's today is not a row.
    record_path = tmp / "run-records" / "default-k2-s3.json"
    record = json.loads(record_path.read_text())
    record["settings"]["k"] = 1
    record_path.write_text(json.dumps(record))
    assert experiments.main(from_records) == 0
    lines = block_of(doc.read_text()).splitlines()
    assert not any(line.startswith("| default-k2 |") for line in lines)
    not_run = next(line for line in lines if line.startswith("**Not run yet**"))
    assert "default-k2 seed 3 (trained with other settings than today's: --k 1 -> 2)" in not_run
    # Nor is a record whose sample grid is gone.
    (tmp / "run-records" / "default-torch-s3.png").unlink()
    assert experiments.main(from_records) == 0
    lines = block_of(doc.read_text()).splitlines()
    assert not any(line.startswith("| default-torch |") for line in lines)
    assert "default-torch seed 3" in next(line for line in lines if line.startswith("**Not run yet**"))
    # --records-only: the records of the runs there, the doc left alone.
    shutil.rmtree(tmp / "run-records")
    text = doc.read_text()
    pictures = {p.name: p.read_bytes() for p in (tmp / "images" / "results").iterdir()}
    (tmp / "images" / "results" / "default-s3.png").unlink()
    assert experiments.main(render + ["--records-only"]) == 0
    assert doc.read_text() == text
    assert {p.name: p.read_bytes() for p in (tmp / "images" / "results").iterdir()} == \
        {name: data for name, data in pictures.items() if name != "default-s3.png"}
    assert {p.name for p in (tmp / "run-records").iterdir()} == {
        f"{name}-s3.{ext}" for name in ("mlp-k1-ns", "conditional", "default", "default-k2", "default-3x",
                                        "default-torch", "today") for ext in ("json", "png")}
    assert experiments.main(from_records) == 0
    # The command in a fresh process, as in a fresh clone: the tables from the
    # records alone, and nothing on stderr (TensorBoard's reader imports
    # TensorFlow, whose start-up notices the command hides).
    before = tables(doc)
    result = subprocess.run([sys.executable, "-m", "keras_gan.experiments", *from_records], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=quiet_environment())
    assert result.returncode == 0 and result.stderr == "", result.stderr[-3000:]
    assert tables(doc) == before
    # --readme: the picture of today's default and a caption from its record.
    readme = tmp / "README.md"
    readme.write_text(f"# title\n\n{experiments.README_BEGIN}\nold\n{experiments.README_END}\n\nafter\n")
    monkeypatch.setattr(experiments, "README_RUN", ("today", 3))
    assert experiments.main(from_records + ["--readme", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\n") and text.endswith("\n\nafter\n") and "old" not in text
    picture = text[text.index(experiments.README_BEGIN):text.index(experiments.README_END)]
    assert "![64 digits drawn by the conv generator](images/results/today-s3.png)" in picture
    assert (tmp / "images" / "results" / "today-s3.png").is_file()
    assert "`python train.py --seed 3`" in picture and "3.7× the real-vs-real Fréchet floor" in picture
    assert "77% of them recognisable (real digits: 97%)" in picture
    assert "(results.md#todays-default-python-trainpy-with-no-flags)" in picture
    # ... and without a current record of it, an error, the README left alone.
    monkeypatch.setattr(experiments, "README_RUN", ("today", 4))
    assert experiments.main(from_records + ["--readme", str(readme)]) == 2
    assert "--readme: no current run or record of today seed 4" in capsys.readouterr().err
    assert readme.read_text() == text
    # Neither runs nor records: nothing to write tables from.
    empty = tmp / "empty"
    empty.mkdir()
    shutil.copy(doc, empty / "results.md")
    assert experiments.main(["--render-only", "--seeds", "3", "--runs-dir", str(tmp / "none"),
                             "--doc", str(empty / "results.md")]) == 2
    assert experiments.main(["--doc", str(tmp / "missing.md")]) == 2


def test_the_block_names_the_classifier_and_says_when_rows_used_different_ones():
    from keras_gan import experiments

    def summary(architecture, accuracy, floor):
        return {"evaluation": {"classifier": {"architecture": architecture, "test_accuracy": accuracy},
                               "frechet_distance_real_train_vs_reference": floor}}

    same = [summary("cnn/v3", 0.981, 0.817), summary("cnn/v3", 0.981, 0.8171)]
    assert experiments.classifiers(same) == (
        "Real-vs-real Fréchet floor: 0.82. Classifier cnn/v3, accuracy on the reference images 0.9810.")
    mixed = same + [summary("cnn/v2", 0.985, 0.70)]
    assert experiments.classifiers(mixed) == (
        "Measured with different evaluation classifiers, so rows of different ones compare only roughly: "
        "cnn/v2, accuracy on the reference images 0.9850, real-vs-real Fréchet floor 0.70 (1 run); "
        "cnn/v3, accuracy on the reference images 0.9810, real-vs-real Fréchet floor 0.82 (2 runs).")


def test_longer_runs_are_compared_after_equal_steps_not_seconds(tmp_path):
    """The longer table reads each curve at 12,000, 24,000 and 36,000 steps
    (point i after epoch i + 1), whatever the seconds: a 3x run on a machine
    twice as slow reads the same; a curve not one point per epoch reads —."""
    from keras_gan import experiments
    from keras_gan.evaluation import curves

    def record(name, epochs, seconds_per_epoch, points=None):
        values = [100.0 / (e + 1) for e in range(points or epochs)]
        seconds = [seconds_per_epoch * (e + 1) for e in range(points or epochs)]
        summary = {"epochs": epochs, "steps_per_epoch": 1000, "steps": epochs * 1000, "seconds": seconds[-1],
                   "evaluation": {"frechet_ratio_to_real": 1.5, "recognisable": {"samples": 0.8, "reference": 0.9}}}
        return (name, "0"), {"summary": summary, "curves": {curves.TAG: [seconds, values],
                                                             curves.RECOGNISABLE_TAG: [seconds, values]}}

    runs = [record("default", 12, 40.0), record("default-3x", 36, 80.0), record("default-3x", 36, 40.0, points=37)]
    lines = experiments.longer_runs([r for r, _ in runs], [c for _, c in runs], str(tmp_path))
    rows = lines[0].splitlines()
    assert "| ÷ floor after 12,000 steps | ÷ floor after 24,000 steps | ÷ floor after 36,000 steps |" in rows[0]
    assert rows[2] == "| default | 0 | 12,000 | 480 | 8.3× | — | — | 1.5× | 0.80 / 0.90 |"
    assert rows[3] == "| default-3x | 0 | 36,000 | 2880 | 8.3× | 4.2× | 2.8× | 1.5× | 0.80 / 0.90 |"
    assert rows[4] == "| default-3x | 0 | 36,000 | 1480 | — | — | — | 1.5× | 0.80 / 0.90 |"
    assert (tmp_path / "longer.png").is_file() and (tmp_path / "longer_recognisable.png").is_file()


@pytest.fixture
def commands(monkeypatch, tmp_path):
    """run_one's train.py commands and environments, recorded instead of run."""
    from keras_gan import experiments

    seen = []

    def record(command, env, **kwargs):
        seen.append((command, env))
        return types.SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(experiments.subprocess, "run", record)
    return seen


def test_each_configuration_runs_train_py_with_flags_it_accepts(commands, tmp_path):
    """TensorFlow runs compile with pinned settings (runs compared at equal
    seconds must not differ by what a compile trial chose); the other backends
    run under their KERAS_BACKEND with their own rules; and train.py's parser
    accepts every configuration's command."""
    from keras_gan import experiments
    from keras_gan.cli import flags

    for name in experiments.CONFIGS:
        experiments.run_one(name, 0, str(tmp_path), {"--epochs": "1"})
    assert len(commands) == len(experiments.CONFIGS)
    for name, (command, env) in zip(experiments.CONFIGS, commands):
        assert command[1] == os.path.join(ROOT, "train.py")
        args = flags.parse_args(command[2:])
        assert args.seed == 0 and args.no_export and args.epochs == 1 and args.steps is None, name
        assert args.logdir == os.path.join(str(tmp_path), f"{name}-s0")
        backend = experiments.ENVIRONMENT.get(name, {}).get("KERAS_BACKEND", "tensorflow")
        assert env["KERAS_BACKEND"] == backend, name
        if name == "today":  # lazy R1's tf.cond: XLA off, as train.py's rule has it on a CPU
            assert (args.jit_compile, args.steps_per_execution) == ("off", 16)
            assert args.r1_interval == flags.RECIPE["r1_interval"] > 1
        elif backend == "tensorflow":
            assert (args.jit_compile, args.steps_per_execution) == ("on", 16), name
        else:
            assert args.jit_compile == "auto" and args.steps_per_execution is None, name
    by_name = {name: flags.parse_args(command[2:]) for name, (command, env) in zip(experiments.CONFIGS, commands)}
    assert by_name["default-k2"].k == 2 and by_name["conditional"].conditional
    assert by_name["conv-k1-ns"].learning_rate == 2e-4 and by_name["conv-k1-ns"].r1_gamma == 0
    assert by_name["default-3x"].epochs == 1  # a length override replaces the config's length


def test_a_run_trained_on_the_reference_images_is_trained_again(commands, tmp_path):
    """A finished run from before the evaluation's images were held out (its
    summary has no training_images) is run with --fresh; a current one is not."""
    from keras_gan import experiments

    run = tmp_path / "mlp-k1-ns-s0"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({"steps": 4}))
    experiments.run_one("mlp-k1-ns", 0, str(tmp_path), {})
    (run / "summary.json").write_text(json.dumps({"steps": 4, "training_images": 4000}))
    experiments.run_one("mlp-k1-ns", 0, str(tmp_path), {})
    assert "--fresh" in commands[0][0] and "--fresh" not in commands[1][0]


def test_the_committed_tables_and_readme_picture_are_what_the_records_render(tmp_path):
    """docs/results.md's block and the README's picture and caption are the
    command's output from the committed records (docs/run-records/), not
    figures typed by hand or left over from another recipe."""
    from keras_gan import experiments

    docs = tmp_path / "docs"
    shutil.copytree(os.path.join(ROOT, "docs", "run-records"), docs / "run-records")
    shutil.copy(os.path.join(ROOT, "docs", "results.md"), docs / "results.md")
    shutil.copy(os.path.join(ROOT, "README.md"), tmp_path / "README.md")
    assert experiments.main(["--render-only", "--runs-dir", str(tmp_path / "no-runs"),
                             "--doc", str(docs / "results.md"), "--readme", str(tmp_path / "README.md")]) == 0

    def blocks(readme, doc):
        text = open(readme).read()
        picture = text[text.index(experiments.README_BEGIN):text.index(experiments.README_END)]
        tables = [line for line in block_of(open(doc).read()).splitlines() if not line.startswith("Made by")]
        return picture, tables

    rendered = blocks(tmp_path / "README.md", docs / "results.md")
    assert rendered == blocks(os.path.join(ROOT, "README.md"), os.path.join(ROOT, "docs", "results.md"))
    picture = rendered[0]
    assert f"(docs/images/results/{experiments.README_RUN[0]}-s{experiments.README_RUN[1]}.png)" in picture
