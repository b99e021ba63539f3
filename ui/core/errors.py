"""Turning exceptions into messages on the page, never into tracebacks.

Every expected problem in the pipeline is a :class:`pipeline.core.errors.HeadlineLabError`
whose ``str()`` already names the problem and the fix, so it is shown as it is.
Anything else is a bug: it is logged with its traceback on the server and the
page shows one sentence instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from pipeline.core.errors import HeadlineLabError
from ui.core.text import escape_markdown

logger = logging.getLogger("headline_lab.ui")


@dataclass
class Outcome:
    """What happened inside a :func:`report_errors` block."""

    ok: bool = True
    error: BaseException | None = None


def message_for(err: BaseException, *, keep_note: str | None = None) -> str:
    """The text to show for ``err``: its own message, or a generic one for bugs.

    Unexpected errors are logged with their traceback on the server.
    ``keep_note`` is appended to say what stays in place, e.g. "The previous
    dataset is still active."
    """
    if isinstance(err, HeadlineLabError):
        message = str(err)
    else:
        logger.error("Unexpected error in the app", exc_info=err)
        message = (
            f"Something unexpected went wrong ({type(err).__name__}: {err}). "
            "The details are in the server log; please report them."
        )
    return f"{message}\n\n{keep_note}" if keep_note else message


def show_error(err: BaseException, *, keep_note: str | None = None) -> None:
    """Show ``err`` as an ``st.error`` box (see :func:`message_for`), Markdown-escaped:
    messages quote file and column names as the user wrote them."""
    st.error(escape_markdown(message_for(err, keep_note=keep_note)), icon=":material/error:")


@contextmanager
def report_errors(*, keep_note: str | None = None) -> Iterator[Outcome]:
    """Run a block; on an exception show it with :func:`show_error` and carry on.

    Usage::

        with report_errors() as outcome:
            prepared = prepare(dataset, config)
        if not outcome.ok:
            stop_run()

    Streamlit's own control flow (``st.rerun``, ``st.stop``, ``st.switch_page``)
    derives from ``BaseException`` and passes through untouched.
    """
    outcome = Outcome()
    try:
        yield outcome
    except Exception as err:  # the whole point: no traceback on screen
        outcome.ok = False
        outcome.error = err
        show_error(err, keep_note=keep_note)
