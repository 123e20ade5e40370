"""The exported generator, checked the way a stranger uses it (saved_model_cli, a fresh
process, generate.py) and against TF Serving's request/response contract. The TF Serving
binary itself is never run: the contract tests play the server's part in this process
(docs/serving.md, "What was verified, and what was not")."""

import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.outputs.saved_model import (
    MAX_SAMPLES, export_generator, existing_versions, rest_predict_body,
)

from conftest import ROOT, quiet_environment

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


def make_gan(family):
    keras.utils.set_random_seed(3)
    gan = GAN(*build_models(family), seed=3)
    gan.compile()
    return gan


@pytest.fixture(scope="module", params=["conv", "mlp"])
def exported(request, tmp_path_factory):
    gan = make_gan(request.param)
    export_dir = tmp_path_factory.mktemp(f"export_{request.param}")
    path = export_generator(gan.generator, str(export_dir))
    return gan, path


@pytest.fixture(scope="module")
def exported_conv(tmp_path_factory):
    """The default family only, for the checks that start other processes."""
    gan = make_gan("conv")
    return gan, export_generator(gan.generator, str(tmp_path_factory.mktemp("export_cli")))


def signatures(path):
    return tf.saved_model.load(path).signatures


def test_serving_default_matches_generate(exported):
    gan, path = exported
    assert path.endswith(os.sep + "1")
    serve = signatures(path)["serving_default"]
    z = gan.latent_vectors(6, seed=11)
    out = serve(z=tf.constant(z))
    assert set(out) == {"images"}
    images = out["images"].numpy()
    assert images.shape == (6, 28, 28, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images, gan.generate(6, seed=11), atol=1e-6)


def test_sample_signature_is_seeded_and_matches_generate(exported):
    gan, path = exported
    sample = signatures(path)["sample"]
    out = sample(num_samples=tf.constant(5), seed=tf.constant(42))
    assert set(out) == {"images", "z"}
    np.testing.assert_allclose(out["z"].numpy(), gan.latent_vectors(5, seed=42), atol=1e-6)
    np.testing.assert_allclose(out["images"].numpy(), gan.generate(5, seed=42), atol=1e-6)
    again = sample(num_samples=tf.constant(5), seed=tf.constant(42))["images"].numpy()
    np.testing.assert_array_equal(again, out["images"].numpy())
    other = sample(num_samples=tf.constant(5), seed=tf.constant(43))["images"].numpy()
    assert not np.allclose(other, again)


@pytest.mark.parametrize("n", [0, -1, MAX_SAMPLES + 1])
def test_sample_rejects_out_of_range_counts_inside_the_graph(exported, n):
    _, path = exported
    sample = signatures(path)["sample"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"num_samples must be in 1\.\.10000"):
        sample(num_samples=tf.constant(n), seed=tf.constant(0))


@pytest.mark.parametrize(
    "z,message",
    [
        (np.zeros((2, 16), np.float32),
         r"Shape of tensor z \[2,16\] is not compatible with expected shape \[\?,32\]"),
        (np.zeros((32,), np.float32),
         r"Shape of tensor z \[32\] is not compatible with expected shape \[\?,32\]"),
        (np.zeros((2, 32), np.float64), r"expected to be a float tensor but is a double tensor"),
    ],
)
def test_wrong_z_is_a_clear_error(exported, z, message):
    _, path = exported
    serve = signatures(path)["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve(z=tf.constant(z))


def test_versions_are_added_never_overwritten(tmp_path):
    gan = make_gan("mlp")
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "saved_model.pb").write_bytes(b"an existing version")
    (tmp_path / "notes").mkdir()  # not a version: ignored
    path = export_generator(gan.generator, str(tmp_path))
    assert path == str(tmp_path / "8")
    assert (tmp_path / "7" / "saved_model.pb").read_bytes() == b"an existing version"
    assert existing_versions(str(tmp_path)) == [7, 8]
    assert export_generator(gan.generator, str(tmp_path)) == str(tmp_path / "9")
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


