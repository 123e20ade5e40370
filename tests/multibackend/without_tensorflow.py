"""Run a script as on a machine without TensorFlow: `import tensorflow` (and
tensorflow-datasets, tf-keras) fails, and `importlib.util.find_spec` does
not find them. The other packages stay importable.

    python tests/multibackend/without_tensorflow.py SCRIPT [ARGS...]
"""

import importlib.abc
import runpy
import sys

BLOCKED = ("tensorflow", "tensorflow_datasets", "tf_keras")


class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (without_tensorflow.py)", name=name)
        return None


sys.meta_path.insert(0, NoTensorFlow())
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, ".")
runpy.run_path(script, run_name="__main__")
