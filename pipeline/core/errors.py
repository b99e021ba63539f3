"""Typed errors raised by every layer of the pipeline.

Each message is written for the person using the app or the CLI: it names the
problem and says how to fix it. The UI shows ``str(error)`` as it is; the CLI
prints it on one line and exits non-zero.
"""

from __future__ import annotations


class HeadlineLabError(Exception):
    """Base class: an expected problem with a user-facing message."""


class DatasetError(HeadlineLabError):
    """The data cannot be read, mapped, validated or split."""


class ColumnChoiceError(DatasetError):
    """No column of a file could be found for the text or the label: the user must name one.

    ``problem`` says what was not found (with the file's columns) and ``role`` which column
    it is (``"text"`` or ``"label"``), so that each front end words the fix its own way (the
    app: the column picker; the CLI: ``--text-col`` or ``--label-col``); ``str()`` is the
    problem with the app's fix.
    """

    def __init__(self, problem: str, role: str) -> None:
        super().__init__(f"{problem} Choose one of those as the {role} column.")
        self.problem = problem
        self.role = role


class ConfigError(HeadlineLabError):
    """A setting is out of range or contradicts another one."""


class RunNotFoundError(HeadlineLabError):
    """No saved run has the requested id."""


class RunRecordError(HeadlineLabError):
    """A run's files are missing, malformed or disagree (the message names which)."""


class RunImportError(HeadlineLabError):
    """An uploaded run archive is not a valid Headline Lab run."""


class RunAccessError(HeadlineLabError):
    """The run is visible to the one asking, who may not do this to it (see
    :mod:`pipeline.sessions.access`); a run they may not see is a :class:`RunNotFoundError`."""


class RunInUseError(RunAccessError):
    """Another session has the run open as its active run, so it is not deleted."""


class UploadSpaceError(HeadlineLabError):
    """The server has no room to keep an uploaded file (see :mod:`pipeline.sessions.uploads`)."""


class TrainingError(HeadlineLabError):
    """Training could not start or failed part way."""


class TrainingStopped(TrainingError):
    """Stopped before the first epoch ended: there is nothing worth saving."""


class PredictionError(HeadlineLabError):
    """The input to a prediction cannot be scored."""


class NoRowPredictionsError(HeadlineLabError):
    """The run kept no per-row test predictions (saved before they were kept): its test
    results cannot be sliced until it is trained again."""
