"""Scoring a run's predictions: metrics, paired bootstrap intervals against the baseline
and accuracy per slice of the data (publisher, week, any column).
"""
