"""TensorBoard logs and image files of a run, read back the way a user sees them."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator

from keras_gan import GAN, build_models
from keras_gan.training.monitor import GANMonitor, slerp
from keras_gan.data import make_dataset, scale_images

from conftest import free_port, tiny_images

EPOCHS, STEPS, EVERY = 3, 8, 3


@pytest.fixture(scope="module")
def monitored(tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("run"))
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("mlp"), seed=0)
    gan.compile()
    images = tiny_images(64)
    monitor = GANMonitor(run_dir, real_images=scale_images(images[:32]), num_images=9,
                         seed=0, log_every_n_steps=EVERY, flags={"model": "mlp", "k": 1})
    history = gan.fit(
        make_dataset(images, batch_size=8, seed=0), epochs=EPOCHS, verbose=0,
        callbacks=[keras.callbacks.TensorBoard(run_dir, write_graph=False), monitor],
    )
    accumulator = event_accumulator.EventAccumulator(
        os.path.join(run_dir, "train"), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    return run_dir, history.history, accumulator, gan


def series(accumulator, tag):
    events = accumulator.Tensors(tag)
    return [e.step for e in events], [tf.make_ndarray(e.tensor_proto) for e in events]


@pytest.mark.parametrize("name", ["d_loss", "g_loss", "d_real", "d_fake"])
def test_epoch_scalars_match_history(monitored, name):
    _, history, accumulator, _ = monitored
    steps, values = series(accumulator, f"epoch_{name}")
    assert steps == list(range(EPOCHS))
    np.testing.assert_allclose([float(v) for v in values], history[name], rtol=1e-6)


def test_step_scalars_and_real_learning_rates(monitored):
    _, history, accumulator, gan = monitored
    steps, values = series(accumulator, "steps/d_loss")
    assert steps == list(range(EVERY, EPOCHS * STEPS + 1, EVERY))
    assert all(np.isfinite(float(v)) for v in values)
    # The last logged step of each epoch carries that epoch's running mean.
    assert float(values[-1]) == pytest.approx(history["d_loss"][-1], rel=1e-6)
    for player, optimizer in (("discriminator", gan.d_optimizer), ("generator", gan.g_optimizer)):
        _, rates = series(accumulator, f"learning_rate/{player}")
        assert rates and all(float(r) == pytest.approx(float(optimizer.learning_rate)) for r in rates)
    assert "epoch_learning_rate" not in accumulator.Tags()["tensors"]  # no dummy optimizer


def test_fixed_noise_images_histograms_and_flags(monitored):
    _, _, accumulator, _ = monitored
    steps, images = series(accumulator, "samples/fixed_noise")
    assert steps == list(range(EPOCHS))
    width, height, png = images[0]
    decoded = tf.io.decode_png(png).numpy()
    assert decoded.shape == (int(height), int(width), 1) == (3 * 30 + 2, 3 * 30 + 2, 1)
    assert not np.array_equal(tf.io.decode_png(images[-1][2]).numpy(), decoded)  # training moved G
    for tag in ("d_output/real", "d_output/fake"):
        steps, hists = series(accumulator, tag)
        assert steps == list(range(EPOCHS))
        assert all(h.shape[1] == 3 and h[:, 2].sum() == 32 for h in hists)  # 32 images counted
    _, texts = series(accumulator, "run/flags")
    assert b"| model | mlp |" in texts[0].item()


def test_files_decode_with_the_expected_frames_and_sizes(monitored):
    run_dir, _, _, _ = monitored
    for epoch in range(1, EPOCHS + 1):
        with Image.open(os.path.join(run_dir, "samples", f"epoch_{epoch:03d}.png")) as png:
            assert png.size == (2 * 92, 2 * 92)
    with Image.open(os.path.join(run_dir, "progress.gif")) as gif:
        assert gif.format == "GIF" and gif.n_frames == EPOCHS and gif.size == (2 * 92, 2 * 92)
    with Image.open(os.path.join(run_dir, "loss_curves.png")) as png:
        assert png.format == "PNG" and png.size == (1000, 360)
    with Image.open(os.path.join(run_dir, "interpolation.png")) as png:
        assert png.size == (2 * (10 * 30 + 2), 2 * (8 * 30 + 2))  # 8 walks of 10 steps


def test_slerp_endpoints_and_midpoint():
    z0, z1 = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    np.testing.assert_allclose(slerp(z0, z1, 0.0), z0, atol=1e-7)
    np.testing.assert_allclose(slerp(z0, z1, 1.0), z1, atol=1e-7)
    np.testing.assert_allclose(slerp(z0, z1, 0.5), [[2**-0.5, 2**-0.5]], atol=1e-7)  # stays on the circle
    np.testing.assert_allclose(slerp(z0, z0, 0.3), z0, atol=1e-7)  # parallel: no NaN


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_tensorboard_server_serves_our_scalars_and_images(monitored):
    run_dir, history, _, _ = monitored
    port = free_port()
    tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen(
        [tensorboard, "--logdir", run_dir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, scalar_tags = time.monotonic() + 90, {}
        while time.monotonic() < deadline:
            try:
                scalar_tags = get_json(f"{base}/data/plugin/scalars/tags")
                if "epoch_d_loss" in scalar_tags.get("train", {}):
                    break
            except OSError:
                pass
            assert server.poll() is None, "tensorboard exited"
            time.sleep(0.5)
        assert {"epoch_d_loss", "steps/g_loss", "learning_rate/generator"} <= set(scalar_tags["train"])
        points = get_json(f"{base}/data/plugin/scalars/scalars?run=train&tag=epoch_g_loss")
        assert [p[1] for p in points] == list(range(EPOCHS))
        np.testing.assert_allclose([p[2] for p in points], history["g_loss"], rtol=1e-6)
        image_tags = get_json(f"{base}/data/plugin/images/tags")
        assert "samples/fixed_noise" in image_tags["train"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
