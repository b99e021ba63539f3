"""Loading, mapping, validating and inspecting a dataset of short texts with labels.

The reference dataset is the UCI News Aggregator CSV (``TITLE`` text, ``CATEGORY`` label
``b``/``t``/``e``/``m``); any CSV with a text column and a label column works too. Three
steps, each usable on its own:

1. :func:`read_table` turns a path or uploaded bytes into a :class:`RawTable` (every column
   as strings): CSV, gzip-compressed CSV, or the original tab-separated ``newsCorpora.csv``
   without a header; UTF-8 first, then a Windows-1252 / Latin-1 fallback.
2. :func:`load_dataset` maps the text and label columns into a :class:`Dataset` whose
   ``frame`` has the normalised columns ``text``, ``label`` and, when the file has them,
   ``story`` and ``publisher``.
3. :func:`inspect_dataset` computes the statistics the Inspect page and the CLI show.

Every problem a user can cause raises :class:`~pipeline.errors.DatasetError` with a message
that names the problem and the fix. No TensorFlow here.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import string
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import DatasetError

UCI_LABEL_NAMES: dict[str, str] = {
    "b": "business",
    "t": "science/tech",
    "e": "entertainment",
    "m": "health",
}
DEFAULT_DATA_PATH: Path = (
    Path(__file__).resolve().parents[1] / "data" / "uci-news-aggregator.csv.gz"
)
#: Largest upload accepted, measured on the uncompressed CSV.
MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024

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
TEXT_COLUMN_NAMES: tuple[str, ...] = ("title", "text", "headline", "sentence", "content")
LABEL_COLUMN_NAMES: tuple[str, ...] = ("category", "label", "class", "target", "topic")

#: Characters a text may consist of and still vectorise to nothing.
BLANK_CHARACTERS: str = string.whitespace + string.punctuation

_SNIFF_BYTES = 64 * 1024
_DELIMITERS = (",", "\t", ";", "|")
_EXPORT_HINT = "export it as CSV (UTF-8) and upload again"


@dataclass
class RawTable:
    """A file read as a table of strings, before any column mapping.

    Attributes
    ----------
    frame : pandas.DataFrame
        The file's rows with its original column names; every cell a string (empty string
        for an empty cell).
    name : str
        File name shown to the user.
    encoding : str
        ``"utf-8"``, ``"utf-16"``, ``"cp1252"`` or ``"latin-1"``.
    notes : list of str
        Things the user should know about how the file was read.
    layout : str
        ``"csv"`` or ``"newsCorpora"`` (the original tab-separated file without header).
    """

    frame: pd.DataFrame
    name: str
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    layout: str = "csv"


@dataclass
class Dataset:
    """A loaded dataset with its text and label columns mapped.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``text`` (str), ``label`` (str, stripped, never empty) and, when the file has
        them, ``story`` and ``publisher``. Rows without a label are already dropped.
    raw_columns : list of str
        The file's column names.
    text_col, label_col : str
        The file's columns that became ``text`` and ``label``.
    label_names : dict of str to str
        Label code -> display name (the UCI names for ``b``/``t``/``e``/``m`` in the UCI
        schema, the code itself otherwise), sorted by code.
    name, encoding, notes
        As in :class:`RawTable`, plus notes added while loading.
    missing : dict of str to int
        Per raw column, cells that are empty or whitespace only.
    rows_read : int
        Rows in the file, before rows without a label were dropped.
    """

    frame: pd.DataFrame
    raw_columns: list[str]
    text_col: str
    label_col: str
    label_names: dict[str, str]
    name: str
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    def display(self, label: str) -> str:
        """Display name of label code ``label`` (the code itself when it has none)."""
        return self.label_names.get(label, label)

    @property
    def classes(self) -> list[str]:
        """Label codes, sorted."""
        return sorted(self.label_names)


# --------------------------------------------------------------------------- reading


def read_table(source: str | Path | bytes, *, name: str | None = None) -> RawTable:
    """Read a CSV, a gzip-compressed CSV or the original ``newsCorpora.csv`` as strings.

    Parameters
    ----------
    source : str, Path or bytes
        A file path, or the bytes of an uploaded file (limited to ``MAX_UPLOAD_BYTES``,
        uncompressed).
    name : str, optional
        Name shown in messages; defaults to the file name (``"uploaded file"`` for bytes).

    Returns
    -------
    RawTable
        Every column as strings, ``""`` for empty cells ("NA" stays the text "NA").

    Raises
    ------
    DatasetError
        Missing file, too big, not text, not parseable, empty, or a header without rows.
    """
    data, name, limit = _read_source(source, name)
    data = _gunzip_if_needed(data, name, limit)
    data, name = _unzip_if_one_csv(data, name, limit)
    _reject_binary_formats(data, name)
    data, encoding, notes = _decode_to_utf8(data, name)
    if not data or data.isspace():
        raise DatasetError(f"{name} is empty; upload a CSV with a header row and data rows.")
    layout = "newsCorpora" if _looks_like_news_corpora(data) else "csv"
    frame = _parse(data, name, layout)
    frame.columns = [str(c).strip() for c in frame.columns]
    if layout == "newsCorpora":
        notes.append(
            f"{name} was read as the original tab-separated newsCorpora.csv without a header: "
            f"columns {', '.join(NEWS_CORPORA_COLUMNS)}."
        )
    if frame.empty:
        raise DatasetError(
            f"{name} has a header ({', '.join(map(str, frame.columns))}) but no data rows; "
            "upload a file with at least one row per class."
        )
    return RawTable(frame=frame, name=name, encoding=encoding, notes=notes, layout=layout)


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str, int | None]:
    """The file's bytes, its display name and the size limit that applies to it."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "uploaded file"
        _check_size(len(data), name)
        return data, name, MAX_UPLOAD_BYTES
    path = Path(source)
    name = name or path.name
    if not path.is_file():
        raise DatasetError(f"No file at {path}; check the path or upload the file instead.")
    try:
        return path.read_bytes(), name, None
    except OSError as exc:
        raise DatasetError(
            f"{name} could not be opened ({exc.strerror}); check its permissions."
        ) from None


