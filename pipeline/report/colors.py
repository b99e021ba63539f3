"""The colours the app's charts and the report's share, declared once
(``ui.figures.style`` reads them from here). Imports nothing."""

from __future__ import annotations

#: Training and validation in the curves; the model's bars in the report.
TRAIN_COLOR, VAL_COLOR = "#2e6bd6", "#e07b39"
