"""Scoring headlines with a saved run: the predictor, streamed scoring of large files,
and the same on Ray.
"""