FRESH_PROCESS = r"""
import sys, numpy as np, tensorflow as tf
path, z_file, out_file = sys.argv[1:]
model = tf.saved_model.load(path)
z = np.load(z_file)
served = model.signatures["serving_default"](z=tf.constant(z))["images"].numpy()
sampled = model.signatures["sample"](num_samples=tf.constant(4), seed=tf.constant(9))
np.savez(out_file, served=served, sampled=sampled["images"].numpy(), z=sampled["z"].numpy())
print("modules:", "keras_gan" in sys.modules)
"""


def test_fresh_process_without_keras_gan_loads_and_matches(exported_conv, tmp_path):
    gan, path = exported_conv
    z = gan.latent_vectors(3, seed=5)
    np.save(tmp_path / "z.npy", z)
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, path, str(tmp_path / "z.npy"), str(tmp_path / "out.npz")],
        capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=""),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "modules: False" in result.stdout
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["served"], gan.generate(3, seed=5), atol=1e-6)
    np.testing.assert_allclose(out["sampled"], gan.generate(4, seed=9), atol=1e-6)


def run_cli(*args):
    result = subprocess.run(
        [SAVED_MODEL_CLI, *args], capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_saved_model_cli_show_and_run(exported_conv, tmp_path):
    gan, path = exported_conv
    shown = run_cli("show", "--dir", path, "--all")
    for text in (
        "signature_def['serving_default']", "signature_def['sample']",
        "inputs['z'] tensor_info", "shape: (-1, 32)", "inputs['num_samples'] tensor_info",
        "inputs['seed'] tensor_info", "outputs['images'] tensor_info", "outputs['z'] tensor_info",
        "shape: (-1, 28, 28, 1)",
    ):
        assert text in shown, text

    np.save(tmp_path / "z.npy", gan.latent_vectors(2, seed=1))
    run_cli("run", "--dir", path, "--tag_set", "serve", "--signature_def", "serving_default",
            "--inputs", f"z={tmp_path / 'z.npy'}", "--outdir", str(tmp_path / "a"))
    np.testing.assert_allclose(np.load(tmp_path / "a" / "images.npy"), gan.generate(2, seed=1), atol=1e-6)

    run_cli("run", "--dir", path, "--tag_set", "serve", "--signature_def", "sample",
            "--input_exprs", "num_samples=3;seed=8", "--outdir", str(tmp_path / "b"))
    np.testing.assert_allclose(np.load(tmp_path / "b" / "images.npy"), gan.generate(3, seed=8), atol=1e-6)


def test_grpc_predict_contract_request_and_response_protos_without_a_server(exported):
    """The gRPC contract, no server: PredictRequests built as a gRPC client would,
    serialized and parsed; this test then does the server's part (tf.make_ndarray,
    the loaded signature, a PredictResponse), and the client's parse of the response
    gives GAN.generate's images. TF Serving's own decoding is not exercised."""
    from tensorflow_serving.apis import predict_pb2

    gan, path = exported
    sigs = signatures(path)
    cases = [
        ("serving_default", {"z": gan.latent_vectors(2, seed=4)}, gan.generate(2, seed=4)),
        ("sample", {"num_samples": np.int32(3), "seed": np.int32(4)}, gan.generate(3, seed=4)),
    ]
    for signature_name, inputs, expected in cases:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "generator"
        request.model_spec.signature_name = signature_name
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
        # What the server receives:
        received = predict_pb2.PredictRequest.FromString(request.SerializeToString())
        feed = {k: tf.constant(tf.make_ndarray(v)) for k, v in received.inputs.items()}
        outputs = sigs[received.model_spec.signature_name](**feed)
        response = predict_pb2.PredictResponse()
        for name, tensor in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(tensor.numpy()))
        # What the client gets back:
        answer = predict_pb2.PredictResponse.FromString(response.SerializeToString())
        images = tf.make_ndarray(answer.outputs["images"])
        np.testing.assert_allclose(images, expected, atol=1e-6)


