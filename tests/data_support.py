"""Small labelled files written in the tests, as a user's CSV would hold them."""

from __future__ import annotations

import csv
import io


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
