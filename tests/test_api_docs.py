"""``make docs`` builds the API reference from the docstrings: one page per module of
``pipeline``, every module importable by the tool. Built here, so it cannot go stale."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import pipeline
from tests.cli_support import load_script

ROOT = Path(__file__).resolve().parents[1]
build_api_docs = load_script(ROOT / "scripts" / "build_api_docs.py")


def _make_docs_arguments() -> list[str]:
    """The Makefile's ``docs`` recipe: the script it runs must be ``build_api_docs.py``;
    returns the arguments it passes."""
    recipe = re.search(r"^docs:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe, "the Makefile has no docs target"
    words = recipe.group(1).split()
    assert words[:2] == ["$(BIN)/python", "scripts/build_api_docs.py"], words
    return words[2:]


def test_make_docs_writes_a_page_for_every_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recipe's script, run in this process (it imports what the tests imported: a
    process of its own took 12 s of CPU, most of it importing TensorFlow again)."""
    arguments = _make_docs_arguments()
    arguments[arguments.index("docs/api")] = str(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert build_api_docs.main(arguments) == 0
    errors = capsys.readouterr().err
    assert "Error importing" not in errors, errors[-3000:]
    # Found: every module was listed beside its package, which pdoc walks too, so each
    # build printed a hundred "already been added" warnings that would hide a real one.
    assert [str(warning.message) for warning in caught] == []
    modules = [
        info.name
        for info in pkgutil.walk_packages(pipeline.__path__, "pipeline.")
        if not info.name.endswith("__main__")
    ]
    pages = {
        ".".join(page.relative_to(tmp_path).with_suffix("").parts)
        for page in tmp_path.rglob("*.html")
    }
    assert {"pipeline", *modules} - pages == set()
    registry = (tmp_path / "pipeline" / "runs" / "registry.html").read_text()
    assert "RunRegistry" in registry and "import_zip" in registry


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    """Found: ``--output`` under a file (or anywhere not writable) ended in pathlib's
    traceback after the whole build; it is now refused first, in one line, with the fix."""
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    done = subprocess.run(
        [sys.executable, "scripts/build_api_docs.py", "--output", str(taken / "api")],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stderr.strip().splitlines() == [
        f"Cannot write the API reference to {taken / 'api'} (Not a directory); "
        "pass --output a folder you can write to."
    ]