def _check_size(size: int, name: str) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise DatasetError(
            f"{name} is {size / 2**20:,.0f} MB uncompressed, over the limit of "
            f"{MAX_UPLOAD_BYTES / 2**20:,.0f} MB; upload a smaller sample of it."
        )


def _gunzip_if_needed(data: bytes, name: str, limit: int | None) -> bytes:
    """Decompress gzip data (recognised by its magic bytes, whatever the file is called)."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            # Reading one byte past the limit detects an oversized file without
            # inflating all of it.
            out = stream.read() if limit is None else stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{name} looks gzip-compressed but could not be decompressed ({exc}); "
            "compress it again or upload the plain CSV."
        ) from None
    if limit is not None and len(out) > limit:
        raise DatasetError(
            f"{name} is over {MAX_UPLOAD_BYTES / 2**20:,.0f} MB once decompressed, over the "
            f"limit of {MAX_UPLOAD_BYTES / 2**20:,.0f} MB; upload a smaller sample of it."
        )
    return out


_PICK_HINT = "upload the CSV of texts and labels instead"
#: Files people upload by mistake, by their first bytes: what to call them, what to do.
_KNOWN_BINARIES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _PICK_HINT),
    (b"\xff\xd8\xff", "a JPEG image", _PICK_HINT),
    (b"GIF87a", "a GIF image", _PICK_HINT),
    (b"GIF89a", "a GIF image", _PICK_HINT),
    (b"%PDF-", "a PDF document", f"{_PICK_HINT}, or open it and {_EXPORT_HINT}"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (or another old Office file)",
        f"open it and {_EXPORT_HINT}",
    ),
    (b"PAR1", "a Parquet file", _EXPORT_HINT),
    (b"PK\x05\x06", "an empty ZIP archive", "zip the CSV itself, or upload it as it is"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "upload the CSV, or a .zip or .gz of it"),
    (b"Rar!", "a RAR archive", "upload the CSV, or a .zip or .gz of it"),
    (b"BZh", "a bzip2-compressed file", "upload the CSV, or a .zip or .gz of it"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "upload the CSV, or a .zip or .gz of it"),
)
#: Names of the text files a ZIP upload may hold (exactly one of them).
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")


def _unzip_if_one_csv(data: bytes, name: str, limit: int | None) -> tuple[bytes, str]:
    """A ZIP archive's one CSV (``"data.zip › headlines.csv"`` as its name); an Office
    file, or an archive holding anything but exactly one CSV, is refused with what it
    holds."""
    if not data.startswith(b"PK\x03\x04"):
        return data, name
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DatasetError(
            f"{name} looks like a ZIP archive but cannot be opened; zip it again or upload "
            "the plain CSV."
        ) from None
    with archive:
        files = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not info.filename.startswith(("__MACOSX/", "."))
        ]
        names = [info.filename for info in files]
        excel = any(n.startswith("xl/") for n in names)
        if excel or "[Content_Types].xml" in names:
            kind = "an Excel workbook" if excel else "an Office document"
            raise DatasetError(f"{name} is {kind}, not a CSV; open it and {_EXPORT_HINT}.")
        texts = [info for info in files if info.filename.lower().endswith(_TEXT_SUFFIXES)]
        if len(files) != 1 or len(texts) != 1:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "") or "nothing"
            raise DatasetError(
                f"{name} holds {len(files)} file{'' if len(files) == 1 else 's'} ({shown}); "
                "a ZIP upload must hold exactly one CSV. Zip just the CSV, or upload it as it is."
            )
        (member,) = texts
        inner = f"{name} › {member.filename}"
        if limit is not None and member.file_size > limit:
            _check_size(member.file_size, inner)
        try:
            with archive.open(member) as stream:
                out = stream.read() if limit is None else stream.read(limit + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            raise DatasetError(
                f"{inner} could not be unpacked ({exc}); zip it again or upload the plain CSV."
            ) from None
    if limit is not None:
        _check_size(len(out), inner)
    return out, inner


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
    head = data[:_SNIFF_BYTES]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if b"\x00" in head or controls > max(8, len(head) // 100):
        raise DatasetError(f"{name} isn't a readable text CSV; {_EXPORT_HINT}.")


def _decode_to_utf8(data: bytes, name: str) -> tuple[bytes, str, list[str]]:
    """UTF-8 bytes without BOM, the encoding the file was in, and notes about it."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16", []
        except UnicodeDecodeError:
            raise DatasetError(f"{name} isn't a readable text CSV; {_EXPORT_HINT}.") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        data.decode("utf-8")
        return data, "utf-8", []
    except UnicodeDecodeError:
        pass
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
        return text.encode("utf-8"), encoding, [note]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _first_line(data: bytes) -> bytes:
    end = data.find(b"\n", 0, _SNIFF_BYTES)
    return (data[:end] if end >= 0 else data[:_SNIFF_BYTES]).rstrip(b"\r")


