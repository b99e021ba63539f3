"""Reading a file into a table of strings: bytes, limits, archives, encodings, parsing.

:func:`read_table` turns a path or uploaded bytes into a :class:`RawTable` (every column as
strings). It takes a CSV, a gzip-compressed CSV, a ZIP archive holding one CSV, or the
original tab-separated ``newsCorpora.csv`` without a header; uploads are limited to
``MAX_UPLOAD_BYTES`` uncompressed; images, documents, workbooks and other archives are
refused by name; the encoding, the delimiter and the layout are told from the bytes by
:func:`pipeline.data.csv_format.detect_and_decode`, the rule the batch scorer reads by too
(UTF-8, or UTF-16 with a BOM, then a Windows-1252 / Latin-1 fallback; ``,``, tab, ``;`` or
``|``, the one the header line holds most).

Every problem a user can cause raises :class:`~pipeline.core.errors.DatasetError` with a message
that names the problem and the fix.
"""

from __future__ import annotations

import csv
import gzip
import io
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.core.errors import DatasetError
from pipeline.data.csv_format import (
    EXPORT_HINT,
    CsvFormat,
    detect_and_decode,
)

#: Largest upload accepted, measured on the uncompressed CSV.
MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024


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


def read_table(
    source: str | Path | bytes, *, name: str | None = None, uploaded: bool = False
) -> RawTable:
    """Read a CSV, a gzip-compressed CSV or the original ``newsCorpora.csv`` as strings.

    Compression is recognised by the first bytes (gzip, ZIP), never by the file's name,
    so an upload kept on disk under its digest (:mod:`pipeline.sessions.uploads`) reads the same
    as its bytes.

    Parameters
    ----------
    source : str, Path or bytes
        A file path, or the bytes of an uploaded file (limited to ``MAX_UPLOAD_BYTES``,
        uncompressed).
    name : str, optional
        Name shown in messages; defaults to the file name (``"uploaded file"`` for bytes).
    uploaded : bool
        ``source`` is the path of a file a visitor uploaded: the upload limit applies as
        for bytes, and a missing file is named by ``name`` alone (never its path on the
        server) with "upload it again".

    Returns
    -------
    RawTable
        Every column as strings, ``""`` for empty cells ("NA" stays the text "NA").

    Raises
    ------
    DatasetError
        Missing file, too big, not text, not parseable, empty, or a header without rows.
    """
    data, name, limit = _read_source(source, name, uploaded)
    data = _gunzip_if_needed(data, name, limit)
    data, name = _unzip_if_one_csv(data, name, limit)
    found, data = detect_and_decode(data, name)
    if not data or data.isspace():
        raise DatasetError(f"{name} is empty; upload a CSV with a header row and data rows.")
    frame = _parse(data, name, found)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DatasetError(
            f"{name} has a header ({', '.join(map(str, frame.columns))}) but no data rows; "
            "upload a file with at least one row per class."
        )
    return RawTable(
        frame=frame,
        name=name,
        encoding=found.encoding,
        notes=list(found.notes),
        layout=found.layout,
    )


def _read_source(
    source: str | Path | bytes, name: str | None, uploaded: bool
) -> tuple[bytes, str, int | None]:
    """The file's bytes, its display name and the size limit that applies to it."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "uploaded file"
        _check_size(len(data), name)
        return data, name, MAX_UPLOAD_BYTES
    path = Path(source)
    name = name or (path.name if not uploaded else "the uploaded file")
    if not path.is_file():
        if uploaded:
            raise DatasetError(f"{name} is no longer on the server; upload it again.")
        raise DatasetError(f"No file at {path}; check the path or upload the file instead.")
    try:
        if uploaded:
            _check_size(path.stat().st_size, name)
        return path.read_bytes(), name, MAX_UPLOAD_BYTES if uploaded else None
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
            raise DatasetError(f"{name} is {kind}, not a CSV; open it and {EXPORT_HINT}.")
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


def _engines() -> tuple[str, ...]:
    try:
        import pyarrow  # noqa: F401  (the pyarrow engine is ~10x faster than the C one)
    except ImportError:  # pragma: no cover - pyarrow comes with streamlit
        return ("c", "python")
    return ("pyarrow", "c", "python")


def _parse(data: bytes, name: str, found: CsvFormat) -> pd.DataFrame:
    """Parse UTF-8 bytes written in ``found``'s format with the fastest pandas engine that
    copes with the file."""
    options: dict[str, object] = {"sep": found.delimiter, "skiprows": found.skip_rows}
    engines = _engines()
    if found.column_names is not None:
        options.update(header=None, names=list(found.column_names))
    if not found.quoted:
        # The original newsCorpora file has no quoting at all: titles hold literal quotes.
        options["quoting"] = csv.QUOTE_NONE
        engines = ("c", "python")
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
        'line breaks are wrapped in double quotes ("..."); or ' + EXPORT_HINT + "."
    )


def _short(error: Exception | None) -> str:
    text = " ".join(str(error).split()) if error is not None else "unknown error"
    return text if len(text) <= 160 else text[:157] + "..."
