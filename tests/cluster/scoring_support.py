"""Inputs with known bad rows, the expected scores, and the CLI, for the scoring tests."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
UCI_SMALL = ROOT / "tests" / "fixtures" / "uci_small.csv"
#: Rows of the sample: 297 headlines of the UCI fixture plus the three bad ones below.
SAMPLE_ROWS = 300
EMPTY_ROW, NO_WORDS_ROW, LATIN1_ROW = 10, 150, 20
_EMPTY = b"9000001,,Reuters,b,story-empty,www.reuters.com,1394470370698"
_NO_WORDS = b'9000002,"!!! ... ???",Reuters,b,story-symbols,www.reuters.com,1394470370698'
# "Caf\xe9": a latin-1 byte that is not UTF-8.
_LATIN1 = b"9000003,Caf\xe9 prices soar as Paris markets rally,Reuters,b,story-latin,x.fr,1"


def sample_csv_bytes() -> bytes:
    """A UCI-layout CSV of :data:`SAMPLE_ROWS` rows: an empty title at row ``EMPTY_ROW``,
    a title of symbols only at ``NO_WORDS_ROW`` and a latin-1 byte at ``LATIN1_ROW``."""
    lines = UCI_SMALL.read_bytes().splitlines()
    header, rows = lines[0], lines[1 : SAMPLE_ROWS - 2]
    for index, row in sorted(
        [(EMPTY_ROW, _EMPTY), (LATIN1_ROW, _LATIN1), (NO_WORDS_ROW, _NO_WORDS)]
    ):
        rows.insert(index, row)
    assert len(rows) == SAMPLE_ROWS
    return b"\n".join([header, *rows]) + b"\n"


def whole_table(data: bytes) -> pd.DataFrame:
    """``data`` read whole by pandas, every column as text, bad bytes replaced."""
    return pd.read_csv(
        io.BytesIO(data), dtype=str, keep_default_na=False, encoding_errors="replace"
    )


def write_csv_parts(data: bytes, folder: Path, parts: int) -> list[Path]:
    """``data`` split into ``parts`` CSV files (each with the header) named in row order."""
    lines = data.splitlines()
    header, rows = lines[0], lines[1:]
    size = -(-len(rows) // parts)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, start in enumerate(range(0, len(rows), size)):
        path = folder / f"part-{number:02d}.csv"
        path.write_bytes(b"\n".join([header, *rows[start : start + size]]) + b"\n")
        paths.append(path)
    return paths


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m pipeline *args`` from the project root."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
