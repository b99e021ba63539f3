"""Who may see, use and delete a run: the one place the rules live.

A **principal** is whoever acts: a browser session of the app (named by the hash of
its key, :attr:`Principal.session`), or the administrator that the command line is.
A run's ``owner`` (``RunInfo.owner``) is ``None`` for a *shared* run and a session's
id for a *private* one. :func:`can` answers for every action on a run:

============  =====================  ====================  ==============  =============
action        the run's owner        another session       team mode       the CLI
============  =====================  ====================  ==============  =============
list, show,   yes                    shared runs only      yes             yes
predict,
continue,
export
delete        own private runs       no                    yes             yes
============  =====================  ====================  ==============  =============

A session may not see whether a private run of another session exists: the registry
answers a run it may not see exactly as a run that is not there. A new run's owner
is the strictest of its parent's owner and its data's owner
(:func:`strictest_owner`): continuing a private run never makes a shared one.

Nothing here reads the disk; :class:`pipeline.runs.registry.RunRegistry` holds a principal
and asks :func:`can` on every call that reads or changes runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Action(enum.StrEnum):
    """What a principal may want to do with a run."""

    LIST = "list"
    SHOW = "show"
    PREDICT = "predict"
    CONTINUE = "continue"
    EXPORT = "export"
    DELETE = "delete"


class OwnedRun(Protocol):
    """Anything with an ``owner``: a ``RunSummary``, a ``RunInfo``."""

    @property
    def owner(self) -> str | None: ...


@dataclass(frozen=True)
class Principal:
    """Who acts: a browser session (``session`` set) or the administrator (``None``).

    ``team_mode``: the server shares every run (``HEADLINE_LAB_TEAM_MODE``), so its
    sessions may do everything the administrator may.
    """

    session: str | None
    team_mode: bool = False

    @classmethod
    def visitor(cls, session_id: str, *, team_mode: bool = False) -> Principal:
        """A browser session of the app, named by the hash of its key."""
        if not session_id:
            raise ValueError("a visitor needs a session id")
        return cls(session=session_id, team_mode=team_mode)

    @property
    def is_administrator(self) -> bool:
        """The command line (or a test acting as it): every action on every run."""
        return self.session is None

    @property
    def new_run_owner(self) -> str | None:
        """The owner of a run this principal makes from data it owns (an upload, an
        import): itself, unless it is the administrator or in team mode (shared)."""
        return None if self.is_administrator or self.team_mode else self.session

    def describe(self) -> str:
        """A few words for messages and logs (never the session id itself)."""
        if self.is_administrator:
            return "the administrator"
        return "a session in team mode" if self.team_mode else "a session"


#: The command line: may do everything, including deleting shared runs.
ADMINISTRATOR = Principal(session=None)


def can(principal: Principal, action: Action, run: OwnedRun) -> bool:
    """Whether ``principal`` may do ``action`` on ``run`` (see the module's table)."""
    if principal.is_administrator or principal.team_mode:
        return True
    owned = run.owner is not None and run.owner == principal.session
    if action is Action.DELETE:
        return owned
    return run.owner is None or owned


def strictest_owner(*owners: str | None) -> str | None:
    """The owner of a run made from parts with ``owners`` (the parent run's, the data's):
    private if any part is private. Two different private owners cannot meet in one run
    (a session sees no other session's private runs), so the first private one wins."""
    for owner in owners:
        if owner is not None:
            return owner
    return None