def _looks_like_news_corpora(data: bytes) -> bool:
    """Tab-separated, 8 fields, numeric first field: the original file has no header."""
    fields = _first_line(data).split(b"\t")
    return len(fields) == len(NEWS_CORPORA_COLUMNS) and fields[0].strip().isdigit()


def _sniff_delimiter(data: bytes) -> str:
    """The delimiter that occurs most in the header line; a comma on a tie."""
    header = _first_line(data).decode("utf-8", errors="replace")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


def _engines() -> tuple[str, ...]:
    try:
        import pyarrow  # noqa: F401  (the pyarrow engine is ~10x faster than the C one)
    except ImportError:  # pragma: no cover - pyarrow comes with streamlit
        return ("c", "python")
    return ("pyarrow", "c", "python")


def _parse(data: bytes, name: str, layout: str) -> pd.DataFrame:
    """Parse UTF-8 bytes with the fastest pandas engine that copes with the file."""
    if layout == "newsCorpora":
        # The original file has no quoting at all: titles hold literal double quotes.
        options = {
            "sep": "\t",
            "header": None,
            "names": list(NEWS_CORPORA_COLUMNS),
            "quoting": csv.QUOTE_NONE,
        }
        engines: tuple[str, ...] = ("c", "python")
    else:
        options = {"sep": _sniff_delimiter(data)}
        engines = _engines()
    error: Exception | None = None
    for engine in engines:
        try:
            with warnings.catch_warnings():
                # A row longer than the header would otherwise be cut short or turned into
                # an index with only a warning: refuse it instead.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                # (The pyarrow engine is strict about row lengths and knows no index_col.)
                strict = {} if engine == "pyarrow" else {"index_col": False}
                frame = pd.read_csv(
                    io.BytesIO(data),
                    dtype=str,
                    keep_default_na=False,
                    engine=engine,
                    **options,
                    **strict,
                )
        except pd.errors.EmptyDataError:
            raise DatasetError(
                f"{name} is empty; upload a CSV with a header row and data rows."
            ) from None
        except Exception as exc:  # every engine failure is retried, then mapped
            error = exc
            continue
        return frame.fillna("")
    raise DatasetError(
        f"{name} could not be read as a table ({_short(error)}). Check that every row has "
        "the same number of fields as the header and that texts containing commas or "
        'line breaks are wrapped in double quotes ("..."); or ' + _EXPORT_HINT + "."
    )


