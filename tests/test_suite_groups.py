"""How ``make test`` spreads the suite over its pytest-xdist workers (``--dist loadgroup``):
each browser module and each Ray module runs as one group, on one worker, so its module
fixtures (a server of its own, a sweep, a local engine's reference file) are made once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import group_of_test

ROOT = Path(__file__).resolve().parents[1]
#: A browser test's mark, on a test or as a module's ``pytestmark``.
E2E_MARK = re.compile(r"^\s*(@pytest\.mark\.e2e\b|pytestmark\s*=.*\bmark\.e2e\b)", re.M)


def test_a_ray_modules_tests_run_on_one_worker() -> None:
    """Found: the groups were marks that pytest-xdist 3.8 writes into the tests' ids, which
    pytest 9.2's ids no longer take; no test was grouped, the tests of one module ran on
    both workers, and ``test_sweep.py``'s first sweep (25 s) was made on each.

    Three quick tests of one Ray module (no Ray started: bad flags, the search space) on
    two workers, as ``make test`` runs them: one worker runs all three."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v", "-p",
         "no:cacheprovider", "tests/cluster/test_sweep.py", "-k", "bad_flags or space"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTEST_ADDOPTS": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    workers = re.findall(r"^\[(gw\d+)\] .*PASSED tests/cluster/test_sweep\.py", done.stdout, re.M)
    assert len(workers) == 3 and len(set(workers)) == 1, done.stdout[-3000:]


def test_the_groups_are_the_browser_and_ray_modules() -> None:
    assert group_of_test("tests/e2e/test_browser.py::test_x[a::b]") == "browser-test_browser"
    assert group_of_test("tests/cluster/test_sweep.py::test_y") == "ray-test_sweep"
    assert group_of_test("tests/pipeline/test_fit.py::test_z") is None
    assert group_of_test("tests/test_architecture.py::test_w") is None


def test_every_browser_test_lives_in_the_browser_folder() -> None:
    """``make test`` collects only ``tests/e2e`` for its browser part (the rest of the
    suite, collected again by each worker, imported TensorFlow and cost about 9 s of CPU
    each): a test marked ``e2e`` elsewhere would run in neither part."""
    marked_elsewhere = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if "e2e" not in path.relative_to(ROOT).parts and E2E_MARK.search(path.read_text())
    ]
    assert marked_elsewhere == []
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe and re.search(r"-m e2e tests/e2e\b", recipe.group(1)), recipe
