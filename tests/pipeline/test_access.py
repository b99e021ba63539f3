"""The access rule, table-driven: every action x every principal x every kind of run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline.sessions.access import ADMINISTRATOR, Action, Principal, can, strictest_owner

OWNER = "a" * 16
OTHER = "b" * 16


@dataclass(frozen=True)
class Run:
    owner: str | None


#: The runs of the table, by kind: owner is who the run's owner field names.
RUNS = {
    "private": Run(owner=OWNER),
    "shared": Run(owner=None),
    "imported": Run(owner=OWNER),  # an import belongs to the session that imported it
    # continuing a private run makes a run owned by the parent's owner (strictest_owner)
    "continued-from-private": Run(owner=strictest_owner(OWNER, None)),
}
PRINCIPALS = {
    "owner": Principal.visitor(OWNER),
    "other session": Principal.visitor(OTHER),
    "team mode": Principal.visitor(OTHER, team_mode=True),
    "CLI": ADMINISTRATOR,
}
USE = [Action.LIST, Action.SHOW, Action.PREDICT, Action.CONTINUE, Action.EXPORT]

# (principal, run kind) -> the actions allowed; every other action is refused.
ALLOWED = {
    ("owner", "private"): {*USE, Action.DELETE},
    ("owner", "shared"): set(USE),
    ("owner", "imported"): {*USE, Action.DELETE},
    ("owner", "continued-from-private"): {*USE, Action.DELETE},
    ("other session", "private"): set(),
    ("other session", "shared"): set(USE),
    ("other session", "imported"): set(),
    ("other session", "continued-from-private"): set(),
    **{("team mode", kind): set(Action) for kind in RUNS},
    **{("CLI", kind): set(Action) for kind in RUNS},
}


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("kind", RUNS)
def test_can(action: Action, principal: str, kind: str) -> None:
    expected = action in ALLOWED[(principal, kind)]
    assert can(PRINCIPALS[principal], action, RUNS[kind]) is expected


def test_a_run_made_from_private_parts_is_private() -> None:
    assert strictest_owner(None, None) is None
    assert strictest_owner(OWNER, None) == OWNER  # a private parent on shared data
    assert strictest_owner(None, OWNER) == OWNER  # a shared parent on an upload


def test_who_owns_what_a_principal_makes() -> None:
    assert Principal.visitor(OWNER).new_run_owner == OWNER
    assert Principal.visitor(OWNER, team_mode=True).new_run_owner is None
    assert ADMINISTRATOR.new_run_owner is None
    with pytest.raises(ValueError):
        Principal.visitor("")
