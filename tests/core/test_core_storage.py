"""The storage plumbing: kernel locks, the edge journal, write failures, archive trimming."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import journal
from app.core import mailbox as mailbox_mod
from app.core.atomic import Problem, add_problem_sink, atomic_write, ensure_dir, read_bytes
from app.core.errors import CorruptFile, LockTimeout, StorageError
from app.core.locks import file_lock, lock_path_for
from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from pathlib import Path
from app.core.locks import file_lock
with file_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(300)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A child process that holds the lock on ``tmp_path / 'guarded.json'``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "guarded.json")], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_lock_held_by_live_process_times_out(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(LockTimeout) as info, file_lock(tmp_path / "guarded.json", timeout=0.2):
        pass
    assert info.value.path == lock_path_for(tmp_path / "guarded.json")
    assert info.value.exit_code == 4


def test_lock_of_a_sigkilled_holder_is_free_at_once(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with file_lock(tmp_path / "guarded.json", timeout=10.0):
        waited = time.monotonic() - started
    assert waited < 10.0
    assert lock_path_for(tmp_path / "x.json").name == ".x.json.flock"  # never Claude Code's x.json.lock


class Killed(BaseException):
    """Stands in for SIGKILL in the middle of a multi-file write."""


def test_journal_replays_an_edge_write_cut_short(tasks: TaskStore, monkeypatch: pytest.MonkeyPatch) -> None:
    a = tasks.create("a").id
    b = tasks.create("b").id
    real = atomic_write
    calls = []

    def die_after_journal_and_one_file(path: Path, data: bytes | str, **kw: bool | None) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise Killed
        real(path, data, **kw)

    monkeypatch.setattr(journal, "atomic_write", die_after_journal_and_one_file)
    with pytest.raises(Killed):
        tasks.update(b, add_blocked_by=[a])
    monkeypatch.undo()
    assert calls[0] == tasks.paths.task_journal
    assert tasks.paths.task_journal.exists()
    one_sided = {t.id: (t.blocks, t.blocked_by) for t in tasks.list_tasks()}
    assert (one_sided[a] == ([b], [])) != (one_sided[b] == ([], [a])), "the cut should leave exactly one side"
    tasks.create("c")  # the next locked operation replays the journal
    assert not tasks.paths.task_journal.exists()
    assert tasks.get(a).blocks == [b] and tasks.get(b).blocked_by == [a]


def test_damaged_journal_is_quarantined_not_applied(tasks: TaskStore) -> None:
    seen: list[Problem] = []
    remove = add_problem_sink(seen.append)
    try:
        tasks.paths.task_journal.write_text("[1, 2")
        tasks.create("a")
    finally:
        remove()
    assert not tasks.paths.task_journal.exists()
    assert [p.path for p in seen] == [tasks.paths.task_journal]
    assert list(tasks.paths.tasks_dir.glob(".crewmux-journal.json.corrupt-*"))


def test_failed_write_raises_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d" / "x.json"
    target.mkdir(parents=True)  # a directory where the file should go: os.replace must fail
    with pytest.raises(StorageError, match="cannot write"):
        atomic_write(target, "{}")
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NotADirectoryError):
        ensure_dir(blocker)
    with pytest.raises(StorageError):
        atomic_write(blocker / "y.json", "{}")


def test_send_raises_when_nothing_could_be_written(teams: TeamStore, team: str) -> None:
    teams.paths(team).inbox("bob").mkdir(parents=True)
    with pytest.raises(StorageError):
        Mailbox(teams, team).send("bob", "lost?", sender="alice")


def test_backup_of_team_file_damaged_too_is_a_clear_error(teams: TeamStore, team: str) -> None:
    config = teams.paths(team).config
    config.write_text("{")
    config.with_name(".config.json.last-good").write_text("{")
    with pytest.raises(CorruptFile, match="last-good"):
        teams.load(team)
    assert len(list(config.parent.glob("*.corrupt-*"))) == 2


def test_archive_is_trimmed_to_its_newer_half(teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mailbox_mod, "ARCHIVE_MAX_BYTES", 4000)
    box = Mailbox(teams, team)
    ids = []
    for i in range(40):
        ids.append(box.send("bob", f"message {i}", sender="alice"))
        box.mark_read("bob")
    archive = teams.paths(team).archive("bob")
    assert archive.stat().st_size <= 4000 + 400
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    kept = [entry["message"]["msg_id"] for entry in lines]
    assert kept == ids[-len(kept) :] and 0 < len(kept) < 40
    assert box.status(ids[-1]).state == "read"


def test_trimming_the_archive_reads_its_newer_half_only(
    teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole archive (up to 4 MiB) was read into memory, then copied twice, to keep half of it."""
    monkeypatch.setattr(mailbox_mod, "ARCHIVE_MAX_BYTES", 4000)
    read: list[tuple[int, int, int]] = []  # (start, bytes read, file size)
    original = read_bytes

    def recording(path: Path, *, start: int = 0) -> bytes | None:
        found = original(path, start=start)
        if path.name.endswith(".archive.jsonl"):
            read.append((start, len(found or b""), path.stat().st_size))
        return found

    monkeypatch.setattr(mailbox_mod, "read_bytes", recording)
    box = Mailbox(teams, team)
    for i in range(40):
        box.send("bob", f"message {i}", sender="alice")
        box.mark_read("bob")
    assert read  # it was trimmed
    for start, length, size in read:
        assert start > 0 and length <= size - start
    lines = [json.loads(line) for line in teams.paths(team).archive("bob").read_text().splitlines()]
    assert [entry["message"]["text"] for entry in lines][-1] == "message 39"
