"""What killed writers leave behind is cleaned up, and an inbox cannot grow without bound."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.atomic import STALE_TEMP_SECONDS, SWEPT_MARKER
from app.core.errors import InboxFull
from app.core.mailbox import MAX_MESSAGE_BYTES, MAX_UNREAD_BYTES, Mailbox
from app.core.paths import LEAD_NAME
from app.core.tasks import TaskStore
from app.core.team import TeamStore


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_stale_temp_files_of_killed_writers_are_swept(teams: TeamStore, team: str, tasks: TaskStore) -> None:
    paths = teams.paths(team)
    tasks.create("one")
    long_ago = time.time() - STALE_TEMP_SECONDS - 60
    planted = {
        paths.inboxes: [".alice.json.k3j9x_2a.tmp", ".bob.json.0000abcd.tmp"],
        paths.tasks_dir: [".1.json.zz9y8x7w.tmp", "..highwatermark.a1b2c3d4.tmp"],
    }
    for folder, names in planted.items():
        marker = folder / SWEPT_MARKER
        if marker.exists():  # swept when the task was made: as if that was long ago
            os.utime(marker, (long_ago, long_ago))
        for name in names:
            (folder / name).write_text("half written")
            os.utime(folder / name, (long_ago, long_ago))
        (folder / ".alice.json.fresh123.tmp").write_text("a writer is at work")  # young: kept
        (folder / "notes.tmp").write_text("not crewmux's")  # not our name: kept
        os.utime(folder / "notes.tmp", (long_ago, long_ago))
    Mailbox(teams, team).send("alice", "hi", sender=LEAD_NAME)
    tasks.claim(None, "alice")
    for folder in planted:
        assert _temps(folder) == [".alice.json.fresh123.tmp", "notes.tmp"]
        assert (folder / SWEPT_MARKER).exists()


def test_a_compaction_killed_before_the_inbox_rewrite_archives_once(
    teams: TeamStore, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mail = Mailbox(teams, team)
    ids = [mail.send("alice", f"m{i}", sender=LEAD_NAME) for i in range(3)]
    real_write = Mailbox._write_inbox

    def killed(self: Mailbox, path: Path, messages: Any) -> None:
        raise SystemExit("killed between the archive append and the inbox rewrite")

    monkeypatch.setattr(Mailbox, "_write_inbox", killed)
    with pytest.raises(SystemExit):
        mail.mark_read("alice")
    monkeypatch.setattr(Mailbox, "_write_inbox", real_write)
    mail.mark_read("alice")  # the same read messages are compacted again
    mail.send("alice", "later", sender=LEAD_NAME)
    mail.mark_read("alice")
    archived = [m.msg_id for m, read_at in mail.history("alice") if read_at is not None]
    assert archived[:3] == ids and len(archived) == len(set(archived)) == 4


def test_an_inbox_past_its_unread_limit_refuses_sends_until_read(teams: TeamStore, team: str, cli: Any) -> None:
    mail = Mailbox(teams, team)
    big = "x" * (MAX_MESSAGE_BYTES - 1)
    sent = 0
    with pytest.raises(InboxFull, match=r"alice's inbox holds .* the limit is 1 MB"):
        while True:
            mail.send("alice", big, sender="bob")
            sent += 1
    assert sent * len(big) <= MAX_UNREAD_BYTES
    res = cli("msg", "send", "alice", big[:1000], "--team", team, "--as", "bob")
    assert res.code == 3 and "the limit is 1 MB" in res.err
    mail.mark_read("alice")
    assert mail.send("alice", "room again", sender="bob")
    assert mail.send("bob", "others are not affected", sender="alice")
