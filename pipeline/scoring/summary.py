"""What a scoring job did: the notes a scored row can carry, the rows and notes counted
chunk by chunk, and the progress and summary the CLI prints.

Bad rows never stop a job. A row with an empty text, or a text with no words, is kept
unscored with a note saying why; a text whose bytes are not valid UTF-8 is decoded with
U+FFFD (``\ufffd``) in place of the bad bytes, scored, and noted (:data:`NOTE_NOT_UTF8`).
:class:`ScoringSummary` counts each case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from pipeline.scoring.source import ScoringSource

# The notes live here, not beside the Predictor that writes most of them: counting them
# must not import Keras (the Ray engine's driver counts every scored table, and a Ctrl-C
# landing in a Keras import left it half-imported).
#: :meth:`~pipeline.scoring.predictor.Predictor.score_table`'s ``note`` for a row whose
#: text is empty or missing.
NOTE_EMPTY = "empty text: not scored"
#: ... for a row whose text has no word (only punctuation or symbols).
NOTE_NO_WORDS = "no words (only punctuation or symbols): not scored"
#: ... for a row scored although none of its words was in the training vocabulary.
NOTE_NO_KNOWN_WORD = "no word in the training vocabulary: the model's prior, not a reading"
#: The ``note`` of a row whose text held bytes that are not UTF-8.
NOTE_NOT_UTF8 = "text held bytes that are not UTF-8: replaced by \ufffd before scoring"
#: Joins two notes of one row.
NOTE_SEPARATOR = "; "
# Where the note sits among the added columns (``ScoredColumns.all``: predicted,
# predicted_code, confidence, note, probabilities...), counted from the first added one.
_NOTE_OFFSET = 3


@dataclass(frozen=True)
class ScoringProgress:
    """Rows written so far and the seconds since the job started."""

    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ScoringSummary:
    """What a scoring job did.

    Attributes
    ----------
    rows : int
        Rows written (every input row).
    not_scored : dict
        Why rows were left unscored (``"empty text"``, ``"no words"``) -> how many.
    noted : dict
        Rows scored with a note (``"not UTF-8 (replaced)"``, ``"no known word"``) -> how
        many.
    seconds : float
        Wall time of the job, reading and writing included.
    output : str
        The file written.
    engine : str
        ``"local"`` or ``"ray"``.
    workers : int
        Processes that scored (1 locally, the actors on Ray).
    """

    rows: int = 0
    not_scored: dict[str, int] = field(default_factory=dict)
    noted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    output: str = ""
    engine: str = "local"
    workers: int = 1

    @property
    def scored(self) -> int:
        """Rows that got a prediction."""
        return self.rows - sum(self.not_scored.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def count(self, table: pa.Table, source: ScoringSource) -> None:
        """Add the rows and notes of one scored chunk of ``source``."""
        reasons = {
            NOTE_EMPTY: "empty text",
            NOTE_NO_WORDS: "no words",
            NOTE_NOT_UTF8: "not UTF-8 (replaced)",
            NOTE_NO_KNOWN_WORD: "no known word",
        }
        self.rows += table.num_rows
        notes = table.column(len(source.columns) + _NOTE_OFFSET)
        for value, n in zip(*_value_counts(notes), strict=True):
            for note in value.split(NOTE_SEPARATOR) if value else ():
                tally = self.not_scored if note in (NOTE_EMPTY, NOTE_NO_WORDS) else self.noted
                reason = reasons.get(note, note)
                tally[reason] = tally.get(reason, 0) + n

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of every field, plus ``scored`` and ``rows_per_second``."""
        return {
            "rows": self.rows,
            "scored": self.scored,
            "not_scored": dict(self.not_scored),
            "noted": dict(self.noted),
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "output": self.output,
            "engine": self.engine,
            "workers": self.workers,
        }

    def describe(self) -> str:
        """One line for a person: rows scored, rows not scored and why, notes, speed."""
        line = (
            f"scored {self.scored:,} of {self.rows:,} rows in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s, {self.engine}) -> {self.output}"
        )
        if self.not_scored:
            reasons = ", ".join(f"{n:,} {note}" for note, n in self.not_scored.items())
            line += f"; not scored: {reasons}"
        if self.noted:
            line += "; noted: " + ", ".join(f"{n:,} {note}" for note, n in self.noted.items())
        return line


ProgressCallback = Callable[[ScoringProgress], None]


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counts = pc.value_counts(column)
    return (
        [v or "" for v in counts.field("values").to_pylist()],
        counts.field("counts").to_pylist(),
    )


__all__ = [
    "NOTE_NOT_UTF8",
    "NOTE_SEPARATOR",
    "ProgressCallback",
    "ScoringProgress",
    "ScoringSummary",
]
