"""TensorBoard summaries on any Keras backend.

Keras on TensorFlow writes them with `tf.summary` (as it always did). Keras
on JAX or PyTorch, TensorFlow installed or not, writes the same tags as
event-file protocol buffers through the `tensorboard` package alone, in
TensorFlow 2's layout (scalars and text as tensors with their plugin's
metadata), so TensorBoard and keras_gan/evaluation/curves.py read both alike.
With neither package, nothing is written and a NOTE says so once.
"""

import io
import os
import sys
import time

import numpy as np

from keras_gan.common.installed import installed
from keras_gan.common.layout import TENSORBOARD_DIR

_warned = []


def _use_tf_summary():
    """tf.summary for Keras on TensorFlow; on JAX and PyTorch only if the
    tensorboard package is missing (so they need not start TensorFlow)."""
    import keras

    if not installed("tensorflow"):
        return False
    return keras.backend.backend() == "tensorflow" or not installed("tensorboard")


def create_writer(logdir):
    """A writer of scalars, images, histograms and text under `logdir`."""
    if _use_tf_summary():
        return TensorFlowWriter(logdir)
    if installed("tensorboard"):
        return EventFileWriter(logdir)
    if not _warned:
        _warned.append(True)
        print("NOTE: no TensorBoard logs: neither tensorflow nor tensorboard is installed here.",
              file=sys.stderr, flush=True)
    return NullWriter()


class TensorFlowWriter:
    def __init__(self, logdir):
        import tensorflow as tf

        self.tf = tf
        self.writer = tf.summary.create_file_writer(logdir)

    def scalar(self, name, value, step):
        with self.writer.as_default():
            self.tf.summary.scalar(name, value, step=step)

    def image(self, name, image, step):
        """image: [H, W] floats in [0, 1]."""
        with self.writer.as_default():
            self.tf.summary.image(name, np.asarray(image)[None, :, :, None], step=step)

    def histogram(self, name, values, step):
        with self.writer.as_default():
            self.tf.summary.histogram(name, values, step=step)

    def text(self, name, text, step):
        with self.writer.as_default():
            self.tf.summary.text(name, text, step=step)

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


class EventFileWriter:
    """The same summaries, written with the `tensorboard` package only."""

    def __init__(self, logdir):
        from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter as Writer

        os.makedirs(logdir, exist_ok=True)
        self.pb = summary_pb2
        self.tensor_pb2, self.shape_pb2, self.types_pb2 = tensor_pb2, tensor_shape_pb2, types_pb2
        self.writer = Writer(logdir)

    def _write(self, value, step):
        from tensorboard.compat.proto.event_pb2 import Event

        event = Event(wall_time=time.time(), step=int(step), summary=self.pb.Summary(value=[value]))
        self.writer.add_event(event)

    def _metadata(self, plugin):
        return self.pb.SummaryMetadata(plugin_data=self.pb.SummaryMetadata.PluginData(plugin_name=plugin))

    def scalar(self, name, value, step):
        tensor = self.tensor_pb2.TensorProto(dtype=self.types_pb2.DT_FLOAT, float_val=[float(value)],
                                             tensor_shape=self.shape_pb2.TensorShapeProto())
        self._write(self.pb.Summary.Value(tag=name, tensor=tensor, metadata=self._metadata("scalars")), step)

    def image(self, name, image, step):
        from PIL import Image

        pixels = np.clip(np.asarray(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        png = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(png, format="PNG")
        summary_image = self.pb.Summary.Image(height=pixels.shape[0], width=pixels.shape[1], colorspace=1,
                                              encoded_image_string=png.getvalue())
        self._write(self.pb.Summary.Value(tag=name, image=summary_image), step)

    def histogram(self, name, values, step):
        values = np.asarray(values, np.float64).ravel()
        counts, edges = np.histogram(values, bins=30)
        histogram = self.pb.HistogramProto(
            min=float(values.min()), max=float(values.max()), num=float(values.size),
            sum=float(values.sum()), sum_squares=float(np.square(values).sum()),
            bucket_limit=[float(e) for e in edges[1:]], bucket=[float(c) for c in counts])
        self._write(self.pb.Summary.Value(tag=name, histo=histogram), step)

    def text(self, name, text, step):
        tensor = self.tensor_pb2.TensorProto(dtype=self.types_pb2.DT_STRING, string_val=[text.encode()],
                                             tensor_shape=self.shape_pb2.TensorShapeProto())
        self._write(self.pb.Summary.Value(tag=name, tensor=tensor, metadata=self._metadata("text")), step)

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


class NullWriter:
    def scalar(self, name, value, step):
        pass

    image = histogram = text = scalar

    def flush(self):
        pass

    close = flush


def epoch_scalars_callback(logdir):
    """Keras' TensorBoard callback where `create_writer` uses tf.summary (the
    callback needs it), else the same per-epoch scalars ("epoch_<metric>"
    under <logdir>/train) from `create_writer`."""
    import keras

    if _use_tf_summary():
        return keras.callbacks.TensorBoard(logdir, write_graph=False)

    class EpochScalars(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.writer = create_writer(os.path.join(logdir, TENSORBOARD_DIR))

        def on_epoch_end(self, epoch, logs=None):
            for name, value in (logs or {}).items():
                self.writer.scalar(f"epoch_{name}", float(np.mean(value)), epoch)
            self.writer.flush()

        def on_train_end(self, logs=None):
            self.writer.close()

    return EpochScalars()
