"""The agent CLIs crewmux drives: pinned versions (``clis.json``), where they are, which version runs.

``clis.json`` is the one place that names each CLI's package, pinned version and verified range.
``python -m app.agents.install_clis`` installs the pinned versions into the project's
git-ignored folder ``.agent-clis/`` (``$CREWMUX_AGENT_CLIS`` overrides it): npm packages under
``npm/``, aider in its own venv ``aider-venv/``, and one link per binary in ``bin/``.
:func:`find_cli` looks there first, then on ``$PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import BadInput

PINNED_FILE = Path(__file__).with_name("clis.json")
PROJECT = Path(__file__).resolve().parents[2]
FOLDER_ENV = "CREWMUX_AGENT_CLIS"
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


class VersionRange(BaseModel):
    """Versions crewmux was verified with: ``min`` <= version < ``below``."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")
    min: str
    below: str


class PinnedCli(BaseModel):
    """One agent CLI: what to install and how to recognise it."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")
    kind: str
    registry: Literal["npm", "pypi"]
    package: str
    version: str = Field(description="The version the installer puts in .agent-clis/.")
    verified: VersionRange
    binary: str
    version_args: list[str] = Field(default_factory=lambda: ["--version"])

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}" if self.registry == "npm" else f"{self.package}=={self.version}"


class PinnedClis(BaseModel):
    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")
    folder_note: str = ""
    clis: list[PinnedCli]


@cache
def pinned() -> tuple[PinnedCli, ...]:
    """Every pinned CLI, in file order."""
    return tuple(PinnedClis.model_validate_json(PINNED_FILE.read_bytes()).clis)


def pinned_for(kind: str) -> PinnedCli:
    for cli in pinned():
        if cli.kind == kind:
            return cli
    raise BadInput(f"no pinned agent CLI of kind {kind!r}; known: {', '.join(c.kind for c in pinned())}")


def clis_folder() -> Path:
    """Where the installer puts the pinned CLIs (``$CREWMUX_AGENT_CLIS``, else ``<project>/.agent-clis``)."""
    override = os.environ.get(FOLDER_ENV)
    return Path(override) if override else PROJECT / ".agent-clis"


def bin_dir() -> Path:
    """The folder holding one link per installed binary (put it on ``$PATH`` to use them)."""
    return clis_folder() / "bin"


def installed_binary(cli: PinnedCli) -> Path:
    """Where the installer puts ``cli``'s executable (it may not exist yet)."""
    folder = clis_folder()
    if cli.registry == "npm":
        return folder / "npm" / "node_modules" / ".bin" / cli.binary
    return folder / f"{cli.kind}-venv" / "bin" / cli.binary


def installed_version(cli: PinnedCli) -> str | None:
    """The version installed in the project folder, read from package metadata (no process started)."""
    folder = clis_folder()
    if cli.registry == "npm":
        meta = folder / "npm" / "node_modules" / cli.package / "package.json"
        match = re.search(r'"version"\s*:\s*"([^"]+)"', meta.read_text()) if meta.is_file() else None
        return match.group(1) if match else None
    name = cli.package.replace("-", "_")
    for dist in (folder / f"{cli.kind}-venv").glob(f"lib/python*/site-packages/{name}-*.dist-info"):
        if installed_binary(cli).exists():
            return dist.name.removeprefix(f"{name}-").removesuffix(".dist-info")
    return None


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def in_range(version: str, verified: VersionRange) -> bool:
    v, lo, hi = parse_version(version), parse_version(verified.min), parse_version(verified.below)
    return v is not None and lo is not None and hi is not None and lo <= v < hi


@dataclass(frozen=True)
class FoundCli:
    kind: str
    path: Path | None
    where: Literal["project", "path", "missing"]
    version: str | None
    verified: bool
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": str(self.path) if self.path else None,
            "where": self.where,
            "version": self.version,
            "verified": self.verified,
            "error": self.error,
        }


def locate(cli: PinnedCli) -> tuple[Path | None, Literal["project", "path", "missing"]]:
    """The executable for ``cli``: the project folder's first, then ``$PATH``."""
    own = installed_binary(cli)
    if own.exists() and os.access(own, os.X_OK):
        return own, "project"
    found = shutil.which(cli.binary)
    return (Path(found), "path") if found else (None, "missing")


def run_version(path: Path, args: list[str], *, timeout: float = 30.0) -> str:
    """What ``path --version`` prints (first line with a version number). BadInput if it fails."""
    try:
        proc = subprocess.run(
            [str(path), *args], capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BadInput(f"{path} {' '.join(args)} failed: {exc}") from exc
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        if parse_version(line):
            return line.strip()
    raise BadInput(f"{path} {' '.join(args)} printed no version (exit {proc.returncode})")


def find_cli(kind: str) -> FoundCli:
    """Where ``kind``'s CLI is, which version it reports, and whether that version was verified."""
    cli = pinned_for(kind)
    path, where = locate(cli)
    if path is None:
        return FoundCli(kind, None, "missing", None, verified=False)
    try:
        line = run_version(path, cli.version_args)
    except BadInput as exc:
        return FoundCli(kind, path, where, None, verified=False, error=str(exc))
    v = parse_version(line)
    version = ".".join(map(str, v)) if v else line
    return FoundCli(kind, path, where, version, verified=in_range(version, cli.verified))
