"""Helpers for the AppTest tests: a fresh app, page switching, polling, chart data.

Imported by the test modules as ``apptest_support`` (a unique name: every test
folder has a ``conftest.py``, so importing "conftest" by name would depend on
collection order). Streamlit's caches live for the whole test process, which is
what makes the bundled dataset cheap after the first test that loads it.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
APP = ROOT / "streamlit_app.py"
PAGES = ("data", "prepare", "label_review", "train", "results", "playground", "runs")

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from pipeline.core.config import DataConfig  # noqa: E402
from tests.tiny_training import APP_RUN, tiny_config  # noqa: E402
from ui.core.state import DatasetSource  # noqa: E402

#: Seconds one script run may take (the first load of the bundled dataset takes ~7 s).
RUN_TIMEOUT = 90


#: The app tests' tiny run: :data:`~tests.tiny_training.APP_RUN` for 3 epochs at a learning
#: rate of 0.02 (``trained_runs`` in conftest.py trains it; :data:`TINY_MODEL` types it in).
APP_TINY = {**APP_RUN, "epochs": 3, "learning_rate": 0.02}


def tiny_data_config(cap: int = APP_TINY["cap_per_class"]) -> DataConfig:
    """A few dozen rows per class: enough to split three ways, seconds to train."""
    return tiny_config(**{**APP_TINY, "cap_per_class": cap}).data


def path_source(path: str | Path) -> DatasetSource:
    """A CSV on this machine's disk as the app's dataset source, keyed by its path, size
    and modification time (the tests' stand-in for an upload: no bytes are hashed)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return DatasetSource(
        kind="path",
        name=resolved.name,
        digest=f"{resolved}:{stat.st_size}:{stat.st_mtime_ns}",
        path=str(resolved),
    )


def new_app(source: DatasetSource | None = None) -> AppTest:
    """A fresh AppTest of the real app, optionally on another dataset."""
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT)
    if source is not None:
        at.session_state["dataset_source"] = source
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    """Show ``app_pages/<page>.py`` (the pages carry no custom ``url_path``, so this
    works before the first run too)."""
    at.switch_page(f"app_pages/{page}.py")
    return at.run()


def assert_clean(at: AppTest) -> None:
    """No exception element and no error box anywhere on the page (sidebar included)."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def run_until(
    at: AppTest,
    done: Callable[[AppTest], bool],
    *,
    timeout: float = 150.0,
    interval: float = 0.5,
) -> AppTest:
    """Rerun the app (as the polling fragment would) until ``done(at)`` or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if done(at):
            return at
        if time.monotonic() > deadline:
            texts = [m.value for m in at.markdown] + [e.value for e in at.error]
            raise AssertionError(f"condition not met after {timeout} s; page shows: {texts}")
        time.sleep(interval)


def figure_of(chart) -> go.Figure:
    """The plotly figure an ``st.plotly_chart`` element carries."""
    return pio.from_json(chart.proto.spec)


def vega_chart_of(chart) -> tuple[dict, pd.DataFrame]:
    """The Vega-Lite spec and the rows an ``st.vega_lite_chart`` element carries (Streamlit
    moves a spec's inline ``data.values`` into an Arrow table beside it)."""
    import pyarrow as pa

    table = pa.ipc.open_stream(chart.proto.data.data).read_all()
    return json.loads(chart.proto.spec), table.to_pandas()


def values(array) -> list:
    """A trace's ``x`` or ``y`` as a list (plotly serialises numbers as base64 typed arrays)."""
    if isinstance(array, dict) and "bdata" in array:
        raw = base64.b64decode(array["bdata"])
        return np.frombuffer(raw, dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def unescape(text: str) -> str:
    """Markdown text without the backslash escapes the app adds to user text."""
    return re.sub(r"\\(.)", r"\1", text)


def texts_of(at: AppTest) -> str:
    """Every message box, markdown and caption on the page, unescaped and joined."""
    parts = []
    for kind in ("success", "info", "warning", "error", "markdown", "caption"):
        parts.extend(str(el.value) for el in getattr(at, kind))
    return unescape("\n".join(parts))


def sidebar_text(at: AppTest) -> str:
    """The sidebar's captions and messages, unescaped and joined."""
    parts = []
    for kind in ("caption", "error", "info"):
        parts.extend(str(el.value) for el in at.sidebar.get(kind))
    return unescape("\n".join(parts))


#: The Train page fields of a tiny n-gram bag (seconds to train on the small fixture):
#: :data:`APP_TINY`'s epochs, learning rate and n-gram sizes.
TINY_MODEL = {
    f"keep.train.{section}.{name}": APP_TINY[name]
    for section, name in (
        ("train", "epochs"),
        ("model", "learning_rate"),
        ("model", "ngram_dim"),
        ("model", "ngram_tokens"),
    )
}
