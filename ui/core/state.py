"""Session state: the one place that names every key the pages share.

Keys (all optional; the helpers below fill in defaults):

``dataset_source``   :class:`DatasetSource` of the active dataset; ``None`` = bundled UCI file.
                     Tests may set it directly to switch datasets without the uploader.
``pending_upload``   :class:`DatasetSource` of an upload waiting to be checked by the sidebar
                     (a test can put bytes here; the sidebar treats it like the file uploader).

An uploaded file's bytes are never kept here: the sidebar writes them into the session's
folder on disk (:mod:`pipeline.sessions.uploads`) and keeps a :class:`DatasetSource` naming that
file.
``dataset_notice``   a message the sidebar shows once (e.g. "this session was reset").
``data_config``      the :class:`~pipeline.core.config.DataConfig` chosen on the Prepare page.
``active_run_id``    the run the Results and Playground pages show.
``train_job_id``     the last training job this session submitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from pipeline.core.config import DataConfig

DATASET_SOURCE = "dataset_source"
PENDING_UPLOAD = "pending_upload"
DATASET_NOTICE = "dataset_notice"
DATA_CONFIG = "data_config"
ACTIVE_RUN_ID = "active_run_id"
TRAIN_JOB_ID = "train_job_id"
HANDLED_JOBS = "handled_job_ids"
#: Stopped jobs whose run did not become the active run, as it scored below the active
#: run then: ``{job_id: the run kept active}``.
KEPT_ACTIVE_RUNS = "kept_active_runs"
#: The label review job this session follows, and its decisions per review key,
#: ``{key: {position: action}}`` (``ui.views.label_review``).
REVIEW_JOB_ID = "review_job_id"
REVIEW_DECISIONS = "review_decisions"

SourceKind = Literal["bundled", "upload", "path"]


#: What a session is told when its uploaded file was removed (it expired, or made room).
MISSING_UPLOAD_NOTICE = (
    "This session's uploaded file is no longer on the server; upload it again. "
    "The bundled data is active meanwhile."
)


@dataclass(frozen=True)
class DatasetSource:
    """Where the active dataset comes from, and how its columns map.

    ``digest`` identifies the content (sha256 of uploaded bytes, or the path with
    its size and modification time) and is what the data caches key on, so the
    bytes themselves are never hashed on a rerun.

    An upload kept on disk has ``kind="upload"``, its file's own ``name`` and
    ``path`` (see :meth:`saved_upload`). ``payload`` holds an upload's bytes only
    between the uploader (or a test, :meth:`from_upload`) and the sidebar, which
    saves them and keeps the saved source instead.
    """

    kind: SourceKind
    name: str
    digest: str
    text_col: str | None = None
    label_col: str | None = None
    payload: bytes | None = field(default=None, repr=False, compare=False)
    path: str | None = None

    @classmethod
    def bundled(cls) -> DatasetSource:
        """The bundled UCI News Aggregator file."""
        return cls(kind="bundled", name="UCI News Aggregator (bundled)", digest="bundled")

    @classmethod
    def from_upload(
        cls,
        name: str,
        data: bytes,
        *,
        text_col: str | None = None,
        label_col: str | None = None,
    ) -> DatasetSource:
        """An uploaded file's bytes, not yet saved: what the sidebar checks (tests put
        one in ``session_state["pending_upload"]`` to upload without the uploader)."""
        digest = hashlib.sha256(data).hexdigest()
        return cls(
            kind="upload",
            name=name,
            digest=digest,
            text_col=text_col,
            label_col=label_col,
            payload=data,
        )

    @classmethod
    def saved_upload(
        cls,
        name: str,
        digest: str,
        path: str | Path,
        *,
        text_col: str | None = None,
        label_col: str | None = None,
    ) -> DatasetSource:
        """An upload kept on disk at ``path`` (``digest``: its bytes' sha256)."""
        return cls(
            kind="upload",
            name=name,
            digest=digest,
            text_col=text_col,
            label_col=label_col,
            path=str(path),
        )

    def with_columns(self, text_col: str | None, label_col: str | None) -> DatasetSource:
        """The same file with a chosen column mapping."""
        return DatasetSource(
            kind=self.kind,
            name=self.name,
            digest=self.digest,
            text_col=text_col,
            label_col=label_col,
            payload=self.payload,
            path=self.path,
        )

    @property
    def cache_key(self) -> str:
        """Content + column mapping: equal keys load equal datasets."""
        return f"{self.digest}|{self.text_col}|{self.label_col}"

    @property
    def is_default(self) -> bool:
        """The bundled file with its own columns (what ``load_default_dataset`` loads)."""
        return self.kind == "bundled" and self.text_col is None and self.label_col is None

    @property
    def is_upload(self) -> bool:
        """A file a visitor uploaded (read with the upload limits)."""
        return self.kind == "upload"

    @property
    def upload_is_gone(self) -> bool:
        """An upload whose saved file is no longer on disk (it expired, or made room
        for another session's); ``False`` for anything else."""
        if not self.is_upload or self.payload is not None:
            return False
        return self.path is None or not Path(self.path).is_file()

    def raw_source(self) -> str | Path | bytes:
        """What ``pipeline.data.read_table`` / ``load_dataset`` accept: an upload's saved
        file (its bytes while not yet saved), a file's path, or the bundled file."""
        if self.kind == "upload":
            if self.path is not None:
                return Path(self.path)
            if self.payload is not None:
                return self.payload
            return Path()  # nowhere: reading it says the upload is gone
        if self.kind == "path" and self.path is not None:
            return Path(self.path)
        from pipeline.data import DEFAULT_DATA_PATH

        return Path(DEFAULT_DATA_PATH)


def get_dataset_source() -> DatasetSource:
    """The active dataset's source (bundled UCI file until the user picks another)."""
    source = st.session_state.get(DATASET_SOURCE)
    return source if isinstance(source, DatasetSource) else DatasetSource.bundled()


def set_dataset_source(source: DatasetSource) -> None:
    """Make ``source`` the active dataset."""
    st.session_state[DATASET_SOURCE] = source


def get_data_config() -> DataConfig:
    """The DataConfig chosen on the Prepare page (defaults until then)."""
    config = st.session_state.get(DATA_CONFIG)
    return config if isinstance(config, DataConfig) else DataConfig()


def set_data_config(config: DataConfig) -> None:
    """Remember the Prepare page's DataConfig for the Train page."""
    st.session_state[DATA_CONFIG] = config


def get_active_run_id() -> str | None:
    """The run the Results and Playground pages show, if any."""
    value = st.session_state.get(ACTIVE_RUN_ID)
    return str(value) if value else None


def set_active_run_id(run_id: str | None) -> None:
    """Make ``run_id`` the active run (``None`` clears it)."""
    st.session_state[ACTIVE_RUN_ID] = run_id


#: Widget keys that start with this keep their value when their page is not shown.
KEEP_PREFIX = "keep."
#: Where :func:`save_widget_values` puts those values between page visits.
SAVED_WIDGETS = "saved_widget_values"


def restore_widget_values() -> None:
    """Give settings widgets back the values they had when their page was last shown.

    Streamlit forgets a widget's value once a run does not draw it, and on a
    page switch it drops the old page's widget values before the script even
    starts. The entry point calls this before the page runs and
    :func:`save_widget_values` after it. Every widget key starting with
    :data:`KEEP_PREFIX` is re-assigned through the Session State API (its
    current value, which includes a change the user just made, or else the
    saved one), which turns it into a user value that outlives the page.
    Only value widgets may use the prefix (never buttons or uploaders, which
    cannot be set).
    """
    saved = st.session_state.get(SAVED_WIDGETS) or {}
    keys = set(saved) | {
        key for key in st.session_state if isinstance(key, str) and key.startswith(KEEP_PREFIX)
    }
    for key in sorted(keys):
        try:
            value = st.session_state[key]
        except KeyError:
            value = saved[key]
        st.session_state[key] = value


def save_widget_values() -> None:
    """Remember the current value of every ``keep.`` widget (see :func:`restore_widget_values`)."""
    saved = dict(st.session_state.get(SAVED_WIDGETS) or {})
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(KEEP_PREFIX):
            saved[key] = st.session_state[key]
    st.session_state[SAVED_WIDGETS] = saved


def init_widget(key: str, value: Any) -> None:
    """Give a widget its first value through session state (no ``value=`` argument).

    Widgets created this way never trigger Streamlit's "default value and
    session state both set" warning, and tests can pre-set the key.
    """
    if key not in st.session_state:
        st.session_state[key] = value
