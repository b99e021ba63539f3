"""How a CSV file is written, told from its bytes: one rule for the app, the CLI and the scorer.

:func:`detect_csv_format` reads the first bytes of a file (decompressed already) and
returns its :class:`CsvFormat`: the delimiter, the encoding, and for the original
tab-separated ``newsCorpora.csv`` (no header, no quoting) its column names.
:func:`pipeline.data.reading.read_table` reads whole files by it
(:func:`detect_and_decode`), and the batch scorer (:mod:`pipeline.scoring.source`) reads
the first :data:`HEAD_BYTES` of each input file by it and streams the rest with the same
settings, so a file the app trains on is a file the scorer scores.

The rules, in order:

1. **Not text.** Images, documents, workbooks, Parquet files and odd archives are refused
   by name, and so is anything with NUL bytes or many control characters.
2. **Encoding.** UTF-16 with its byte order mark; else UTF-8 (a UTF-8 byte order mark
   dropped); else UTF-8 with a few stray bytes when the bytes hold more UTF-8 characters
   than bytes that are not UTF-8 (the stray bytes become U+FFFD, ``\\ufffd``, with a note);
   else Windows-1252 (what Excel on Windows writes), else Latin-1, with a note.
3. **Layout.** A first line of eight tab-separated fields starting with a number is the
   original ``newsCorpora.csv`` (:data:`NEWS_CORPORA_COLUMNS`, no header, no quoting).
4. **Delimiter.** Otherwise the one of ``,``, tab, ``;`` and ``|`` the header line holds
   most (a comma on a tie or when it holds none).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

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
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16"}
_PICK_HINT = "upload the CSV of texts and labels instead"
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
    notes : tuple of str
        What a person should know about how the file is read (an encoding other than
        UTF-8, a layout without header); not compared when two formats are.
    """

    delimiter: str = ","
    encoding: str = "utf-8"
    column_names: tuple[str, ...] | None = None
    quoted: bool = True
    layout: str = "csv"
    notes: tuple[str, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        """The format in words, e.g. ``"semicolon-separated cp1252 with a header row"``."""
        delimiter = _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
        encoding = _ENCODING_NAMES.get(self.encoding, self.encoding)
        header = "with a header row" if self.column_names is None else "without a header"
        layout = " (the newsCorpora layout)" if self.layout == "newsCorpora" else ""
        return f"{delimiter}-separated {encoding} {header}{layout}"


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
    return _detect(head, name, complete)[0]


def detect_and_decode(data: bytes, name: str) -> tuple[CsvFormat, bytes]:
    """The :class:`CsvFormat` of a whole file, and the file as UTF-8 bytes.

    ``data`` is all of a decompressed file. The bytes returned have no byte order mark;
    stray bytes of a UTF-8 file are U+FFFD. Raises :class:`DatasetError` as
    :func:`detect_csv_format` does.
    """
    return _detect(data, name, True)


def _detect(data: bytes, name: str, complete: bool) -> tuple[CsvFormat, bytes]:
    _reject_binary_formats(data, name)
    encoding, text, notes = _decode_to_utf8(data, name, complete)
    if not _looks_like_news_corpora(text):
        return CsvFormat(_sniff_delimiter(text), encoding, notes=tuple(notes)), text
    notes.append(
        f"{name} was read as the original tab-separated newsCorpora.csv without a header: "
        f"columns {', '.join(NEWS_CORPORA_COLUMNS)}."
    )
    found = CsvFormat("\t", encoding, NEWS_CORPORA_COLUMNS, False, "newsCorpora", tuple(notes))
    return found, text


def _reject_binary_formats(data: bytes, name: str) -> None:
    """Refuse images, documents, spreadsheets, archives and other binary files by name,
    with a fix."""
    for magic, kind, hint in _KNOWN_BINARIES:
        if data.startswith(magic):
            raise DatasetError(f"{name} is {kind}, not a CSV; {hint}.")
    if data[8:12] == b"WEBP" and data.startswith(b"RIFF"):
        raise DatasetError(f"{name} is a WebP image, not a CSV; {_PICK_HINT}.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    head = data[:HEAD_BYTES]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if b"\x00" in head or controls > max(8, len(head) // 100):
        raise DatasetError(f"{name} isn't a readable text CSV; {EXPORT_HINT}.")


def _decode(data: bytes, encoding: str, complete: bool, errors: str = "strict") -> str:
    """``data`` decoded; when not ``complete``, a character cut at the end is left out."""
    return codecs.getincrementaldecoder(encoding)(errors).decode(data, final=complete)


def _decode_to_utf8(data: bytes, name: str, complete: bool) -> tuple[str, bytes, list[str]]:
    """The encoding the file is in, its bytes as UTF-8 without BOM, and notes about it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return "utf-16", _decode(data, "utf-16", complete).encode("utf-8"), []
        except UnicodeDecodeError:
            raise DatasetError(f"{name} isn't a readable text CSV; {EXPORT_HINT}.") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        _decode(data, "utf-8", complete)
        return "utf-8", data, []
    except UnicodeDecodeError:
        pass
    text = _decode(data, "utf-8", complete, errors="replace")
    stray = text.count("\ufffd")
    characters = len(text) - len(text.encode("ascii", "ignore")) - stray
    if characters > stray:  # UTF-8 with a few stray bytes: keep its characters
        note = (
            f"{name} is UTF-8 but for {stray:,} stray byte{'s' if stray > 1 else ''}, read "
            "as \ufffd. To keep the characters they stood for, save the file as CSV "
            "(UTF-8) and upload it again."
        )
        return "utf-8", text.encode("utf-8"), [note]
    # cp1252 first: it is what Excel on Windows writes; latin-1 decodes any byte.
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        note = (
            f"{name} is not valid UTF-8; it was read as {encoding}. If accented characters "
            "look wrong, save the file as CSV (UTF-8) and upload it again."
        )
        return encoding, text.encode("utf-8"), [note]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


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
    "detect_and_decode",
    "detect_csv_format",
]
