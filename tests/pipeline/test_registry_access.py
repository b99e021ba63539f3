"""The registry asks pipeline.sessions.access on every call: who sees, exports and deletes a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.core.errors import RunAccessError, RunInUseError, RunNotFoundError, RunRecordError
from pipeline.runs.registry import RunRegistry
from pipeline.sessions.access import Principal
from pipeline.sessions.book import SessionBook, hash_key

pytestmark = pytest.mark.training

ALICE, BOB = "a" * 16, "b" * 16


def copy_run(trained_run, root: Path, owner: str | None, run_id: str) -> str:
    """The trained run, copied into ``root`` as ``run_id`` owned by ``owner``."""
    result, _ = trained_run
    target = root / run_id
    shutil.copytree(result.run_dir, target)
    info = json.loads((target / "run.json").read_text())
    info.update(run_id=run_id, owner=owner)
    (target / "run.json").write_text(json.dumps(info))
    return run_id


@pytest.fixture
def runs(trained_run, tmp_path) -> dict[str, str]:
    return {
        "alice's": copy_run(trained_run, tmp_path, ALICE, "a0a0a0a0a0a0a0a0"),
        "shared": copy_run(trained_run, tmp_path, None, "5050505050505050"),
    }


def as_(tmp_path: Path, session: str | None, team_mode: bool = False) -> RunRegistry:
    if session is None:
        return RunRegistry(tmp_path)
    return RunRegistry(tmp_path, principal=Principal.visitor(session, team_mode=team_mode))


def test_another_sessions_private_run_reads_as_missing(runs, tmp_path):
    bob = as_(tmp_path, BOB)
    assert [run.run_id for run in bob.list_runs()] == [runs["shared"]]
    missing = "0000000000000000"
    for call in (bob.get, bob.run_info, bob.export_zip, bob.delete, bob.load_model):
        with pytest.raises(RunNotFoundError) as hidden:
            call(runs["alice's"])
        with pytest.raises(RunNotFoundError) as absent:
            call(missing)
        # the same words, and never the server's folder
        assert str(hidden.value).replace(runs["alice's"], "ID") == str(absent.value).replace(
            missing, "ID"
        )
        assert str(tmp_path) not in str(hidden.value)
    assert {run.run_id for run in as_(tmp_path, ALICE).list_runs()} == set(runs.values())


def test_a_visitor_deletes_only_their_own_private_runs(runs, tmp_path):
    bob, alice = as_(tmp_path, BOB), as_(tmp_path, ALICE)
    with pytest.raises(RunAccessError, match="only the server's administrator"):
        bob.delete(runs["shared"])
    assert (tmp_path / runs["shared"]).is_dir()
    alice.delete(runs["alice's"])
    assert not (tmp_path / runs["alice's"]).exists()
    as_(tmp_path, BOB, team_mode=True).delete(runs["shared"])  # team mode: anyone
    assert not (tmp_path / runs["shared"]).exists()


def test_a_run_open_in_another_session_is_not_deleted_under_it(runs, tmp_path):
    book = SessionBook(tmp_path)
    alice_key, bob_key = book.issue(), book.issue()
    book.touch(hash_key(alice_key), runs["shared"])  # Alice has the shared run open
    bob = as_(tmp_path, hash_key(bob_key), team_mode=True)
    with pytest.raises(RunInUseError, match="open in 1 other session"):
        bob.delete(runs["shared"])
    assert as_(tmp_path, hash_key(alice_key)).get(runs["shared"]).complete
    as_(tmp_path, hash_key(alice_key), team_mode=True).delete(runs["shared"])  # her own tab
    assert not (tmp_path / runs["shared"]).exists()


def test_the_administrator_deletes_a_run_in_use(runs, tmp_path):
    book = SessionBook(tmp_path)
    book.touch(hash_key(book.issue()), runs["alice's"])
    RunRegistry(tmp_path).delete(runs["alice's"])
    assert not (tmp_path / runs["alice's"]).exists()


def test_a_damaged_run_whose_owner_cannot_be_read_is_the_administrators(runs, tmp_path):
    (tmp_path / runs["alice's"] / "run.json").write_text("{not json")
    assert [run.run_id for run in as_(tmp_path, ALICE).list_runs()] == [runs["shared"]]
    listed = RunRegistry(tmp_path).list_runs()
    assert [run.run_id for run in listed if run.damaged] == [runs["alice's"]]
    with pytest.raises(RunRecordError, match="damaged"):
        RunRegistry(tmp_path).get(runs["alice's"])
    # a damaged run whose owner can be read stays its owner's to see and delete
    (tmp_path / runs["shared"] / "history.json").unlink()
    alices = as_(tmp_path, ALICE)
    assert [run.run_id for run in alices.list_runs() if run.damaged] == [runs["shared"]]
    with pytest.raises(RunAccessError):
        alices.delete(runs["shared"])


def test_continuing_a_private_run_on_shared_data_makes_a_private_run(runs, tmp_path, uci_small):
    """Found: the child of a private run, continued on the bundled data, was shared."""
    from pipeline.training.train import train_run
    from tests.tiny_training import tiny_config

    child = train_run(
        uci_small,
        tiny_config(epochs=1),
        runs_dir=tmp_path,
        parent_run_id=runs["alice's"],
        allow_other_data=True,
        owner=None,  # the data is shared
    )
    assert RunRegistry(tmp_path).get(child.run_id).run.owner == ALICE
    assert child.run_id not in {run.run_id for run in as_(tmp_path, BOB).list_runs()}
    # and a session that cannot see a run cannot continue it
    from pipeline.runs.ids import resolve_run

    with pytest.raises(RunNotFoundError):
        resolve_run(uci_small, tiny_config(), as_(tmp_path, BOB), runs["alice's"])


def test_a_damaged_run_is_deleted_even_while_a_session_has_it_open(runs, tmp_path):
    book = SessionBook(tmp_path)
    book.touch(hash_key(book.issue()), runs["shared"])
    (tmp_path / runs["shared"] / "config.json").write_text("[]")
    as_(tmp_path, BOB, team_mode=True).delete(runs["shared"])  # of no use to anyone
    assert not (tmp_path / runs["shared"]).exists()
