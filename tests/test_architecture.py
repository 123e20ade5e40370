"""The map of the code cannot drift: imports point one way, and
docs/architecture.md names every module and benchmark (and nothing that is gone)."""

import ast
import os
import re

import pytest

from conftest import ROOT

# Bottom to top: a module may import its own layer and the layers below it.
LAYERS = ["common", "data", "model", "outputs", "evaluation", "training", "cli", "entry"]
ENTRY_POINTS = {"train", "export", "evaluate", "experiments", "toy"}  # python -m keras_gan.<name>


def layer_of(module):
    """keras_gan.model.gan -> "model"; keras_gan.train, keras_gan.toy.game -> "entry"."""
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself: its lazy names are strings, not imports
    return "entry" if parts[1] in ENTRY_POINTS else parts[1]


def modules():
    """(dotted name, path) of every module of the package."""
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "keras_gan")):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found.append((dotted.removesuffix(".__init__"), path))
    return sorted(found)


def imported_modules(path, module):
    """The keras_gan modules `path` imports, at any depth of the file."""
    tree = ast.parse(open(path).read())
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).rstrip(".")
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return sorted({n for n in names if n.startswith("keras_gan.")})


def test_every_folder_of_the_package_is_a_known_layer():
    folders = {layer_of(m) for m, _ in modules()} - {None}
    assert folders <= set(LAYERS), f"unknown layer(s): {sorted(folders - set(LAYERS))}"


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_imports_point_down_the_layers(module, path):
    here = LAYERS.index(layer_of(module)) if layer_of(module) else len(LAYERS)
    upward = [name for name in imported_modules(path, module)
              if layer_of(name) in LAYERS and LAYERS.index(layer_of(name)) > here]
    assert not upward, f"{module} ({layer_of(module)}) imports upward: {upward}"


def test_the_layer_check_sees_an_upward_import(tmp_path):
    """The check above is not vacuous: an evaluation module importing training is caught."""
    path = tmp_path / "bad.py"
    path.write_text("def f():\n    from keras_gan.training import monitor\n")
    names = imported_modules(str(path), "keras_gan.evaluation.bad")
    assert "keras_gan.training.monitor" in names
    assert LAYERS.index(layer_of("keras_gan.training.monitor")) > LAYERS.index("evaluation")


def architecture_page():
    return open(os.path.join(ROOT, "docs", "architecture.md")).read()


def listed_paths(page):
    """Paths the page's module map names: `keras_gan/...py`, `keras_gan/.../`, `benchmarks/...py`."""
    return set(re.findall(r"`((?:keras_gan|benchmarks|tests)/[\w/]*(?:\.py|/))`", page))


def test_the_architecture_page_names_every_module_and_benchmark():
    listed = listed_paths(architecture_page())
    expected = {os.path.relpath(path, ROOT) for _, path in modules()
                if not path.endswith(("__init__.py", "__main__.py"))}
    expected |= {f"benchmarks/{name}" for name in os.listdir(os.path.join(ROOT, "benchmarks"))
                 if name.endswith(".py") and name != "__init__.py"}
    missing = sorted(expected - listed)
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_every_path_the_architecture_page_names_exists():
    gone = sorted(p for p in listed_paths(architecture_page()) if not os.path.exists(os.path.join(ROOT, p)))
    assert not gone, f"docs/architecture.md names what is not there: {gone}"


def test_readme_names_every_folder_of_the_package():
    readme = open(os.path.join(ROOT, "README.md")).read()
    block = readme.split("## What's inside", 1)[1].split("\n## ", 1)[0]
    folders = sorted(name for name in os.listdir(os.path.join(ROOT, "keras_gan"))
                     if os.path.isdir(os.path.join(ROOT, "keras_gan", name)) and name != "__pycache__")
    missing = [f for f in folders if f"{f}/" not in block]
    assert not missing, f"README's What's inside does not name: {missing}"
    assert "docs/architecture.md" in block


def named_tests(text):
    """The test functions a text names (`test_...`, not a `test_....py` file)."""
    return set(re.findall(r"\btest_\w+\b(?!\.py)", text))


def test_every_test_the_docs_name_exists():
    """A doc that says "this test proves it" must name a test that is there:
    tests are merged and renamed, and the docs must follow."""
    defined = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for name in files:
            if name.endswith(".py"):
                defined |= set(re.findall(r"^\s*def (test_\w+)", open(os.path.join(folder, name)).read(), re.M))
    docs = [os.path.join(ROOT, "README.md")] + [
        os.path.join(ROOT, "docs", name) for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md")]
    gone = {os.path.relpath(path, ROOT): sorted(named_tests(open(path).read()) - defined) for path in docs}
    gone = {path: names for path, names in gone.items() if names}
    assert not gone, f"docs name tests that do not exist: {gone}"
    assert named_tests("`tests/test_resume.py::test_a_run` and test_gone") == {"test_a_run", "test_gone"}


def test_the_longest_first_order_names_test_files_that_exist():
    """tests/conftest.py's LONGEST_FIRST orders files by name: a renamed or
    removed file would fall silently to the end of the order."""
    from conftest import LONGEST_FIRST

    files = {name for _, _, names in os.walk(os.path.join(ROOT, "tests")) for name in names}
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
    assert [name for name in LONGEST_FIRST if name not in files] == []