def _short(error: Exception | None) -> str:
    text = " ".join(str(error).split()) if error is not None else "unknown error"
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- mapping


def guess_columns(raw: RawTable) -> tuple[str | None, str | None]:
    """Guess which columns hold the text and the label, from their names.

    Parameters
    ----------
    raw : RawTable
        A table from :func:`read_table`.

    Returns
    -------
    (str or None, str or None)
        The text column and the label column; ``None`` where no column name fits.
        ``TITLE``/``CATEGORY`` (the UCI schema) are found in any letter case, then common
        names (text, headline, sentence, content; label, class, target, topic), first as
        whole names, then as parts of names (``headline_text``).
    """
    columns = [str(c) for c in raw.frame.columns]
    text_col = _match_name(columns, TEXT_COLUMN_NAMES, exclude=None)
    label_col = _match_name(columns, LABEL_COLUMN_NAMES, exclude=text_col)
    return text_col, label_col


def _match_name(columns: list[str], names: tuple[str, ...], exclude: str | None) -> str | None:
    candidates = [c for c in columns if c != exclude]
    lowered = {c: c.strip().lower() for c in candidates}
    for wanted in names:
        for column in candidates:
            if lowered[column] == wanted:
                return column
    for wanted in names:
        for column in candidates:
            if wanted in lowered[column]:
                return column
    return None


def _find_column(columns: list[str], wanted: str) -> str | None:
    """``wanted`` itself, else the single column equal to it ignoring case."""
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.strip().lower() == wanted.strip().lower()]
    return matches[0] if len(matches) == 1 else None


def _resolve(raw: RawTable, wanted: str | None, guess: str | None, role: str) -> str:
    columns = [str(c) for c in raw.frame.columns]
    listing = ", ".join(columns)
    if wanted is None:
        if guess is None:
            raise DatasetError(
                f"Could not tell which column of {raw.name} holds the {role}; its columns are "
                f"{listing}. Choose the {role} column."
            )
        return guess
    found = _find_column(columns, wanted)
    if found is None:
        raise DatasetError(
            f"{raw.name} has no column {wanted!r} for the {role}; its columns are {listing}. "
            f"Choose one of those as the {role} column."
        )
    return found