def feed_rest_body(sigs, body):
    """This test's own reading of TF Serving's documented REST :predict rules (rows
    stacked per input name, "inputs" taken as they are), fed to the loaded signature.
    A stand-in for the server, not the server."""
    body = json.loads(json.dumps(body))  # what goes over the wire
    signature = sigs[body.get("signature_name", "serving_default")]
    specs = signature.structured_input_signature[1]
    if "instances" in body:
        names = body["instances"][0].keys()
        raw = {n: [row[n] for row in body["instances"]] for n in names}
    else:
        raw = body["inputs"]
    feed = {n: tf.constant(np.asarray(v), dtype=specs[n].dtype) for n, v in raw.items()}
    return {k: v.numpy() for k, v in signature(**feed).items()}


def test_rest_predict_contract_row_and_columnar_bodies_without_a_server(exported):
    """rest_predict_body's row and columnar bodies, through JSON and `feed_rest_body`
    (the REST rules, not TF Serving), give GAN.generate's images; `sample` refuses rows."""
    gan, path = exported
    sigs = signatures(path)
    z = gan.latent_vectors(2, seed=6)
    for columnar in (False, True):
        out = feed_rest_body(sigs, rest_predict_body("serving_default", {"z": z}, columnar))
        np.testing.assert_allclose(out["images"], gan.generate(2, seed=6), atol=1e-5)
    out = feed_rest_body(sigs, rest_predict_body("sample", {"num_samples": 2, "seed": 6}, columnar=True))
    np.testing.assert_allclose(out["images"], gan.generate(2, seed=6), atol=1e-6)
    with pytest.raises(ValueError, match="row form"):
        rest_predict_body("sample", {"num_samples": 2, "seed": 6})


def test_docs_show_the_bodies_the_code_produces():
    """docs/serving.md's JSON examples are exactly what rest_predict_body makes."""
    text = open(os.path.join(ROOT, "docs", "serving.md")).read()
    blocks = re.findall(r"<!-- body: (\w+) (\w+) -->\s*```json\n(.*?)```", text, re.S)
    assert {(s, f) for s, f, _ in blocks} == {
        ("serving_default", "row"), ("serving_default", "columnar"), ("sample", "columnar")
    }
    z = np.zeros((2, 32), np.float32)
    z[1] = 0.5
    for signature_name, form, block in blocks:
        inputs = {"z": z} if signature_name == "serving_default" else {"num_samples": 4, "seed": 7}
        expected = rest_predict_body(signature_name, inputs, columnar=form == "columnar")
        assert json.loads(block) == expected


