"""The charts, one module per page area: ``prepare``, ``curves``, ``scores``, ``confusion``,
``slices``, ``playground`` (plotly) and ``data`` (the Data page's Vega-Lite specs), with their
shared look in ``style``.

Every builder is pure: plain data (dicts, lists, DataFrames) in, a figure (or a Vega-Lite
spec) out. No Streamlit, no TensorFlow, so the figures can be unit-tested and reused by the
CLI or a notebook. Plotly reads pseudo-HTML (``<b>``, ``<a href>``...) in every label, tick,
legend, title and hover text, so every string that comes from a dataset, a file, a saved run
or a visitor (class names, publishers, words, run labels, model family) goes through
:func:`ui.core.text.plotly_text` and shows as typed.

This file imports nothing: the Data page's ``data`` never loads plotly, and the Train page
loads no pandas before its first epoch.
"""
