"""Small labelled files written in the tests, as a user's CSV would hold them."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def labelled_csv(labels: list[str]) -> bytes:
    """A ``text,label`` CSV with one headline per label, in order (each text distinct,
    so no row is dropped as a duplicate), quoted as a spreadsheet quotes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(
        [f"headline number {i} about the news", label] for i, label in enumerate(labels)
    )
    return buffer.getvalue().encode()


def only_note(notes: list[str], containing: str) -> str:
    """The one note of ``notes`` that contains ``containing`` (the test fails unless there
    is exactly one)."""
    (note,) = [note for note in notes if containing in note]
    return note


def inspected(folder: Path, name: str, labels: list[str]) -> str:
    """What ``python -m pipeline inspect`` prints for :func:`labelled_csv` of ``labels``,
    written to ``folder / name`` (the test fails unless the command succeeds)."""
    from tests.cli_support import run_cli

    path = folder / name
    path.write_bytes(labelled_csv(labels))
    shown = run_cli("inspect", "--data", str(path))
    assert shown.returncode == 0, shown.stderr
    return shown.stdout
