"""Writing a benchmark's rows: a Markdown table printed and saved, and the rows as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_rows(rows: list[dict[str, Any]], output: str) -> str:
    """Print ``rows`` (dicts with the same keys) as a Markdown table and write it to
    ``benchmarks/results/<output>.md``, the rows to ``<output>.json``; returns the table."""
    header = list(rows[0])
    table = "| " + " | ".join(header) + " |\n|" + " --- |" * len(header) + "\n"
    table += "\n".join("| " + " | ".join(str(row[key]) for key in header) + " |" for row in rows)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{output}.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / f"{output}.md").write_text(table + "\n")
    return table
