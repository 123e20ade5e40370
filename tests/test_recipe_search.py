"""benchmarks/recipe_search.py: the table of the runs that chose the default
recipe, read from each run's settings, per-epoch curve and closing evaluation."""

import json

import pytest

from benchmarks import recipe_search


def finished_run(folder, values, steps=4000, steps_per_epoch=1000):
    """A finished run's files: run.json, summary.json and its per-epoch curve
    `values` in TensorBoard, as train.py writes them."""
    import tensorflow as tf

    from keras_gan.common.layout import TENSORBOARD_DIR
    from keras_gan.evaluation.curves import START_TAG, TAG

    folder.mkdir()
    settings = {"seed": 1, "steps": steps, "learning_rate": 0.002, "beta_1": 0.0, "ema": 0.995,
                "r1_interval": 16, "steps_per_epoch": steps_per_epoch, "model": "conv"}
    (folder / "run.json").write_text(json.dumps(settings))
    (folder / "summary.json").write_text(json.dumps(
        {"evaluation": {"frechet_ratio_to_real": 3.8, "recognisable": {"samples": 0.77, "reference": 0.94}}}))
    writer = tf.summary.create_file_writer(str(folder / TENSORBOARD_DIR))
    with writer.as_default():
        tf.summary.text(START_TAG, "flags", step=0)
        for epoch, value in enumerate(values, start=1):
            tf.summary.scalar(TAG, value, step=epoch)
    writer.close()


def test_each_run_is_a_row_of_its_settings_curve_and_closing_evaluation(tmp_path):
    # Increasing values: equal wall times could not reorder them.
    finished_run(tmp_path / "fast", [4.0, 5.0, 6.0, 7.0])
    finished_run(tmp_path / "short-epochs", [9.0, 10.0, 11.0, 12.0, 13.0, 14.0], steps=3000, steps_per_epoch=500)
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{recipe_search.BEGIN}\nold\n{recipe_search.END}\nafter\n")
    saved = tmp_path / "runs.json"
    assert recipe_search.main([str(tmp_path / "fast"), str(tmp_path / "short-epochs"), "--save", str(saved)]) == 0
    assert recipe_search.main(["--from-json", str(saved), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    # After 2,000 and 4,000 steps: epochs 2 and 4 of 1,000 steps, epochs 4 and 8 of 500.
    assert "| fast | 1 | 4,000 | 0.002 | 0 | 0.995 | 16 | 5.00 | 7.00 | — | — | 3.80 | 0.770 |" in text
    assert "| short-epochs | 1 | 3,000 | 0.002 | 0 | 0.995 | 16 | 12.00 | — | — | — | 3.80 | 0.770 |" in text


def test_an_unfinished_run_is_one_line_naming_it(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "run.json").write_text("{}")
    with pytest.raises(SystemExit) as stop:
        recipe_search.main([str(tmp_path / "half")])
    assert stop.value.code == 2
    assert "half: no summary.json (not a finished train.py run)" in capsys.readouterr().err
