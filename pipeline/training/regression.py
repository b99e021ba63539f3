"""The logistic regression every TF-IDF model here fits (the baseline, the blend's linear
part, the label review's TF-IDF folds): its settings, and a solver that a stop ends between
two Newton steps."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

#: The baseline's logistic regression, and the blend's linear part
#: (:mod:`pipeline.training.blend`): its inverse regularisation strength, and its solver,
#: Newton-CG, which fits it to the optimum of its loss (see
#: :func:`pipeline.training.baseline.baseline_pipeline`).
REGRESSION_SETTINGS: dict[str, Any] = {"C": 10.0, "solver": "newton-cg", "max_iter": 1000}


def solve_regression(
    features: Any,
    labels: Any,
    *,
    sample_weight: np.ndarray | None = None,
    class_weight: str | None = None,
    stop_event: threading.Event | None = None,
    on_step: Callable[[int], None] | None = None,
) -> tuple[LogisticRegression, int, bool]:
    """:data:`REGRESSION_SETTINGS`' regression fitted one Newton step per call,
    warm-started from the last, until a call finds the optimum (takes no step) or
    ``stop_event`` is set, with the BLAS library on one thread.

    Parameters
    ----------
    features : sparse matrix or array, shape (rows, features)
    labels : array-like, shape (rows,)
    sample_weight : float array, shape (rows,), optional
        Each row's loss weight.
    class_weight : str, optional
        ``"balanced"`` to weight the loss by class.
    stop_event : threading.Event, optional
        When set, the solver ends after its current step.
    on_step : callable, optional
        Called with the steps taken so far: 0 before the first, then after each.

    Returns
    -------
    tuple
        The fitted model, the steps taken, and whether it reached its optimum.

    One call would be one wait that nothing can end: Newton-CG's cost grows with the
    classes (20,000 headlines of 200 publishers: 118 s), and a Stop must end a job within
    seconds. Step by step the optimum is the same, within the solver's tolerance, for about
    2 % more work (each call evaluates its starting point once more). One BLAS thread: the
    solver's small products only wait for each other on more (publishers, 7,500 rows: 3.1 s
    on one thread, 18 s on two beside a busy core).
    """
    settings = {**REGRESSION_SETTINGS, "max_iter": 1, "warm_start": True}
    model = LogisticRegression(class_weight=class_weight, **settings)
    steps = 0
    if on_step is not None:
        on_step(steps)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # each call stops at max_iter
        while steps < REGRESSION_SETTINGS["max_iter"]:
            model.fit(features, labels, sample_weight=sample_weight)
            if int(np.max(model.n_iter_)) == 0:  # started at the optimum: no step to take
                return model, steps, True
            steps += 1
            if on_step is not None:
                on_step(steps)
            if stop_event is not None and stop_event.is_set():
                return model, steps, False
    return model, steps, False
