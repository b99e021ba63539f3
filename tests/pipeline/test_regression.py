"""The regression every TF-IDF model fits (``pipeline.training.regression``): solved step
by step it reaches the one-call optimum, and a stop ends it after the current step, for
the blend's linear part (``test_blend``) and the label review's TF-IDF folds alike."""

from __future__ import annotations

import threading

import numpy as np

from pipeline.training.baseline import baseline_pipeline, fit_baseline


def test_a_review_folds_tfidf_fit_hears_a_stop_and_otherwise_fits_as_one_call(uci_small):
    """Found with 200 publishers: a label review's TF-IDF fit of one fold is one solver call
    as long as the blend's was (a Stop waited for it); the folds now pass their stop."""
    texts = uci_small.frame["text"].tolist()
    labels = uci_small.frame["label"].tolist()
    one_call = fit_baseline(baseline_pipeline(), texts, labels)
    step_by_step = fit_baseline(baseline_pipeline(), texts, labels, stop_event=threading.Event())
    np.testing.assert_allclose(step_by_step[-1].coef_, one_call[-1].coef_, atol=0.05)
    assert (step_by_step.predict(texts) == one_call.predict(texts)).mean() > 0.99
    stop = threading.Event()
    stop.set()
    cut = fit_baseline(baseline_pipeline(class_weighted=True), texts, labels, stop_event=stop)
    assert cut[-1].class_weight == "balanced"  # the pipeline's own settings, solved
    assert not np.allclose(cut[-1].coef_, one_call[-1].coef_, atol=0.05)