def test_generate_script_uses_only_the_export(exported, tmp_path, capsys):
    import generate
    from PIL import Image

    gan, path = exported
    folder = os.path.dirname(path)  # a folder of versions: resolves to the newest
    png, npy = tmp_path / "grid.png", tmp_path / "images.npy"
    argv = ["--model", folder, "--num-samples", "9", "--seed", "2", "--png", str(png), "--npy", str(npy)]
    assert generate.main(argv) == 0
    assert path in capsys.readouterr().out
    np.testing.assert_allclose(np.load(npy), gan.generate(9, seed=2), atol=1e-6)
    with Image.open(png) as image:
        assert image.size == (2 * (3 * 30 + 2),) * 2

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for bad, message in (
        (["--model", str(tmp_path / "nope")], "no such directory"),
        (["--model", str(tmp_path)], "neither a SavedModel nor a folder of versions"),
        (["--model", folder, "--num-samples", "0"], "--num-samples 0: expected 1..10000"),
        (["--model", folder, "--seed", str(2**31)], "--seed 2147483648: expected 0..2147483647"),
        (["--model", folder, "--num-samples", "x"], "argument --num-samples: invalid int value: 'x'"),
        (["--model", folder, "--npy", str(blocker / "x.npy")], f"--npy {blocker / 'x.npy'}: not writable"),
        (["--model", folder, "--npy", str(tmp_path)], f"--npy {tmp_path}: is a directory"),
    ):
        assert generate.main(bad + ["--png", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("generate.py: error: ") and message in err[0], err
    assert generate.main(["--model", folder, "--png", str(blocker / "x.png")]) == 2
    assert f"--png {blocker / 'x.png'}: not writable" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()  # not even when only the .npy was wrong


def test_generate_writes_both_files_or_neither(exported, tmp_path, monkeypatch, capsys):
    """A failure while writing the .npy leaves no PNG behind."""
    import generate

    _, path = exported
    png, npy = tmp_path / "grid.png", tmp_path / "images.npy"

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        generate.main(["--model", path, "--png", str(png), "--npy", str(npy)])
    assert os.listdir(tmp_path) == []


def export_cli(*argv, cwd):
    """`python -m keras_gan.export` in a fresh process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "keras_gan.export", *argv], capture_output=True, text=True,
        timeout=300, cwd=cwd, env=dict(quiet_environment(), PYTHONPATH=ROOT),
    )


def test_export_command_in_a_fresh_process(tmp_path, capsys, monkeypatch):
    """The GAN class must be registered by the command itself: nothing else
    imports keras_gan.model.gan in a fresh process. Bad input: one line, exit
    2 (the two that need a load, in this process: TensorFlow is imported here already)."""
    from keras_gan import export
    gan = make_gan("mlp")
    gan.save(str(tmp_path / "gan.keras"))
    keras.saving.save_model(gan.generator, str(tmp_path / "generator.keras"))
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = export_cli("--checkpoint", "gan.keras", "--export-dir", "out", cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == os.path.join("out", "1")
    images = signatures(str(tmp_path / "out" / "1"))["sample"](
        num_samples=tf.constant(3), seed=tf.constant(1))["images"].numpy()
    np.testing.assert_allclose(images, gan.generate(3, seed=1), atol=1e-6)

    monkeypatch.chdir(tmp_path)
    for argv, message in (
        (["--checkpoint", "generator.keras"], "--checkpoint generator.keras: holds a Functional, not a keras_gan GAN."),
        (["--checkpoint", "a-file"], "--checkpoint a-file: cannot load ("),
    ):
        assert export.main(argv) == 2, argv
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines == [f"python -m keras_gan.export: error: {message}"] or (
            len(lines) == 1 and lines[0].startswith(f"python -m keras_gan.export: error: {message}")), lines
    for argv, message in (
        (["--checkpoint", "missing.keras"], "--checkpoint missing.keras: no such file."),
        (["--checkpoint", "gan.keras", "--export-dir", "a-file/out"], "--export-dir a-file/out: not writable"),
        ([], "the following arguments are required: --checkpoint"),
        (["--checkpoint", "gan.keras", "--bogus"], "unrecognized arguments: --bogus"),
    ):
        result = export_cli(*argv, cwd=str(tmp_path))
        assert result.returncode == 2, (argv, result.stderr[-2000:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("python -m keras_gan.export: error: "), lines
        assert message in lines[0], lines
    assert os.listdir(tmp_path / "out") == ["1"]


def test_export_from_a_run_trained_under_mirrored_strategy(tmp_path, family="conv"):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "mirrored_export_job.py"), family, str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"exported {tmp_path / '1'}" in result.stdout
    sample = signatures(str(tmp_path / "1"))["sample"]
    images = sample(num_samples=tf.constant(3), seed=tf.constant(1))["images"].numpy()
    np.testing.assert_allclose(images, np.load(tmp_path / "expected.npy"), atol=1e-6)


def test_serving_docs_name_only_tests_that_exist():
    """docs/serving.md's account of what is verified names tests: each must exist."""
    text = open(os.path.join(ROOT, "docs", "serving.md")).read()
    named = set(re.findall(r"`(test_\w+)`", text))
    defined = set()
    for module in ("test_export.py", "test_conditional.py"):
        defined |= set(re.findall(r"^def (test_\w+)", open(os.path.join(ROOT, "tests", module)).read(), re.M))
    assert len(named) >= 6 and named <= defined, named - defined
