"""Helpers shared by the ``pipeline.data`` tests (``test_data_*.py``)."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import UCI_SMALL_CSV

UCI_HEADER = ["ID", "TITLE", "PUBLISHER", "CATEGORY", "STORY", "HOSTNAME", "TIMESTAMP"]


def uci_rows() -> list[dict[str, str]]:
    """The UCI fixture read with the csv module: an independent reference for the tests."""
    with UCI_SMALL_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """``content`` written to ``tmp_path / name`` (UTF-8 for text); the path."""
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path
