"""Settings and plumbing every other package stands on: errors, the declared settings
and experiment configuration, the device, memory, progress events, the Ray cluster
connection, how helper processes are started, and the records and rules several packages
share (:mod:`pipeline.core.preparation`, what preparing a dataset did, which
``pipeline.data`` makes and ``pipeline.runs`` reads; :mod:`pipeline.core.class_sizes`).
Imports nothing else of ``pipeline``.
"""
