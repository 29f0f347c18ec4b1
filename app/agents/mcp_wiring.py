"""Give a spawned teammate crewmux's MCP server, configured for its own identity, per agent kind.

:func:`mcp_args` says what to add to a teammate's command line and environment, and which files
to write first, so that its CLI starts ``crewmux mcp --team T --as NAME`` (stdio) as the MCP server
``crewmux``. Nothing touches the user's global configuration; every setting is per process or in
a file under the team's runtime dir. Facts from the installed programs:

* Claude Code 2.1.332: ``--mcp-config <json>`` (a JSON string is accepted) adds servers for this
  process; ``--allowedTools mcp__crewmux`` lets it call them without a permission prompt. Tools
  are named ``mcp__crewmux__<tool>``.
* Codex 0.169.0: ``-c mcp_servers.crewmux.<key>=<toml>`` overrides per process. ``required =
  true`` makes it wait for the server before the first turn (otherwise the first turn — its prompt
  is on the command line — starts without the tools); ``default_tools_approval_mode = "approve"``
  (one of approve|auto|prompt) runs them without asking. The model sees a namespace
  ``mcp__crewmux`` holding the tools. Codex passes MCP servers only a few environment variables,
  so crewmux's go in ``env``.
* Gemini CLI 0.61.0 has no per-process MCP flag, and its system-settings override
  (``$GEMINI_CLI_SYSTEM_SETTINGS_PATH``) is ignored unless the file and every parent directory
  are owned by root. ``$GEMINI_CLI_HOME`` moves its home: crewmux gives each teammate a private one
  under the team's runtime dir whose ``.gemini/`` links every entry of the user's ``~/.gemini``
  (credentials, trusted folders, history) except ``settings.json``, which is a copy of the user's
  with ``mcpServers.crewmux`` added (``trust: true``: no confirmation per call).
* Aider, shell, the built-in worker: no MCP (the worker uses the core directly; aider keeps typed
  delivery).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.agents.adapters import env_prefix_len
from app.core.agent_status import status_path
from app.core.paths import sanitize, team_paths

SERVER = "crewmux"
MCP_KINDS = ("claude", "codex", "gemini")
STARTUP_TIMEOUT_S = 30
MEMBER_WAIT_S = 20
TOOL_TIMEOUT_S = 330  # wait_for_message may wait 300 s


@dataclass(frozen=True)
class McpWiring:
    """What a teammate's launch needs for its MCP server: argv after the program, env, files to write."""

    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    files: dict[Path, str] = field(default_factory=dict)
    links: dict[Path, Path] = field(default_factory=dict)
    """Symlinks to make: link path -> what it points at."""

    def write_files(self) -> None:
        from app.core.atomic import atomic_write, ensure_dir

        for path, text in self.files.items():
            atomic_write(path, text)
        for link, target in self.links.items():
            ensure_dir(link.parent)
            if link.is_symlink() or link.exists():
                if link.is_symlink() and link.readlink() == target:
                    continue
                link.unlink()
            link.symlink_to(target)


def server_command(team: str, name: str, home: Path, *, interop: bool = False) -> tuple[str, list[str], dict[str, str]]:
    """``(command, args, env)`` that start ``crewmux mcp`` as ``name`` of ``team`` on ``home``."""
    args = ["-m", "app", *(["--claude"] if interop else []), "mcp", "--team", team, "--as", name]
    args += ["--wait-member", str(MEMBER_WAIT_S)]  # the CLI may start it before spawn records the member
    env = {"CREWMUX_HOME": str(home), "CREWMUX_TEAM": team, "CREWMUX_AGENT": name}
    if interop:
        env.update(CREWMUX_CLAUDE="1", CLAUDE_CONFIG_DIR=str(home))
    return sys.executable, args, env


