"""A planted or damaged redo journal is never replayed: quarantined, reported, nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import journal
from app.core.atomic import Problem, add_problem_sink
from app.core.tasks import TaskStore


@pytest.fixture
def problems() -> Iterator[list[Problem]]:
    seen: list[Problem] = []
    remove = add_problem_sink(seen.append)
    yield seen
    remove()


def _task(task_id: str, subject: str = "planted") -> str:
    return json.dumps({"id": task_id, "subject": subject, "status": "pending", "blocks": [], "blockedBy": []})


def _plant(tasks: TaskStore, doc: object) -> Path:
    path = tasks.paths.task_journal
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def _quarantined(tasks: TaskStore) -> list[Path]:
    return sorted(tasks.paths.tasks_dir.glob(".crewmux-journal.json.corrupt-*"))


def test_a_journal_that_writes_outside_the_tasks_folder_is_quarantined(
    tasks: TaskStore, tmp_path: Path, problems: list[Problem]
) -> None:
    tasks.create("real work")
    outside = tmp_path / "outside"
    outside.mkdir()
    tasks_dir = tasks.paths.tasks_dir
    escapes = [outside / "1.json", tasks_dir / ".." / ".." / "1.json", tasks_dir / "sub" / "1.json"]
    for target in escapes:
        _plant(tasks, {str(target): _task("1"), str(tasks_dir / "1.json"): _task("1")})
        assert tasks.claim(None, "alice").id == "1"  # the claim goes on, on the real task
        assert not target.exists()
        assert tasks.get("1").subject == "real work"
        tasks.update("1", owner=None)
    assert len(_quarantined(tasks)) == len(escapes)
    assert not tasks.paths.task_journal.exists()
    assert sum("redo journal refused" in p.message for p in problems) == len(escapes)


def test_a_journal_cannot_follow_a_symlink_out(tasks: TaskStore, tmp_path: Path) -> None:
    tasks.create("a")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tasks.paths.tasks_dir / "7.json").symlink_to(victim)
    for text in (_task("7"), None):  # neither rewritten nor deleted through the link
        _plant(tasks, {str(tasks.paths.task("7")): text, str(tasks.paths.task("1")): _task("1")})
        tasks.create("b")  # any change replays (or refuses) the journal first
        assert victim.read_text() == "precious"
        assert (tasks.paths.tasks_dir / "7.json").is_symlink()
    assert len(_quarantined(tasks)) == 2


@pytest.mark.parametrize(
    "doc",
    [
        ["not", "an", "object"],
        {"PATH": 42},
        {"PATH": "not a task"},
        {"PATH": _task("2")},  # the text of another task than the file's
        {"PATH": json.dumps({"id": "1"})},  # no subject: not a task
    ],
)
def test_a_journal_of_the_wrong_shape_is_quarantined(tasks: TaskStore, doc: object) -> None:
    tasks.create("kept as it is")
    if isinstance(doc, dict):
        doc = {str(tasks.paths.task("1")) if k == "PATH" else k: v for k, v in doc.items()}
    _plant(tasks, doc)
    tasks.create("next")
    assert tasks.get("1").subject == "kept as it is"
    assert len(_quarantined(tasks)) == 1


def test_a_journal_left_by_a_crash_is_still_replayed(tasks: TaskStore) -> None:
    tasks.create("a")
    tasks.create("b")
    first, second = tasks.paths.task("1"), tasks.paths.task("2")
    _plant(tasks, {str(first): _task("1", "replayed"), str(second): None})
    assert journal.recover(tasks.paths.task_journal)
    assert tasks.get("1").subject == "replayed" and not second.exists()
    assert _quarantined(tasks) == []
