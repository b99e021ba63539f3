"""Results shows an imported run's strings as typed: none of them becomes Markdown.

An archive is untrusted: its baseline name, preset, dataset name, device and class names
are whatever its author wrote. Each is planted here in a copy of the session's tiny run
(marked imported), and the page must show it literally: every Markdown character
backslash-escaped, so no bold, link or raw tag is made of it.
"""

from __future__ import annotations

import json
import re

from apptest_support import assert_clean, new_app, open_page, texts_of, unescape

from ui.core.text import escape_markdown

MARKUP = "**bold** [x](http://e.com) <b>x</b>"
#: A Markdown character that no backslash escapes: what would make markup of the text.
UNESCAPED = re.compile(r"(?<!\\)[*\[\]()<>_`]")


def _edit(path, change) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _literal(markdown: str) -> bool:
    """Whether ``markdown`` shows :data:`MARKUP` as typed: the text is there, with every
    Markdown character of it escaped."""
    return (
        escape_markdown(MARKUP) in markdown
        and unescape(markdown).replace("\u2060", "").count(MARKUP) >= 1
    )


def test_an_imported_run_s_strings_show_as_typed(runs_dir, small_source, saved_run):
    folder = runs_dir / saved_run
    _edit(folder / "metrics.json", lambda m: m["baseline"].update(name=MARKUP))
    _edit(folder / "run.json", lambda r: r.update(dataset=MARKUP, device=MARKUP, origin="imported"))
    _edit(folder / "config.json", lambda c: c.update(preset=MARKUP))

    at = open_page(new_app(small_source), "results")
    assert_clean(at)

    (baseline,) = [m for m in at.metric if m.label == "Baseline accuracy"]
    help_text = baseline.proto.help
    assert help_text == escape_markdown(MARKUP)
    assert UNESCAPED.search(help_text) is None, help_text
    assert unescape(help_text).replace("\u2060", "") == MARKUP

    (caption,) = [c.value for c in at.caption if "· dataset **" in c.value]
    assert caption.count(escape_markdown(MARKUP)) == 3, caption  # preset, dataset, device
    assert "**imported**" in caption
    assert MARKUP not in caption  # never unescaped
    assert MARKUP in texts_of(at).replace("\u2060", "")
