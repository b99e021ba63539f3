"""How a CSV file is written, told from its bytes: one rule for the app, the CLI and the scorer.

:func:`detect_csv_format` reads the first bytes of a file (decompressed already) and
returns its :class:`CsvFormat`: the delimiter, the encoding, and for the original
tab-separated ``newsCorpora.csv`` (no header, no quoting) its column names.
:func:`pipeline.data.reading.read_table` reads whole files by it
(:func:`detect_and_decode`), and the batch scorer (:mod:`pipeline.scoring.source`) reads
the first :data:`HEAD_BYTES` of each input file by it
(:func:`detect_shared_csv_format`, the files of a folder weighed together as one table)
and streams the rest with the same settings, so a file the app trains on is a file the
scorer scores.

The rules, in order:

1. **Not text.** Images, documents, workbooks, Parquet files and odd archives are refused
   by name, and so is anything with NUL bytes or many control characters.
2. **Encoding.** UTF-16 with its byte order mark; else UTF-8 (a UTF-8 byte order mark
   dropped); else UTF-8 with a few stray bytes when the bytes hold more UTF-8 characters
   than stray bytes (each run of them becomes U+FFFD, ``\\ufffd``, with a note); else
   Windows-1252 (what Excel on Windows writes), else Latin-1, with a note.
3. **Layout.** A first line of eight tab-separated fields starting with a number is the
   original ``newsCorpora.csv`` (:data:`NEWS_CORPORA_COLUMNS`, no header, no quoting).
4. **Delimiter.** Otherwise the one of ``,``, tab, ``;`` and ``|`` the header line holds
   most (a comma on a tie or when it holds none).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from pipeline.core.errors import DatasetError

#: How many bytes from the start of a file the scorer detects its format from.
HEAD_BYTES: int = 64 * 1024

#: Columns of the original, header-less, tab-separated ``newsCorpora.csv``.
NEWS_CORPORA_COLUMNS: tuple[str, ...] = (
    "ID",
    "TITLE",
    "URL",
    "PUBLISHER",
    "CATEGORY",
    "STORY",
    "HOSTNAME",
    "TIMESTAMP",
)

#: The end of a message about a file that is not a readable CSV: the fix.
EXPORT_HINT = "export it as CSV (UTF-8) and upload again"

_DELIMITERS = (",", "\t", ";", "|")
#: Excel's first line naming the delimiter (``sep=;``, maybe quoted or padded with more
#: delimiters), which it writes and reads; the header comes after it.
_SEP_LINE = re.compile(rb'^"?sep=([^"\s\w])"?\1*$', re.IGNORECASE)
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16"}
#: Fits the Data page (a CSV of texts and labels) and the scorer (texts alone) both.
_PICK_HINT = "upload the CSV instead"
#: Files people upload by mistake, by their first bytes: what to call them, what to do.
_KNOWN_BINARIES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _PICK_HINT),
    (b"\xff\xd8\xff", "a JPEG image", _PICK_HINT),
    (b"GIF87a", "a GIF image", _PICK_HINT),
    (b"GIF89a", "a GIF image", _PICK_HINT),
    (b"%PDF-", "a PDF document", f"{_PICK_HINT}, or open it and {EXPORT_HINT}"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (or another old Office file)",
        f"open it and {EXPORT_HINT}",
    ),
    (b"PAR1", "a Parquet file", EXPORT_HINT),
    (b"PK\x05\x06", "an empty ZIP archive", "zip the CSV itself, or upload it as it is"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "upload the CSV, or a .zip or .gz of it"),
    (b"Rar!", "a RAR archive", "upload the CSV, or a .zip or .gz of it"),
    (b"BZh", "a bzip2-compressed file", "upload the CSV, or a .zip or .gz of it"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "upload the CSV, or a .zip or .gz of it"),
)


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written: what a reader needs to be told to read it.

    Attributes
    ----------
    delimiter : str
        ``","``, ``"\\t"``, ``";"`` or ``"|"``.
    encoding : str
        ``"utf-8"``, ``"utf-16"``, ``"cp1252"`` or ``"latin-1"`` (a Python codec name).
    column_names : tuple of str or None
        The columns of a layout without a header row (every line is data); ``None`` when
        the first line is the header.
    quoted : bool
        Double quotes wrap values that hold a delimiter or a line break; ``False`` when
        they are literal text (the original ``newsCorpora.csv``).
    layout : str
        ``"csv"`` or ``"newsCorpora"`` (the original tab-separated file without header).
    skip_rows : int
        Lines before the header: 1 for Excel's ``sep=;`` line, which names the delimiter.
    notes : tuple of str
        What a person should know about how the file is read (an encoding other than
        UTF-8, a layout without header); not compared when two formats are.
    """

    delimiter: str = ","
    encoding: str = "utf-8"
    column_names: tuple[str, ...] | None = None
    quoted: bool = True
    layout: str = "csv"
    skip_rows: int = 0
    notes: tuple[str, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        """The format in words, e.g. ``"semicolon-separated cp1252 with a header row"``."""
        delimiter = _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        encoding = _ENCODING_NAMES.get(self.encoding, self.encoding)
        header = "with a header row" if self.column_names is None else "without a header"
        layout = " (the newsCorpora layout)" if self.layout == "newsCorpora" else ""
        sep_line = f" after a sep={self.delimiter} line" if self.skip_rows else ""
        return f"{delimiter}-separated {encoding} {header}{layout}{sep_line}"


class FileHead(NamedTuple):
    """The first bytes of one file, decompressed: its name, the bytes, and whether they
    are all of it (when not, they may end inside a character)."""

    name: str
    data: bytes
    complete: bool = True


def detect_csv_format(head: bytes, name: str, *, complete: bool = True) -> CsvFormat:
    """The :class:`CsvFormat` of a file, told from its first bytes.

    Parameters
    ----------
    head : bytes
        The file's first bytes, decompressed (the scorer reads :data:`HEAD_BYTES`), or
        all of it.
    name : str
        The file's name, for messages and notes.
    complete : bool
        ``head`` is the whole file. When ``False`` it may end inside a character, which
        is not held against UTF-8 or UTF-16.

    Returns
    -------
    CsvFormat
        Delimiter, encoding, the column names of a layout without header, quoting, notes.

    Raises
    ------
    DatasetError
        ``head`` is not text: an image, a document, a workbook, an archive, or bytes
        with NUL or many control characters (the message names it and the fix).
    """
    return detect_shared_csv_format([FileHead(name, head, complete)], name)


def detect_shared_csv_format(heads: Iterable[FileHead], name: str) -> CsvFormat:
    """The one :class:`CsvFormat` of several files that make one table (a folder the
    scorer reads), told from their first bytes (``heads``, at least one, taken one at a
    time) by the rule of :func:`detect_csv_format` applied to all of them together.

    The encoding weighs the bytes of every file: a file of plain ASCII reads the same in
    each, and a few stray bytes in one file of a UTF-8 folder do not make it cp1252.
    ``name`` (the folder's) is for messages and notes. Raises :class:`DatasetError`
    naming the files and the fix when one is not text, when their delimiters or layouts
    differ, or when one is UTF-8 (or UTF-16) while others are not.
    """
    evidence = [_weigh(head) for head in heads]
    encoding, notes = _decide_encoding(evidence, name)
    formats = [
        _layout(e.first_line if e.utf16 else _to_utf8(e.first_line, encoding), encoding)
        for e in evidence
    ]
    for weighed, found in zip(evidence[1:], formats[1:], strict=True):
        if found != formats[0]:
            raise DatasetError(
                f"{weighed.name} is {found.describe()}, but {evidence[0].name} is "
                f"{formats[0].describe()}; every file of {name} must be written the same way: "
                "save them all with the same delimiter and encoding (CSV UTF-8 is best), or "
                "score them one by one."
            )
    return _with_notes(formats[0], notes, name)


def detect_and_decode(data: bytes, name: str) -> tuple[CsvFormat, bytes]:
    """The :class:`CsvFormat` of a whole file, and the file as UTF-8 bytes.

    ``data`` is all of a decompressed file. The bytes returned have no byte order mark;
    stray bytes of a UTF-8 file are U+FFFD. Raises :class:`DatasetError` as
    :func:`detect_csv_format` does.
    """
    weighed = _weigh(FileHead(name, data))
    encoding, notes = _decide_encoding([weighed], name)
    text = data.removeprefix(codecs.BOM_UTF8) if weighed.utf8 else _to_utf8(data, encoding)
    return _with_notes(_layout(text, encoding), notes, name), text


def _with_notes(found: CsvFormat, notes: list[str], name: str) -> CsvFormat:
    if found.layout == "newsCorpora":
        notes.append(
            f"{name} was read as the original tab-separated newsCorpora.csv without a header: "
            f"columns {', '.join(NEWS_CORPORA_COLUMNS)}."
        )
    return replace(found, notes=tuple(notes))


def _layout(text: bytes, encoding: str) -> CsvFormat:
    """The format of a file whose first line, as UTF-8, starts ``text``."""
    if _looks_like_news_corpora(text):
        return CsvFormat("\t", encoding, NEWS_CORPORA_COLUMNS, quoted=False, layout="newsCorpora")
    sep_line = _SEP_LINE.match(_first_line(text))
    if sep_line:
        return CsvFormat(sep_line.group(1).decode("utf-8"), encoding, skip_rows=1)
    return CsvFormat(_sniff_delimiter(text), encoding)


@dataclass(frozen=True)
class _Evidence:
    """What one file's first bytes say about its encoding, and its first line."""

    name: str
    utf16: bool  # starts with a UTF-16 byte order mark
    utf8: bool  # valid UTF-8 (a UTF-8 byte order mark dropped)
    characters: int  # non-ASCII characters read as UTF-8, stray bytes not counted
    stray: int  # runs of bytes that are not UTF-8
    cp1252: bool  # every byte is defined in cp1252
    first_line: bytes  # the first line: UTF-8 for a UTF-16 file, else as in the file


def _weigh(head: FileHead) -> _Evidence:
    """Refuse ``head`` when it is not text; else what it says about its encoding."""
    _reject_binary_formats(head.data, head.name)
    if _is_utf16(head.data):
        try:
            text = _decode(head.data, "utf-16", head.complete)
        except UnicodeDecodeError:
            raise DatasetError(f"{head.name} isn't a readable text CSV; {EXPORT_HINT}.") from None
        line = _first_line(text[:HEAD_BYTES].encode("utf-8"))
        _reject_text_formats(line, head.name)
        return _Evidence(head.name, True, False, 0, 0, False, line)
    body = head.data.removeprefix(codecs.BOM_UTF8)
    line = _first_line(body)
    _reject_text_formats(line, head.name)
    try:
        text = _decode(body, "utf-8", head.complete)
    except UnicodeDecodeError:
        pass
    else:
        return _Evidence(head.name, False, True, _non_ascii(text[:HEAD_BYTES]), 0, True, line)
    text = _decode(body, "utf-8", head.complete, errors="replace")
    stray = text.count("\ufffd")
    characters = _non_ascii(text) - stray
    del text
    try:
        body.decode("cp1252")
        cp1252 = True
    except UnicodeDecodeError:
        cp1252 = False
    return _Evidence(head.name, False, False, characters, stray, cp1252, line)


def _decide_encoding(evidence: list[_Evidence], name: str) -> tuple[str, list[str]]:
    """The one encoding of the files ``evidence`` weighed, and a note about it."""
    utf16 = [e for e in evidence if e.utf16]
    other = [e for e in evidence if not e.utf16]
    if utf16 and other:
        raise DatasetError(
            f"{utf16[0].name} is UTF-16, but {other[0].name} is not; every file of {name} "
            "must be in one encoding: save them all as CSV UTF-8, or score them one by one."
        )
    if utf16:
        return "utf-16", []
    if all(e.utf8 for e in evidence):
        return "utf-8", []
    stray = sum(e.stray for e in evidence)
    if sum(e.characters for e in evidence) > stray:  # UTF-8 with a few stray bytes
        return "utf-8", [
            f"{name} is UTF-8 but for {stray:,} stray byte{'s' if stray > 1 else ''}, read "
            "as \ufffd. To keep the characters they stood for, save the file as CSV "
            "(UTF-8) and load it again."
        ]
    # cp1252 first: it is what Excel on Windows writes; latin-1 decodes any byte.
    encoding = "cp1252" if all(e.cp1252 for e in evidence) else "latin-1"
    utf8 = [e for e in evidence if e.utf8 and e.characters]
    if utf8:  # read as cp1252, its characters would silently turn into others
        not_utf8 = next(e for e in evidence if not e.utf8)
        raise DatasetError(
            f"{utf8[0].name} is UTF-8, but {not_utf8.name} is {encoding}; every file of "
            f"{name} must be in one encoding: save them all as CSV UTF-8 (iconv -f "
            f"{encoding} -t utf-8), or score them one by one."
        )
    return encoding, [
        f"{name} is not valid UTF-8; it was read as {encoding}. If accented characters "
        "look wrong, save the file as CSV (UTF-8) and load it again."
    ]


def _to_utf8(data: bytes, encoding: str) -> bytes:
    """``data`` (a whole file, or a whole line of one) as UTF-8 bytes without byte order
    mark; in a UTF-8 file, bytes that are not UTF-8 become U+FFFD."""
    if encoding == "utf-16":
        return data.decode("utf-16").encode("utf-8")
    text = data.removeprefix(codecs.BOM_UTF8).decode(encoding, errors="replace")
    return text.encode("utf-8")


def _reject_binary_formats(data: bytes, name: str) -> None:
    """Refuse images, documents, spreadsheets, archives and other binary files by name,
    with a fix."""
    for magic, kind, hint in _KNOWN_BINARIES:
        if data.startswith(magic):
            raise DatasetError(f"{name} is {kind}, not a CSV; {hint}.")
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        raise DatasetError(f"{name} is a WebP image, not a CSV; {_PICK_HINT}.")
    if _is_utf16(data):
        return
    head = data[:HEAD_BYTES]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if b"\x00" in head or controls > max(8, len(head) // 100):
        raise DatasetError(f"{name} isn't a readable text CSV; {EXPORT_HINT}.")


def _reject_text_formats(first_line: bytes, name: str) -> None:
    """Refuse a text file that is not a table of delimited rows, by its first line: JSON
    (an array or object, or JSON Lines), a saved web page, XML; with the fix."""
    line = first_line.removeprefix(codecs.BOM_UTF8).strip()
    lowered = line.lower()
    if line in (b"[", b"{") or line.startswith((b"[{", b'{"', b'["')):
        kind = "JSON"
    elif lowered.startswith((b"<!doctype html", b"<html")):
        kind = "a web page (HTML)"
    elif lowered.startswith(b"<?xml"):
        kind = "XML"
    else:
        return
    raise DatasetError(f"{name} is {kind}, not a CSV; {EXPORT_HINT}.")


def _is_utf16(data: bytes) -> bool:
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def _decode(data: bytes, encoding: str, complete: bool, errors: str = "strict") -> str:
    """``data`` decoded; when not ``complete``, a character cut at the end is left out."""
    return codecs.getincrementaldecoder(encoding)(errors).decode(data, final=complete)


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def _first_line(data: bytes) -> bytes:
    end = data.find(b"\n", 0, HEAD_BYTES)
    return (data[:end] if end >= 0 else data[:HEAD_BYTES]).rstrip(b"\r")


def _looks_like_news_corpora(data: bytes) -> bool:
    """Tab-separated, 8 fields, numeric first field: the original file has no header."""
    fields = _first_line(data).split(b"\t")
    return len(fields) == len(NEWS_CORPORA_COLUMNS) and fields[0].strip().isdigit()


def _sniff_delimiter(data: bytes) -> str:
    """The delimiter that occurs most in the header line; a comma on a tie."""
    # Not csv.Sniffer: on one line it takes a comma whenever there is one, so a tab- or
    # semicolon-separated file with a comma in a column name would be read as a CSV.
    header = _first_line(data).decode("utf-8", errors="replace")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


__all__ = [
    "EXPORT_HINT",
    "HEAD_BYTES",
    "NEWS_CORPORA_COLUMNS",
    "CsvFormat",
    "FileHead",
    "detect_and_decode",
    "detect_csv_format",
    "detect_shared_csv_format",
]
