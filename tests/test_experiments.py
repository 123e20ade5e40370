"""python -m keras_gan.experiments: runs, reads summaries, writes docs/results.md's block."""

import importlib.util
import os
import shutil

from conftest import ROOT

# The default run on PyTorch needs the torch extra; without it that row is left
# out here (tests/test_backends.py's skip line names the extra).
TORCH = importlib.util.find_spec("torch") is not None


def test_a_quick_grid_writes_the_results_block_from_the_runs(tmp_path, evaluation, monkeypatch):
    from keras_gan import experiments

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    doc = tmp_path / "results.md"
    shutil.copy(os.path.join(ROOT, "docs", "results.md"), doc)
    before = doc.read_text()
    grid = ["mlp-k1-ns", "conditional", "default", "default-k2", "default-3x", *(["default-torch"] if TORCH else [])]
    argv = ["--only", *grid, "--seeds", "3", "--epochs", "1", "--steps-per-epoch", "4",
            "--no-download", "--classifier-dir", evaluation[2], "--runs-dir", str(tmp_path / "runs"),
            "--doc", str(doc)]
    assert experiments.main(argv) == 0
    text = doc.read_text()
    block = text[text.index(experiments.BEGIN):text.index(experiments.END)]
    assert text.replace(block, "") == before.replace(
        before[before.index(experiments.BEGIN):before.index(experiments.END)], "")
    assert "| Adversarial nets (the paper) | 225 ± 2 |" in block
    row = next(line for line in block.splitlines() if line.startswith("| mlp-k1-ns | 3 | mlp | 1 |"))
    summary_steps = "4"  # 1 epoch of 4 steps
    assert f"| {summary_steps} |" in row
    assert (tmp_path / "images" / "results" / "mlp-k1-ns-s3.png").is_file()
    assert "(images/results/mlp-k1-ns-s3.png)" in block
    # The conditional run: in its own table, and its class accuracy read from its summary.
    import json

    conditional = json.loads((tmp_path / "runs" / "conditional-s3" / "summary.json").read_text())
    accuracy = conditional["evaluation"]["conditional"]
    assert conditional["args"]["conditional"] is True
    prefix = (f"| conditional | 3 | {accuracy['class_accuracy']:.1%} | "
              f"{accuracy['lowest_class']}: {accuracy['lowest_class_accuracy']:.1%} |")
    assert any(line.startswith(prefix) for line in block.splitlines())
    assert any(line.startswith("| conditional | 3 | conv | 1 |") for line in block.splitlines())
    # k = 1 against k = 2, on the default's budget: a row each, read from their summaries.
    k2 = json.loads((tmp_path / "runs" / "default-k2-s3" / "summary.json").read_text())
    budget_run = json.loads((tmp_path / "runs" / "default-s3" / "summary.json").read_text())
    budget = budget_run["seconds"]
    assert f"| ÷ floor at {budget:.0f} s (2,000 samples) |" in block
    assert k2["discriminator_updates"] == 2 * k2["steps"]
    assert any(line.startswith(f"| default-k2 | 3 | 2 | 2.00 | {k2['seconds']:.0f} |")
               for line in block.splitlines())
    assert (tmp_path / "images" / "results" / "k_budget.png").is_file()
    # The default recipe made longer, beside the default, with its curve.
    longer = json.loads((tmp_path / "runs" / "default-3x-s3" / "summary.json").read_text())
    assert any(line.startswith(f"| default-3x | 3 | {longer['steps']:,} | {longer['seconds']:.0f} |")
               for line in block.splitlines())
    assert (tmp_path / "images" / "results" / "longer.png").is_file()
    assert (tmp_path / "images" / "results" / "longer_recognisable.png").is_file()
    assert (tmp_path / "images" / "results" / "recognisable.png").is_file()
    assert "![Fréchet ÷ floor against the recognisable share, every run]" in block
    recognisable = longer["evaluation"]["recognisable"]
    assert f"| {recognisable['samples']:.2f} / {recognisable['reference']:.2f} |" in block
    # TensorFlow runs compile with pinned settings, not a trial's: comparable at equal seconds.
    assert k2["compile"] == budget_run["compile"] == {"jit_compile": True, "steps_per_execution": 4,
                                                     "fused_steps": 1}
    if TORCH:
        # The default run on PyTorch (KERAS_BACKEND from the experiment), beside TensorFlow's.
        torch_run = json.loads((tmp_path / "runs" / "default-torch-s3" / "summary.json").read_text())
        assert torch_run["backend"] == "torch"
        assert torch_run["compile"]["jit_compile"] is False
        assert any(line.startswith("| default-torch | 3 | conv | 1 |") and line.endswith("| torch |")
                   for line in block.splitlines())
        assert any(line.startswith("| default | 3 | conv | 1 |") and line.endswith("| tensorflow |")
                   for line in block.splitlines())
    # Rerunning reuses the finished run instead of training it again.
    summary = tmp_path / "runs" / "mlp-k1-ns-s3" / "summary.json"
    written = summary.stat().st_mtime_ns
    assert experiments.main(argv) == 0
    assert summary.stat().st_mtime_ns == written
    # ... unless it was trained on the evaluation's reference images (a run
    # from before they were held out of the GAN's data): that one is trained again.
    stale = json.loads(summary.read_text())
    del stale["training_images"]
    summary.write_text(json.dumps(stale))
    assert experiments.main(argv) == 0
    assert json.loads(summary.read_text())["training_images"] == 4000
    # --render-only trains nothing: the finished runs' rows, and the rest listed as not run.
    render = ["--render-only", "--only", "mlp-k1-ns", "mlp-k2-ns", "--seeds", "3",
              "--runs-dir", str(tmp_path / "runs"), "--doc", str(doc)]
    assert experiments.main(render) == 0
    text = doc.read_text()
    assert any(line.startswith("| mlp-k1-ns | 3 | mlp | 1 |") for line in text.splitlines())
    not_run = next(line for line in text.splitlines() if line.startswith("**Not run yet**"))
    assert "mlp-k2-ns seed 3" in not_run and "mlp-k1-ns seed" not in not_run
    assert not (tmp_path / "runs" / "mlp-k2-ns-s3").exists()
    # --only merges: the rows of finished runs it did not name stay in the tables.
    assert any(line.startswith("| default-k2 | 3 | 2 | 2.00 |") for line in text.splitlines())
    assert any(line.startswith("| conditional | 3 | conv | 1 |") for line in text.splitlines())
    assert f"{len(experiments.CONFIGS) - len(grid)} runs" in not_run  # the grid's configurations finished above
    empty = ["--render-only", "--seeds", "3", "--runs-dir", str(tmp_path / "none"), "--doc", str(doc)]
    assert experiments.main(empty) == 2
    assert experiments.main(["--doc", str(tmp_path / "missing.md")]) == 2
