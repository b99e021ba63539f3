"""A run's report for stakeholders: one self-contained HTML file (no network request, static
SVG charts) with what was trained, the scores beside the baseline with their intervals,
the curves, the per-class table, the confusion matrix, the slices, the most confident
mistakes and a model card.
"""
