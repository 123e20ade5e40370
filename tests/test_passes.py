"""benchmarks/passes.py: a step's passes and layers, timed alone, into the doc."""

import collections
import shutil

import pytest

from conftest import ROOT

from benchmarks import arithmetic, passes


def test_the_sums_and_rates_are_the_passes_own():
    results = {"date": "d", "machine": "m", "peak": 100.0, "cell": "conv-2", "repeats": 1,
               "passes": [{"pass": "a", "loop": "ours", "gflop": 1.0, "ms": 20.0},
                          {"pass": "b", "loop": "ours", "gflop": 3.0, "ms": 20.0},
                          {"pass": "t", "loop": "T", "gflop": 2.0, "ms": 10.0}],
               "layers": [{"layer": "G: Dense -> 8", "gflop": 0.5, "ms": 10.0}]}
    lines = passes.markdown(results).splitlines()
    # 4 GFLOP in 40 ms = 100 GFLOP/s = the whole peak; 2 GFLOP in 10 ms = 200 (200 %).
    assert "| **sum for ours** | ours | 4.00 | 40.0 | 100 (100 %) |" in lines
    assert "| **sum for T** | T | 2.00 | 10.0 | 200 (200 %) |" in lines
    assert "| G: Dense -> 8 | 0.500 | 10.00 | 50 (50 %) |" in lines


HEAVY_OPS = ("MatMul", "BatchMatMulV2", "Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter")


def heavy_flops(function, *input_signature):
    """{op type: FLOPs} of the matmuls and convolutions in `function`'s TensorFlow
    graph, forward and backward, by TensorFlow's profiler statistics."""
    import tensorflow as tf
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.profiler.internal import flops_registry  # noqa: F401 (registers "flops")

    graph = tf.function(function).get_concrete_function(*input_signature).graph
    flops = collections.Counter()
    for op in graph.get_operations():
        assert op.type not in ("StatefulPartitionedCall", "PartitionedCall"), "a nested function"
        if op.type in HEAVY_OPS:
            flops[op.type] += int(tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value)
    return flops


def test_the_passes_count_the_same_arithmetic_as_the_step():
    """Ours' passes together build exactly the matmuls and convolutions (forward and
    backward, FLOP for FLOP) of the real GAN.train_step for k = 1, both traced by
    TensorFlow; and their declared forward-equivalents are Algorithm 1's and T's."""
    import keras
    import tensorflow as tf

    from keras_gan import GAN
    from keras_gan.model.networks import build_models

    m = 2
    generator, discriminator = build_models("conv")
    table = passes.step_passes(generator, discriminator, m)
    gan = GAN(generator, discriminator, k=1, seed=0)
    gan.compile()
    step = heavy_flops(gan.train_step, tf.TensorSpec([m, 28, 28, 1], tf.float32))
    ours = sum((heavy_flops(function) for function, _, loop in table.values() if loop == "ours"),
               start=collections.Counter())
    assert step["Conv2DBackpropFilter"] > 0 and step["MatMul"] > 0  # forward and backward traced
    assert dict(ours) == dict(step)

    g, d = arithmetic.family_forward_flops("conv")
    counted = {"ours": 0, "T": 0}
    for _, (g_count, d_count), loop in table.values():
        counted[loop] += g_count * g + d_count * d
    flops = arithmetic.flops_per_image("conv")
    assert counted["ours"] == pytest.approx(flops["algorithm_1"])
    assert counted["T"] == pytest.approx(flops["tutorial"])
    # And each pass runs: the gradients it returns are of the right variables.
    function, _, _ = table["G update: G and D forward, backward to G"]
    grads = function()
    assert [tuple(g.shape) for g in grads] == [tuple(v.shape) for v in generator.trainable_variables]
    assert keras.ops.max(keras.ops.abs(grads[0])) > 0


def test_the_command_writes_only_its_block(tmp_path, capsys):
    doc = tmp_path / "performance.md"
    shutil.copy(f"{ROOT}/docs/performance.md", doc)
    before = doc.read_text()
    assert passes.main(["--cell", "mlp-4", "--repeats", "1", "--doc", str(doc)]) == 0
    table = capsys.readouterr().out
    assert "| **sum for ours** | ours |" in table and "| mlp_generator: Dense -> 784 |" in table
    after = doc.read_text()
    assert table.strip() in after
    assert after.split(passes.DOC_BEGIN)[0] == before.split(passes.DOC_BEGIN)[0]
    assert after.split(passes.DOC_END)[1] == before.split(passes.DOC_END)[1]
    assert passes.main(["--cell", "mlp-4,conv-8"]) == 2
    assert "passes.py: error: --cell mlp-4,conv-8: expected one cell" in capsys.readouterr().err
