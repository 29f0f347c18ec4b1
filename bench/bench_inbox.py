"""The cost of one send as the recipient's unread inbox grows, up to crewmux's cap (issue #16).

An inbox is one JSON array (Claude Code's format), so every send reads and rewrites it. crewmux
bounds it instead: a send that would take the unread text past ``MAX_UNREAD_BYTES`` (1 MB) is
refused, so a send never costs more than rewriting 1 MB. Measured here: ms per send into an
inbox already holding 0 / 0.25 / 0.5 / 1 MB of unread 1 KB messages, crewmux (real Mailbox, fsync on)
beside the baseline (Claude Code's scheme: read, append, rewrite in place, never fsynced), and
what the baseline does past the cap (it takes the 10.5 MB inbox the issue found, at its cost).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from app.core.errors import InboxFull
from app.core.mailbox import MAX_UNREAD_BYTES, Mailbox
from app.core.models import InboxMessage, inbox_json
from app.core.paths import LEAD_NAME
from app.core.team import TeamStore
from bench import Row, percentile, print_table, quick, ratio_text, verdict
from bench.baseline_claude import BaselineInbox

BODY = "x" * 1000  # ~1 KB messages


def _fill(path: Path, megabytes: float) -> None:
    """Write an inbox of unread ~1 KB messages totalling ``megabytes`` of text."""
    n = int(megabytes * 1_048_576 / len(BODY))
    messages = [InboxMessage(sender="bob", text=BODY, read=False, msg_id=f"{i:032x}") for i in range(n)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(inbox_json(messages))


def _ours(home: Path, megabytes: float, sends: int) -> list[float]:
    teams = TeamStore(home)
    teams.create("b")
    teams.join("b", "alice")
    mail = Mailbox(teams, "b")
    _fill(mail.paths.inbox("alice"), megabytes)
    took = []
    for _ in range(sends):
        started = time.perf_counter()
        mail.send("alice", "hi", sender=LEAD_NAME)
        took.append((time.perf_counter() - started) * 1000)
    return took


def _baseline(home: Path, megabytes: float, sends: int) -> list[float]:
    path = home / "base" / "alice.json"
    _fill(path, megabytes)
    raw = json.loads(path.read_text())
    path.write_text(json.dumps([{"from": m["from"], "text": m["text"], "read": False} for m in raw]))
    inbox = BaselineInbox(path)
    took = []
    for _ in range(sends):
        started = time.perf_counter()
        inbox.send("bob", "hi")
        took.append((time.perf_counter() - started) * 1000)
    return took


def main() -> None:
    sends = 5 if quick() else 20
    cap_mb = MAX_UNREAD_BYTES / 1_048_576
    sizes = (0.0, cap_mb / 4, cap_mb / 2, cap_mb - 0.01)
    rows: list[Row] = []
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="crewmux-bench-inbox-") as tmp:
        for mb in sizes:
            ours = percentile(_ours(Path(tempfile.mkdtemp(dir=tmp)), mb, sends), 50)
            base = percentile(_baseline(Path(tempfile.mkdtemp(dir=tmp)), mb, sends), 50)
            worst = max(worst, ours)
            rows.append(
                Row(f"ms per send, {mb:.2f} MB unread", f"{ours:.1f} ms", f"{base:.1f} ms", ratio_text(ours, base))
            )
        over = percentile(_baseline(Path(tempfile.mkdtemp(dir=tmp)), 10.5, sends), 50)
        try:
            _ours(Path(tempfile.mkdtemp(dir=tmp)), cap_mb + 0.01, 1)
            refused = "accepted"
        except InboxFull:
            refused = "refused (InboxFull, exit 3)"
        rows.append(Row("send into 10.5 MB unread", refused, f"{over:.1f} ms, accepted"))
    rows.append(
        Row(
            f"worst send, up to the {cap_mb:g} MB cap",
            f"{worst:.1f} ms",
            "-",
            "-",
            "<= 100 ms",
            verdict(worst <= 100.0),
        )
    )
    print_table(f"Send cost as the unread inbox grows ({sends} sends each, p50)", rows)
