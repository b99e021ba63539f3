"""Rules the test suite keeps: no test asserts on elapsed time, and none hides a short
one in a library's default timeout.

Speed targets belong in ``benchmarks/`` (a table and JSON, ratios measured side by side),
never in a test: on a shared, busy machine a timed assertion fails for reasons that have
nothing to do with the code, and a red CI lands nothing. A test proves what happened (no
training ran, the pump gave up at its first look), not how long it took.

Assertions are read from the source with :mod:`ast`: an ``assert`` whose comparison
(``<``, ``<=``, ``>``, ``>=``) involves a clock difference (``time.monotonic() - t``,
``time.perf_counter() - t``, ``time.time() - t``), directly or through a name assigned one.
Streamlit's ``AppTest`` fails a script run after 3 s unless told otherwise, so every
``AppTest.from_*`` names its ``default_timeout``. (Playwright's ``expect`` waits 5 s unless
told otherwise: the browser tests' ``chromium_browser`` fixture sets it once,
``tests/e2e/test_harness.py``.)
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCKS = frozenset({"monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "time"})
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
APPTEST_CONSTRUCTORS = frozenset({"from_file", "from_function", "from_string"})


def _is_clock_call(node: ast.AST) -> bool:
    """``time.monotonic()``, ``time.perf_counter()``, ``time.time()``, ..."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCKS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "time"
    )


def _holds_elapsed_time(node: ast.AST, elapsed_names: set[str]) -> bool:
    """Whether ``node`` contains a clock difference or a name assigned one."""
    return any(
        (isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Sub) and _is_clock_call(sub.left))
        or (isinstance(sub, ast.Name) and sub.id in elapsed_names)
        for sub in ast.walk(node)
    )


def timed_assertions(source: str) -> list[int]:
    """The lines of ``source``'s assertions that compare an elapsed time, in order."""
    found = set()
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elapsed_names = {
            target.id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign) and _holds_elapsed_time(node.value, set())
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(function):
            if isinstance(node, ast.Assert) and any(
                isinstance(compare, ast.Compare)
                and any(isinstance(op, ORDERING) for op in compare.ops)
                and _holds_elapsed_time(compare, elapsed_names)
                for compare in ast.walk(node.test)
            ):
                found.add(node.lineno)
    return sorted(found)


def apptests_without_a_timeout(source: str) -> list[int]:
    """The lines of ``source``'s ``AppTest.from_*(...)`` calls that leave
    ``default_timeout`` at Streamlit's 3 s, in order."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in APPTEST_CONSTRUCTORS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "AppTest"
        and not any(keyword.arg == "default_timeout" for keyword in node.keywords)
    )


def _places(finder: Callable[[str], list[int]]) -> list[str]:
    """``path:line`` of every place ``finder`` reports in the suite's files."""
    return [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in finder(path.read_text(encoding="utf-8"))
    ]


def test_no_test_asserts_on_elapsed_time() -> None:
    """Found: five tests asserted durations (a cached training under 5 s, the full
    dataset's preparation under 10 s, 100,000 rows' paired intervals under 2 s, a
    subprocess under 60 s, a pump that gives up under 5 s)."""
    offenders = _places(timed_assertions)
    assert offenders == [], "move the timing to benchmarks/: " + ", ".join(offenders)


def test_every_apptest_names_its_timeout() -> None:
    """Found: two AppTests of small scripts ran with Streamlit's 3 s limit, a timed
    assertion on a busy host (the app tests' own wait: ``apptest_support.RUN_TIMEOUT``)."""
    offenders = _places(apptests_without_a_timeout)
    assert offenders == [], "pass default_timeout=RUN_TIMEOUT: " + ", ".join(offenders)


def test_the_finder_sees_each_form_of_a_timed_assertion() -> None:
    source = """
import time

def test_direct():
    started = time.monotonic()
    assert time.monotonic() - started < 5

def test_through_a_name():
    started = time.perf_counter()
    seconds = time.perf_counter() - started
    assert seconds <= 10

def test_in_a_conjunction():
    started = time.time()
    assert ok() and 2.0 > time.time() - started

def test_untimed():
    started = time.monotonic()
    assert len([started]) == 1
    assert time.monotonic() >= started
"""
    assert timed_assertions(source) == [6, 11, 15]


def test_the_finder_sees_an_apptest_left_at_three_seconds() -> None:
    source = """
from streamlit.testing.v1 import AppTest

short = AppTest.from_function(script)
named = AppTest.from_file("app.py", default_timeout=90)
also_short = AppTest.from_string("import streamlit")
"""
    assert apptests_without_a_timeout(source) == [4, 6]
