"""Background jobs: the job manager the app and the CLI submit training and label-review
jobs to, and the worker process that runs them.
"""
