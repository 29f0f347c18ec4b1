"""Teams: create, list, show, join, leave, delete — the team file under its lock.

The team file is written only through :func:`atomic_write` under its lock. A last good copy is
kept beside it, so a team file found corrupt is quarantined *and* restored, never lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from app.core.atomic import (
    Problem,
    atomic_write,
    ensure_dir,
    maybe_sweep_temps,
    quarantine,
    read_bytes,
    report_problem,
)
from app.core.errors import (
    InvalidName,
    MemberExists,
    StorageError,
    TeamBusy,
    TeamExists,
    TeammateNotFound,
    TeamNotFound,
    UnsafeFile,
)
from app.core.interop import read_shared, shared_lock
from app.core.liveness import is_alive
from app.core.models import BackendType, Member, MemberRuntime, TeamFile
from app.core.paths import LEAD_NAME, TeamPaths, check_name, sanitize, team_paths
from app.core.root_safety import check_root

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

COLORS = ("blue", "green", "yellow", "purple", "orange", "pink", "cyan", "red")


def _backup(path: Path) -> Path:
    return path.with_name(f".{path.name}.last-good")


def claude_code_reads_inbox(team: TeamFile, member: Member, *, interop: bool) -> bool:
    """True when Claude Code itself consumes ``member``'s inbox.

    Claude Code 2.1.332 removes the messages it delivers from its inbox, so crewmux only reads
    such an inbox: it never marks it read or compacts it. That is a claude teammate crewmux
    started, and in interop mode every member Claude Code started — its lead (a team Claude Code
    made carries ``leadSessionId``) and its teammates (a ``backendType`` but no pane crewmux made;
    ``crewmux team join`` records neither).
    """
    runtime = member.crewmux
    if runtime is not None and runtime.agent_kind:
        return runtime.agent_kind == "claude"
    if member.agent_type == "claude":
        return True
    if not interop:
        return False
    if member.name == LEAD_NAME:
        return team.lead_session_id is not None
    return member.backend_type is not None and (runtime is None or not runtime.created_by_crewmux)


class TeamStore:
    """All teams under one root."""

    def __init__(self, home: Path, *, interop: bool = False) -> None:
        check_root(home)  # UnsafeRoot when another user could write it
        self.home = home
        self.interop = interop  # Claude Code's root: its mkdir locks are taken too (app.core.interop)

    def paths(self, team: str) -> TeamPaths:
        return team_paths(self.home, team, interop=self.interop)

    # -- reading -------------------------------------------------------------------------
    def _read(self, paths: TeamPaths, *, held: bool = False) -> TeamFile | None:
        if not paths.config.exists():
            return None
        team = read_shared(paths.config, TeamFile, interop=paths.interop, held=held)
        if isinstance(team, TeamFile):
            return team
        backup = _backup(paths.config)
        raw = read_bytes(backup)
        if raw is None:
            return None
        try:
            restored = TeamFile.model_validate_json(raw)
        except ValueError as exc:  # the last good copy is damaged too: keep both for a human
            raise quarantine(backup, str(exc).splitlines()[0]) from exc
        atomic_write(paths.config, raw)
        report_problem(Problem(path=paths.config, message=f"restored {paths.config} from its last good copy"))
        return restored

    def load(self, team: str) -> TeamFile:
        """The team file; :class:`TeamNotFound` when there is no such team."""
        paths = self.paths(team)
        found = self._read(paths)
        if found is None:
            raise TeamNotFound(f"no team {team!r} under {self.home} (see 'crewmux team list')")
        return found

    def exists(self, team: str) -> bool:
        return self.paths(team).config.exists()

    def list_teams(self) -> list[TeamFile]:
        root = self.home / "teams"
        if not root.is_dir():
            return []
        teams: list[TeamFile] = []
        for entry in sorted(root.iterdir()):
            if entry.is_dir() and (entry / "config.json").exists():
                found = self._read(TeamPaths(self.home, entry.name, self.interop))
                if found is not None:
                    teams.append(found)
        return teams

    def member(self, team: str, name: str) -> Member:
        """The member; :class:`TeammateNotFound` (naming the members) when absent."""
        found = self.load(team)
        m = found.member(name)
        if m is None:
            names = ", ".join(x.name for x in found.members)
            raise TeammateNotFound(f"{name!r} is not a member of team {team!r} (members: {names})")
        return m

    # -- writing -------------------------------------------------------------------------
    def _write(self, paths: TeamPaths, team: TeamFile) -> None:
        text = team.to_json()
        atomic_write(paths.config, text)
        atomic_write(_backup(paths.config), text)

    def update(self, team: str, change: Callable[[TeamFile], T]) -> T:
        """Apply ``change`` to the team file under its lock and write it back atomically."""
        paths = self.paths(team)
        with shared_lock(paths.config, interop=paths.interop):
            maybe_sweep_temps(paths.team_dir)  # temp files of writers killed mid-write
            current = self._read(paths, held=True)
            if current is None:
                raise TeamNotFound(f"no team {team!r} under {self.home}")
            result = change(current)
            self._write(paths, current)
            return result

    def create(self, name: str, description: str | None = None, *, lead_pid: int | None = None) -> TeamFile:
        """A new team whose member 0 is the lead ``team-lead``."""
        check_name(name, "team name")
        paths = self.paths(name)
        ensure_dir(paths.team_dir)
        ensure_dir(paths.inboxes)
        ensure_dir(paths.tasks_dir)
        with shared_lock(paths.config, interop=paths.interop):
            if paths.config.exists():
                raise TeamExists(f"team {name!r} already exists under {self.home}")
            lead = Member(
                agent_id=f"{LEAD_NAME}@{paths.team}",
                name=LEAD_NAME,
                agent_type=LEAD_NAME,
                tmux_pane_id="",
                cwd=str(Path.cwd()),
                crewmux=MemberRuntime(pid=lead_pid) if lead_pid else None,
            )
            team = TeamFile(
                name=name,
                description=description,
                lead_agent_id=lead.agent_id,
                members=[lead],
            )
            self._write(paths, team)
            return team

    def join(
        self,
        team: str,
        name: str,
        *,
        agent_type: str | None = None,
        color: str | None = None,
        cwd: str | None = None,
        backend_type: BackendType | None = None,
        pane_id: str = "",
        prompt: str | None = None,
        model: str | None = None,
        plan_mode_required: bool | None = None,
        runtime: MemberRuntime | None = None,
        replace_dead: bool = False,
    ) -> Member:
        """Register a member; :class:`MemberExists` if the name is taken by a live member."""
        check_name(name, "agent name")
        safe = sanitize(name, "agent name")
        if name.lower() == LEAD_NAME and name != LEAD_NAME:
            raise InvalidName(f"{name!r} is reserved for the lead")

        def change(tf: TeamFile) -> Member:
            existing = tf.member(name)
            if existing is not None:
                rt = existing.crewmux
                alive = rt is not None and is_alive(rt.pid, rt.pid_create_time)
                if not replace_dead or alive or name == LEAD_NAME:
                    raise MemberExists(f"{name!r} is already a member of team {team!r}")
                tf.members.remove(existing)
            clash = next((m.name for m in tf.members if sanitize(m.name, "agent name") == safe), None)
            if clash is not None:  # both would read and write the same inbox file
                raise MemberExists(f"{name!r} would share an inbox with member {clash!r} in team {team!r}")
            used = {m.color for m in tf.members}
            chosen = color or next((c for c in COLORS if c not in used), COLORS[len(tf.members) % len(COLORS)])
            member = Member(
                agent_id=f"{name}@{sanitize(tf.name, 'team name')}",
                name=name,
                agent_type=agent_type,
                color=chosen,
                cwd=cwd or str(Path.cwd()),
                backend_type=backend_type,
                tmux_pane_id=pane_id,
                prompt=prompt,
                model=model,
                plan_mode_required=plan_mode_required,
                is_active=True,
                crewmux=runtime,
            )
            tf.members.append(member)
            return member

        member = self.update(team, change)
        ensure_dir(self.paths(team).inboxes)
        return member

    def set_member(self, team: str, name: str, change: Callable[[Member], None]) -> Member:
        """Change one member's record under the lock."""

        def apply(tf: TeamFile) -> Member:
            m = tf.member(name)
            if m is None:
                raise TeammateNotFound(f"{name!r} is not a member of team {team!r}")
            change(m)
            return m

        return self.update(team, apply)

    def leave(self, team: str, name: str) -> Member:
        """Remove a member (never the lead). Its inbox stays on disk for the record."""
        if name == LEAD_NAME:
            raise InvalidName("the lead cannot leave its team; delete the team instead")

        def change(tf: TeamFile) -> Member:
            m = tf.member(name)
            if m is None:
                raise TeammateNotFound(f"{name!r} is not a member of team {team!r}")
            tf.members.remove(m)
            return m

        return self.update(team, change)

    def alive_members(self, team: str) -> list[Member]:
        """Members (the lead excepted) whose recorded process still runs."""
        return [
            m
            for m in self.load(team).members
            if m.name != LEAD_NAME and m.crewmux is not None and is_alive(m.crewmux.pid, m.crewmux.pid_create_time)
        ]

    def delete(self, team: str, *, force: bool = False) -> list[Member]:
        """Remove the team's files. Refused while a member process is alive unless ``force``.

        Returns the members that were still alive (only possible with ``force``).
        """
        paths = self.paths(team)
        for folder in (paths.team_dir, paths.tasks_dir):  # rmtree would not go through a link: say so
            if folder.is_symlink():
                raise UnsafeFile(folder, "a symlink", "a real folder")
        self.load(team)
        alive = self.alive_members(team)
        if alive and not force:
            who = ", ".join(f"{m.name} (pid {m.crewmux.pid if m.crewmux else '?'})" for m in alive)
            raise TeamBusy(f"team {team!r} still has live members: {who}; shut them down or use --force")
        shutil.rmtree(paths.tasks_dir, ignore_errors=True)
        shutil.rmtree(paths.team_dir, ignore_errors=True)
        if paths.team_dir.exists() or paths.tasks_dir.exists():
            raise StorageError(f"team {team!r} could not be removed entirely: look at {paths.team_dir}")
        return alive