def _toml(value: object) -> str:
    """A TOML value for ``codex -c key=value`` (JSON strings and arrays are valid TOML)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def mcp_args(kind: str, team: str, name: str, home: Path, *, interop: bool = False) -> McpWiring:
    """The MCP wiring for a teammate of ``kind``; empty for kinds without MCP."""
    if kind not in MCP_KINDS:
        return McpWiring()
    command, args, env = server_command(team, name, home, interop=interop)
    if kind == "claude":
        config = {"mcpServers": {SERVER: {"type": "stdio", "command": command, "args": args, "env": env}}}
        return McpWiring(argv=["--mcp-config", json.dumps(config), "--allowedTools", f"mcp__{SERVER}"])
    if kind == "codex":
        keys: dict[str, object] = {
            "command": command,
            "args": args,
            "env": env,
            "required": True,
            "startup_timeout_sec": STARTUP_TIMEOUT_S,
            "tool_timeout_sec": TOOL_TIMEOUT_S,
            "default_tools_approval_mode": "approve",
        }
        argv: list[str] = []
        for key, value in keys.items():
            argv += ["-c", f"mcp_servers.{SERVER}.{key}={_toml(value)}"]
        return McpWiring(argv=argv)
    paths = team_paths(home, team, interop=interop)
    private = paths.runtime_dir / "mcp" / f"gemini-{sanitize(name, 'agent name')}"
    return _gemini(private, {"command": command, "args": args, "env": env}, gemini_hooks(status_path(paths, name)))


HOOK_NAME = "crewmux-status"
GEMINI_HOOK_EVENTS = ("BeforeAgent", "AfterAgent", "Notification")
"""gemini 0.61's settings hooks crewmux records (``hooks.<Event>: [{hooks: [{type: command, command}]}]``;
the command runs through the shell with the event's JSON on stdin; ``Notification`` carries
``notification_type: ToolPermission`` and the question's ``message`` when it asks to run a tool)."""


def gemini_hooks(status_file: Path) -> dict[str, object]:
    """gemini's ``hooks`` setting: each of :data:`GEMINI_HOOK_EVENTS` runs the fast recorder."""
    from app.core.hook_record import command

    return {
        event: [
            {
                "hooks": [
                    {
                        "type": "command",
                        "name": HOOK_NAME,  # gemini shows "Executing Hook: <name>" while it runs
                        "command": shlex.join(command(sys.executable, status_file, event, stdin=True)),
                    }
                ]
            }
        ]
        for event in GEMINI_HOOK_EVENTS
    }


def _gemini(private: Path, server: dict[str, object], hooks: dict[str, object]) -> McpWiring:
    """A private ``$GEMINI_CLI_HOME`` for the teammate: the user's ``~/.gemini`` entries linked in,
    and its ``settings.json`` copied with ``mcpServers.crewmux`` and crewmux's hooks added (the
    user's own hooks for the same events run too; ``hooksConfig.notifications`` off keeps the
    "running hook" line off its screen)."""
    real_home = Path(os.environ.get("GEMINI_CLI_HOME") or Path.home())
    real_dir = real_home / ".gemini"
    settings: dict[str, object] = {}
    try:
        found = json.loads((real_dir / "settings.json").read_text(encoding="utf-8"))
        if isinstance(found, dict):
            settings = found
    except (OSError, ValueError):
        pass
    servers = settings.get("mcpServers")
    merged = dict(servers) if isinstance(servers, dict) else {}
    merged[SERVER] = {**server, "trust": True, "timeout": TOOL_TIMEOUT_S * 1000}
    settings["mcpServers"] = merged
    found_hooks = settings.get("hooks")
    all_hooks: dict[str, object] = dict(found_hooks) if isinstance(found_hooks, dict) else {}
    for event, ours in hooks.items():
        theirs = all_hooks.get(event)
        all_hooks[event] = [*(theirs if isinstance(theirs, list) else []), *(ours if isinstance(ours, list) else [])]
    settings["hooks"] = all_hooks
    found_config = settings.get("hooksConfig")
    settings["hooksConfig"] = {
        **(found_config if isinstance(found_config, dict) else {}),
        "enabled": True,
        "notifications": False,
    }
    links: dict[Path, Path] = {}
    if real_dir.is_dir():
        for entry in real_dir.iterdir():
            if entry.name != "settings.json":
                links[private / ".gemini" / entry.name] = entry
    return McpWiring(
        env={"GEMINI_CLI_HOME": str(private)},
        files={private / ".gemini" / "settings.json": json.dumps(settings, indent=2) + "\n"},
        links=links,
    )


def wire(argv: list[str], kind: str, team: str, name: str, home: Path, *, interop: bool = False) -> list[str]:
    """``argv`` (as ``agent_argv`` builds it, maybe ``env K=V ... prog ...``) with the MCP wiring
    spliced in right after the program, its env in the ``env`` prefix; writes its files."""
    wiring = mcp_args(kind, team, name, home, interop=interop)
    if not wiring.argv and not wiring.env:
        return argv
    wiring.write_files()
    cut = env_prefix_len(argv)
    prefix, rest = list(argv[:cut]), list(argv[cut:])
    if wiring.env:
        prefix = (prefix or ["env"]) + [f"{k}={v}" for k, v in wiring.env.items()]
    return [*prefix, *rest[:1], *wiring.argv, *rest[1:]]
