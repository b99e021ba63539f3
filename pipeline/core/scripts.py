"""Scripts written without spaces between words (Chinese, Japanese), declared once for
every tokenizer here: the model's standardization
(:class:`pipeline.models.text.StandardizeHeadline`) and the TF-IDF baseline
(:func:`pipeline.training.baseline.baseline_pipeline`) make each such character a token
of its own, so that word 1-2 grams become character 1-2 grams of those scripts, the
units a bag of words over them needs. Text in other scripts is split on spaces as ever.
No TensorFlow here: the baseline's process does not import it.
"""

from __future__ import annotations

import re

#: Unicode ranges of characters that are tokens of their own: the ideographic iteration
#: mark and number zero, hiragana and katakana, CJK ideographs (extension A, the unified
#: block, compatibility ideographs, extensions B and beyond), half-width katakana.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3005, 0x3007),
    (0x3040, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
    (0x20000, 0x2FA1F),
)

#: A regular-expression character class matching one character of :data:`CJK_RANGES`,
#: written with the characters themselves, so that Python's ``re`` and TensorFlow's RE2
#: read it alike.
CJK_CHARACTER: str = "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES) + "]"

_ONE_CJK_CHARACTER = re.compile(CJK_CHARACTER)


def is_cjk_character(word: str) -> bool:
    """Whether ``word`` is one Chinese or Japanese character (a word of its own, written
    without spaces around it)."""
    return _ONE_CJK_CHARACTER.fullmatch(word) is not None
