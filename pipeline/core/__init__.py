"""Settings and plumbing every other package stands on: errors, the declared settings
and experiment configuration, the device, memory, progress events, the Ray cluster
connection and how helper processes are started. Imports nothing else of ``pipeline``.
"""
