"""A server with a run to try imports Keras in the background once a page is drawn.

The Playground's first answer on a cold server waited 3.5-4 s for ``import keras``
(``benchmarks/playground_open.py``). The entry point now starts that import in a thread
when a page's script run is over and the visitor has a usable run, and a server with no
run never pays for it. Each case runs the real app through AppTest in a fresh Python
process, where nothing has imported Keras yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from apptest_support import ROOT

#: A fresh process: the app's Runs page (on the small fixture) is drawn once, then the
#: background import, if one started, is waited for.
PROBE = """
import json, sys, threading
from apptest_support import FIXTURES, new_app, open_page, path_source
before = "keras" in sys.modules
at = open_page(new_app(path_source(FIXTURES / "uci_small.csv")), "runs")
started = [t for t in threading.enumerate() if t.name == "import-keras"]
for thread in started:
    thread.join(timeout=120)
keras = sys.modules.get("keras")
print(json.dumps({
    "keras_before": before,
    "exceptions": [e.value for e in at.exception],
    "started": bool(started),
    "keras_after": keras is not None,
    "clear_session": keras.backend.clear_session.__name__ if keras else None,
}))
"""


def _probe(runs_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={
            **os.environ,
            "HEADLINE_LAB_RUNS_DIR": str(runs_dir),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "app")]),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.usefixtures("saved_run")
def test_a_visitor_with_a_run_gets_keras_imported_after_the_page(runs_dir):
    found = _probe(runs_dir)
    assert found["keras_before"] is False
    assert found["exceptions"] == []
    assert found["started"] is True
    assert found["keras_after"] is True
    # and Streamlit no longer clears Keras' session after every script run
    assert found["clear_session"] == "_no_clear_session"


def test_a_server_with_no_run_never_imports_keras(runs_dir):
    found = _probe(runs_dir)
    assert found["exceptions"] == []
    assert (found["started"], found["keras_after"]) == (False, False)
