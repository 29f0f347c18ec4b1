"""The checkpoint schema and its store: twin, quarantine, ownership of fields, DAG checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.core.errors import BadInput, CorruptFile, DependencyCycle
from app.orchestrate.checkpoint import Checkpoint, CheckpointStore, IterationRecord, TaskSpec
from app.orchestrate.dag import topo_order

if TYPE_CHECKING:
    from pathlib import Path


def test_save_then_load_sees_no_foreign_write(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "cp.json")
    store.save(Checkpoint(state={"n": 1}))
    loaded = store.load()
    assert loaded is not None
    assert (loaded.checkpoint.state, loaded.changed) == ({"n": 1}, False)
    (tmp_path / "cp.json").write_text('{"status": "done", "state": {"n": 2}}')
    again = store.load()
    assert again is not None and again.changed
    assert again.checkpoint.status == "done"


def test_corrupt_checkpoint_falls_back_to_the_twin(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    store = CheckpointStore(path)
    store.save(Checkpoint(state={"n": 7}))
    path.write_text('{"status": "sideways"}')  # valid JSON, invalid status
    loaded = store.load()
    assert loaded is not None and not loaded.changed
    assert loaded.checkpoint.state == {"n": 7}
    assert Checkpoint.model_validate_json(path.read_bytes()).state == {"n": 7}
    assert len(list(tmp_path.glob("cp.json.corrupt-*"))) == 1


def test_corrupt_checkpoint_without_twin_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    path.write_text("{ nope")
    with pytest.raises(CorruptFile):
        CheckpointStore(path).load()
    assert not path.exists()


def test_work_fields_come_from_the_iteration_and_bookkeeping_from_the_orchestrator() -> None:
    mine = Checkpoint(iteration=4, iterations=[IterationRecord(number=4, started_at=1.0, outcome="ok")])
    theirs = Checkpoint.model_validate(
        {"status": "done", "state": {"x": 1}, "iteration": 99, "iterations": [], "notes": "kept"}
    )
    merged = mine.with_work_of(theirs)
    assert (merged.status, merged.state, merged.iteration, len(merged.iterations)) == ("done", {"x": 1}, 4, 1)
    assert merged.model_dump()["notes"] == "kept"


def test_dag_checks_refuse_cycles_and_unknown_dependencies() -> None:
    ok = Checkpoint(remaining=[TaskSpec(id="b", deps=["a"]), TaskSpec(id="a")])
    assert [t.id for t in topo_order(ok)] == ["a", "b"]
    with pytest.raises(DependencyCycle):
        topo_order(Checkpoint(remaining=[TaskSpec(id="a", deps=["b"]), TaskSpec(id="b", deps=["a"])]))
    with pytest.raises(BadInput):
        topo_order(Checkpoint(remaining=[TaskSpec(id="a", deps=["ghost"])]))
