"""Showing user and dataset text safely: Markdown-escaped, never HTML.

``st.markdown`` already escapes HTML unless raw HTML is explicitly allowed, which
this app never does. What remains is Markdown itself: a headline such as
``*Breaking* [news](javascript:...) costs $5 :fire:`` must show as typed, so
every ASCII punctuation character is backslash-escaped (CommonMark allows an
escape before any of them), which also disarms Streamlit's ``:color[...]``,
``:emoji:`` and ``$LaTeX$`` extensions.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.core.scripts import is_cjk_character

_PUNCTUATION = frozenset(string.punctuation)
#: U+2060 WORD JOINER: invisible, and it breaks the patterns GFM turns into links by
#: itself (``https://...``, ``www.``, ``name@host``), which backslashes do not disarm.
_WORD_JOINER = "\u2060"
_AUTOLINK_STARTS = re.compile(r"(?i)(https?|ftp|mailto|www)(?=\\[:.])|(?=\\@)")

#: Streamlit Markdown background colours for words that pushed towards / against the prediction.
POSITIVE_COLOR, NEGATIVE_COLOR = "green", "red"


def escape_markdown(text: object) -> str:
    """``text`` with every ASCII punctuation character backslash-escaped.

    Whitespace runs (newlines included) collapse to one space, so a text can
    never start a heading, a list or a code block; an invisible word joiner
    after ``https``/``www`` and before ``@`` keeps GFM from making a link of a
    URL or an e-mail address.
    """
    plain = " ".join(str(text).split())
    escaped = "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in plain)
    return _AUTOLINK_STARTS.sub(lambda m: (m.group(1) or "") + _WORD_JOINER, escaped)


def plotly_text(text: object) -> str:
    """``text`` as a plotly label that shows it as typed.

    Plotly reads ``<b>``, ``<i>``, ``<br>``, ``<sup>``, ``<span>`` and ``<a href>``
    in every label, tick, legend entry, title and hover text as markup (a link
    is clickable), so every string from a dataset, a file or a visitor goes
    through here: ``&``, ``<`` and ``>`` become entities, which plotly shows
    literally.
    """
    return html.escape(str(text), quote=False)


def _pairs(importance: Iterable[Any]) -> list[tuple[str, float]]:
    pairs = []
    for item in importance:
        if isinstance(item, tuple):
            word, value = item
        else:
            word, value = item.word, item.importance
        pairs.append((str(word), float(value)))
    return pairs


def highlight_words(
    importance: Sequence[Any],
    *,
    threshold: float = 0.25,
) -> str:
    """Markdown for a text whose important words have a coloured background.

    Parameters
    ----------
    importance : sequence of ``(word, importance)`` tuples or objects with
        ``.word`` and ``.importance`` (``pipeline.scoring.predictor.WordImportance``),
        in text order.
    threshold : float
        Share of the largest absolute importance a word needs to be highlighted.
        Words above 60 % of it are also bold.

    Returns
    -------
    str
        Safe Markdown: every word escaped, highlighted ones wrapped in
        ``:green-background[...]`` (pushed towards the prediction) or
        ``:red-background[...]`` (pushed against it).
    """
    pairs = _pairs(importance)
    largest = max((abs(v) for _, v in pairs), default=0.0)
    markdown = ""
    previous = ""
    for word, value in pairs:
        safe = escape_markdown(word)
        if largest > 0 and abs(value) >= threshold * largest and abs(value) > 1e-4:
            if abs(value) >= 0.6 * largest:
                safe = f"**{safe}**"
            color = POSITIVE_COLOR if value > 0 else NEGATIVE_COLOR
            safe = f":{color}-background[{safe}]"
        # Chinese and Japanese characters are words written without spaces between them
        together = is_cjk_character(previous) and is_cjk_character(word)
        markdown += ("" if not markdown or together else " ") + safe
        previous = word
    return markdown
