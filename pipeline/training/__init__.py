"""Training a run: fitting the Keras model, the TF-IDF baseline, the linear blend, the
prior shift, resumable training state, and :func:`~pipeline.training.train.train_run`,
which ties them together and saves the run.
"""