def load_dataset(
    source: str | Path | bytes | RawTable,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Read a file and map its text and label columns.

    Parameters
    ----------
    source : str, Path, bytes or RawTable
        What :func:`read_table` accepts, or a table it already returned.
    text_col, label_col : str, optional
        Columns holding the text and the label (matched ignoring case). Guessed with
        :func:`guess_columns` when omitted: the UCI schema (``TITLE``, ``CATEGORY``) needs
        nothing.
    name : str, optional
        Name shown in messages and stored with runs.

    Returns
    -------
    Dataset
        ``frame`` with ``text``, ``label`` and, when present, ``story`` and ``publisher``.

    Raises
    ------
    DatasetError
        Unreadable file, unknown or identical columns, no label in any row, fewer than two
        classes, or no text in any row.
    """
    raw = source if isinstance(source, RawTable) else read_table(source, name=name)
    name = name or raw.name
    guess_text, guess_label = guess_columns(raw)
    text_col = _resolve(raw, text_col, guess_text, "text")
    label_col = _resolve(raw, label_col, guess_label, "label")
    if text_col == label_col:
        raise DatasetError(
            f"The text and the label are both mapped to column {text_col!r}; "
            "choose two different columns."
        )
    notes = list(raw.notes)
    frame = _normalise(raw.frame, text_col, label_col)
    frame, dropped = _drop_unlabelled(frame)
    if dropped:
        notes.append(
            f"{dropped:,} row(s) with an empty {label_col!r} were dropped: a row needs a label."
        )
    _validate(frame, name, text_col, label_col)
    is_uci = text_col.lower() == "title" and label_col.lower() == "category"
    classes = sorted(frame["label"].unique().tolist())
    label_names = {c: UCI_LABEL_NAMES.get(c, c) if is_uci else c for c in classes}
    return Dataset(
        frame=frame,
        raw_columns=[str(c) for c in raw.frame.columns],
        text_col=text_col,
        label_col=label_col,
        label_names=label_names,
        name=name,
        encoding=raw.encoding,
        notes=notes,
        missing=_missing_per_column(raw.frame),
        rows_read=len(raw.frame),
    )


def _normalise(raw: pd.DataFrame, text_col: str, label_col: str) -> pd.DataFrame:
    columns = [str(c) for c in raw.columns]
    frame = pd.DataFrame(
        {"text": raw[text_col], "label": raw[label_col].str.strip()}, index=raw.index
    )
    for key in ("story", "publisher"):
        column = _find_column(columns, key)
        if column is not None and column not in (text_col, label_col):
            frame[key] = raw[column].str.strip()
    return frame


def _drop_unlabelled(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    unlabelled = frame["label"] == ""
    dropped = int(unlabelled.sum())
    if dropped:
        frame = frame[~unlabelled]
    return frame.reset_index(drop=True), dropped


def _validate(frame: pd.DataFrame, name: str, text_col: str, label_col: str) -> None:
    if frame.empty:
        raise DatasetError(
            f"The label column {label_col!r} of {name} is empty in every row; "
            "choose the column that holds the classes."
        )
    classes = frame["label"].unique()
    if len(classes) < 2:
        raise DatasetError(
            f"The label column {label_col!r} of {name} holds a single class ({classes[0]!r}); "
            "a classifier needs at least 2 classes. Choose another label column or add rows "
            "of other classes."
        )
    if (frame["text"].str.strip() == "").all():
        raise DatasetError(
            f"The text column {text_col!r} of {name} has no text in any row; "
            "choose the column that holds the headlines."
        )


def _missing_per_column(raw: pd.DataFrame) -> dict[str, int]:
    return {str(c): int((raw[c].str.strip() == "").sum()) for c in raw.columns}


def load_default_dataset() -> Dataset:
    """Load the bundled UCI News Aggregator dataset (``DEFAULT_DATA_PATH``).

    Returns
    -------
    Dataset
        422,937 rows with ``text``, ``label`` (b/t/e/m), ``story`` and ``publisher``.

    Raises
    ------
    DatasetError
        When the bundled file is missing.
    """
    if not DEFAULT_DATA_PATH.is_file():
        raise DatasetError(
            f"The bundled dataset is missing ({DEFAULT_DATA_PATH}); restore it with "
            "`git checkout -- data/` or upload a CSV instead."
        )
    return load_dataset(DEFAULT_DATA_PATH)


# --------------------------------------------------------------------------- inspecting


def word_counts(texts: pd.Series) -> np.ndarray:
    """Whitespace-separated words per text (what ``str.split()`` gives), as int64."""
    if getattr(texts.dtype, "storage", None) == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        trimmed = pc.utf8_trim_whitespace(pa.array(texts))
        counts = pc.list_value_length(pc.utf8_split_whitespace(trimmed))
        # Splitting "" gives [""]: a blank text has no words.
        counts = pc.if_else(pc.equal(trimmed, ""), 0, pc.fill_null(counts, 0))
        return np.asarray(counts, dtype="int64")
    return texts.astype(str).str.split().str.len().fillna(0).to_numpy(dtype="int64")


def inspect_dataset(ds: Dataset, top_n: int = 10) -> dict:
    """Statistics of a dataset for the Inspect page and the CLI, JSON-ready.

    Parameters
    ----------
    ds : Dataset
        A loaded dataset.
    top_n : int
        Rows in the "most duplicated texts" and "top publishers" lists.

    Returns
    -------
    dict
        ``name``, ``rows``, ``rows_read``, ``columns`` (raw names), ``text_col``,
        ``label_col``, ``missing`` {raw column: empty cells}, ``duplicates``
        {``duplicated_rows`` (rows whose text occurs more than once),
        ``distinct_duplicated_texts``, ``extra_copies``, ``top``: [{``text``, ``count``,
        ``labels``: {label: rows}}]}, ``labels_per_duplicated_text`` (texts found under more
        than one label), ``class_counts`` [{``code``, ``name``, ``count``, ``share``}],
        ``text_length_words`` {``min``, ``p50``, ``p90``, ``p99``, ``p99.9``, ``max``,
        ``mean``}, ``length_counts`` {words: rows}, ``top_publishers`` [{``publisher``,
        ``count``}], ``n_publishers`` and ``n_stories`` (``None`` without those columns).
    """
    frame = ds.frame
    report: dict = {
        "name": ds.name,
        "rows": len(frame),
        "rows_read": ds.rows_read or len(frame),
        "columns": list(ds.raw_columns),
        "text_col": ds.text_col,
        "label_col": ds.label_col,
        "missing": dict(ds.missing),
    }
    report.update(_duplicate_stats(frame, top_n))
    report["class_counts"] = _class_table(frame, ds)
    report.update(_length_stats(frame["text"]))
    report.update(_publisher_stats(frame, top_n))
    report["n_stories"] = _distinct_nonempty(frame, "story")
    return report


def _duplicate_stats(frame: pd.DataFrame, top_n: int) -> dict:
    counts = frame["text"].value_counts()
    repeated = counts[counts > 1]
    # Most copies first, ties by text, so the list is the same on every run.
    repeated = repeated.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    duplicated = frame[frame["text"].isin(repeated.index)]
    pairs = duplicated[["text", "label"]].drop_duplicates()
    several_labels = int(pairs.loc[pairs["text"].duplicated(), "text"].nunique())
    top_texts = repeated.head(top_n)
    per_label = (
        duplicated[duplicated["text"].isin(top_texts.index)]
        .groupby(["text", "label"], sort=True)
        .size()
    )
    top = []
    for text, count in top_texts.items():
        labels = per_label.loc[text].sort_values(ascending=False, kind="stable")
        top.append(
            {
                "text": str(text),
                "count": int(count),
                "labels": {str(k): int(v) for k, v in labels.items()},
            }
        )
    duplicated_rows = int(repeated.sum())
    return {
        "duplicates": {
            "duplicated_rows": duplicated_rows,
            "distinct_duplicated_texts": len(repeated),
            "extra_copies": duplicated_rows - len(repeated),
            "top": top,
        },
        "labels_per_duplicated_text": several_labels,
    }


def _class_table(frame: pd.DataFrame, ds: Dataset) -> list[dict]:
    counts = frame["label"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    total = int(counts.sum())
    return [
        {
            "code": str(code),
            "name": ds.display(str(code)),
            "count": int(count),
            "share": round(int(count) / total, 6),
        }
        for code, count in counts.items()
    ]


def _length_stats(texts: pd.Series) -> dict:
    words = word_counts(texts)
    points = np.percentile(words, [50, 90, 99, 99.9])
    lengths = {
        "min": int(words.min()),
        "p50": float(points[0]),
        "p90": float(points[1]),
        "p99": float(points[2]),
        "p99.9": float(points[3]),
        "max": int(words.max()),
        "mean": round(float(words.mean()), 3),
    }
    values, rows = np.unique(words, return_counts=True)
    return {
        "text_length_words": lengths,
        "length_counts": {int(v): int(n) for v, n in zip(values, rows, strict=True)},
    }


def _publisher_stats(frame: pd.DataFrame, top_n: int) -> dict:
    if "publisher" not in frame:
        return {"top_publishers": [], "n_publishers": None}
    publishers = frame.loc[frame["publisher"] != "", "publisher"]
    counts = publishers.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = [{"publisher": str(p), "count": int(n)} for p, n in counts.head(top_n).items()]
    return {"top_publishers": top, "n_publishers": len(counts)}


def _distinct_nonempty(frame: pd.DataFrame, column: str) -> int | None:
    if column not in frame:
        return None
    values = frame[column]
    return int(values[values != ""].nunique())


def fingerprint(ds: Dataset) -> str:
    """A stable 16-hex-digit digest of the dataset's ``text`` and ``label`` columns.

    Equal rows in equal order give equal fingerprints on every run and machine, whatever the
    file was called or how its columns were named.
    """
    hashes = pd.util.hash_pandas_object(ds.frame[["text", "label"]].astype(str), index=False)
    return hashlib.sha256(hashes.to_numpy(dtype="<u8").tobytes()).hexdigest()[:16]
