"""The one teammate service: what the console's spawn now gets too (color, first prompt, the lead's
name refused), a real built-in worker in a real in-process pane, shut down by request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from app.core.errors import BadInput, MemberExists, PaneNotFound
from app.core.mailbox import Mailbox
from app.core.models import Member, MemberRuntime
from app.lifecycle.teammates import Backends, SpawnRequest, Teammates
from backends.base import PaneHandle
from tests.agents.teammate_helpers import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from app.core.team import TeamStore

inprocess = pytest.importorskip("backends.inprocess")


@pytest.fixture
def hosted(teams: TeamStore, team: str) -> Iterator[Teammates]:
    """The service as a console runs it: in-process panes hosted in this process."""
    backend = inprocess.InProcessBackend()
    yield Teammates(teams, team, Backends(teams.paths(team).settings, backend, console=True))
    for handle in backend.list_panes(team):
        backend.kill(handle, grace=0.5)


def test_spawned_worker_is_recorded_prompted_and_approves_shutdown(
    hosted: Teammates, teams: TeamStore, team: str, tmp_path: Path
) -> None:
    result = hosted.spawn(SpawnRequest(name="w", kind="worker", backend="in-process", cwd=str(tmp_path), prompt="hi"))
    member = result.member
    assert member.color not in (None, *(m.color for m in teams.load(team).members if m.name != "w"))
    assert member.prompt == "hi" and member.crewmux is not None and member.crewmux.agent_kind == "worker"
    assert hosted.handle_of(member) == result.handle and hosted.backend_for(member).name == "in-process"
    assert [m.text for m in Mailbox(teams, team).inbox("w")] == ["hi"]  # the first prompt, from the lead
    wait_until(lambda: Mailbox(teams, team).inbox("w", unread_only=True) == [], 30, "the worker read its prompt")
    with pytest.raises(MemberExists):
        hosted.spawn(SpawnRequest(name="w", kind="worker", backend="in-process", cwd=str(tmp_path)))
    shut = hosted.shutdown("w", timeout=15)
    assert shut.outcome == "approved" and shut.removed


def test_refusals_are_the_services(hosted: Teammates, teams: TeamStore, team: str, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="lead's name"):
        hosted.spawn(SpawnRequest(name="team-lead", argv=["true"], backend="in-process"))
    with pytest.raises(BadInput, match="nothing to run"):
        hosted.spawn(SpawnRequest(name="x", backend="in-process"))
    with pytest.raises(BadInput, match="unknown backend"):
        hosted.spawn(SpawnRequest(name="x", argv=["true"], backend="nope", cwd=str(tmp_path)))
    with pytest.raises(BadInput, match="does not exist"):
        hosted.spawn(SpawnRequest(name="x", argv=["true"], backend="in-process", cwd=str(tmp_path / "gone")))
    with pytest.raises(BadInput, match="never kills the lead"):
        hosted.kill("team-lead")
    with pytest.raises(BadInput, match="not created by crewmux"):
        hosted.kill("alice")  # joined by hand: not crewmux's to kill
    with pytest.raises(BadInput, match="shut down by quitting"):
        hosted.shutdown("team-lead")
    assert hosted.backends.get("in-process") is hosted.backends.get("in-process")


def test_pane_handle_for_member() -> None:
    bare = Member(agent_id="a@t", name="a")
    with pytest.raises(PaneNotFound):
        PaneHandle.for_member(bare)
    rt = MemberRuntime(pid=42, pid_create_time=1.5, pane_session="sock:s")
    m = Member(agent_id="a@t", name="a", backend_type="tmux", tmux_pane_id="%3", crewmux=rt)
    assert PaneHandle.for_member(m) == PaneHandle("tmux", "%3", 42, 1.5, "sock:s")
