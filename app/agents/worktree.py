"""Git worktrees for teammates: one worktree and branch each, under a configurable folder.

The folder is ``$CREWMUX_WORKTREES`` or ``<repo>/.crewmux-worktrees``; the branch is
``crewmux/<team>/<name>``. Shutdown keeps a worktree that holds uncommitted work and says so;
:func:`list_worktrees` and :func:`remove_worktree` clean up what is left.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import BadInput, CrewmuxError
from app.core.paths import sanitize

BRANCH_PREFIX = "crewmux/"


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CrewmuxError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
    return proc.stdout


def repo_root(cwd: Path) -> Path:
    """The top of the git repository holding ``cwd``; BadInput when it is not in one."""
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    except CrewmuxError as exc:
        raise BadInput(f"--worktree needs a git repository: {cwd} is not in one") from exc


def worktrees_dir(root: Path) -> Path:
    env = os.environ.get("CREWMUX_WORKTREES")
    return Path(env).expanduser() if env else root / ".crewmux-worktrees"


def create_worktree(cwd: Path, team: str, name: str) -> Path:
    """A new worktree on branch ``crewmux/<team>/<name>`` (reused when it already exists)."""
    root = repo_root(cwd)
    target = worktrees_dir(root) / f"{sanitize(team)}-{sanitize(name)}"
    if (target / ".git").exists():
        return target
    branch = f"{BRANCH_PREFIX}{sanitize(team)}/{sanitize(name)}"
    exists = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", branch], cwd=root, capture_output=True, check=False
    )
    if exists.returncode == 0:
        _git(root, "worktree", "add", str(target), branch)
    else:
        _git(root, "worktree", "add", "-b", branch, str(target))
    return target


def is_dirty(path: Path) -> bool:
    """True when the worktree has uncommitted or untracked changes."""
    return bool(_git(path, "status", "--porcelain").strip())


def describe_leftover(path: str) -> str:
    """A line for shutdown: kept with uncommitted work, or clean (and may be removed)."""
    p = Path(path)
    if not p.exists():
        return f"worktree {path} is already gone"
    try:
        dirty = is_dirty(p)
    except CrewmuxError:
        return f"worktree {path} kept (git status failed)"
    if dirty:
        return f"worktree {path} KEPT: it has uncommitted work (crewmux worktree remove {path} --force drops it)"
    return f"worktree {path} is clean; remove it with: crewmux worktree remove {path}"


@dataclass(frozen=True)
class WorktreeInfo:
    path: str
    branch: str
    dirty: bool


def list_worktrees(cwd: Path) -> list[WorktreeInfo]:
    """The crewmux worktrees of the repository holding ``cwd``."""
    root = repo_root(cwd)
    out: list[WorktreeInfo] = []
    path = branch = ""
    for line in [*_git(root, "worktree", "list", "--porcelain").splitlines(), ""]:
        if line.startswith("worktree "):
            path = line[len("worktree ") :]
        elif line.startswith("branch "):
            branch = line[len("branch ") :].removeprefix("refs/heads/")
        elif not line and path:
            if branch.startswith(BRANCH_PREFIX):
                out.append(WorktreeInfo(path, branch, Path(path).exists() and is_dirty(Path(path))))
            path = branch = ""
    return out


def remove_worktree(cwd: Path, path: str, *, force: bool = False) -> None:
    """Remove a crewmux worktree; refused (BadInput) when it has uncommitted work unless ``force``."""
    root = repo_root(cwd)
    known = {w.path: w for w in list_worktrees(root)}
    target = str(Path(path).resolve())
    info = known.get(target) or known.get(path)
    if info is None:
        raise BadInput(f"{path} is not a crewmux worktree of {root}")
    if info.dirty and not force:
        raise BadInput(f"worktree {path} has uncommitted work; pass --force to drop it")
    _git(root, "worktree", "remove", *(["--force"] if force else []), info.path)
