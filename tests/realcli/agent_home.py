"""A private home for one real agent CLI run: HOME, XDG dirs, CODEX_HOME and each CLI's config.

Nothing the CLIs write reaches the user's real home. Each ``for_*`` method points one CLI at a
fake model server (``tests/fakemodels``) through its documented settings, with onboarding, trust
dialogs, telemetry and update checks off, and returns the environment to start it with.

Facts used (from the real programs, see README "Agent CLIs"):
- codex 0.169: ``$CODEX_HOME/config.toml`` with a ``model_providers.<id>`` of ``wire_api =
  "responses"`` and ``base_url``; ``projects."<dir>".trust_level = "trusted"`` skips the trust
  question; no login is asked for a provider without ``env_key``.
- gemini 0.61: ``~/.gemini/settings.json`` (``security.auth.selectedType = "gemini-api-key"``,
  ``security.folderTrust.enabled = false``, telemetry/usage statistics off, auto update off) and
  ``GEMINI_API_KEY`` + ``GOOGLE_GEMINI_BASE_URL``.
- aider 0.86: ``OPENAI_API_BASE`` / ``OPENAI_API_KEY`` with ``--model openai/<m>``;
  ``LITELLM_LOCAL_MODEL_COST_MAP=True`` stops litellm fetching its price list;
  ``AIDER_ANALYTICS/CHECK_UPDATE/SHOW_RELEASE_NOTES/GIT=false``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.agents.clis import bin_dir

if TYPE_CHECKING:
    from tests.fakemodels.base import FakeModelServer

CODEX_MODEL = "gpt-5-codex"
AIDER_MODEL = "openai/gpt-4o"


@dataclass
class AgentHome:
    """``root`` holds home/, xdg dirs and codex-home/; ``workdir`` is where the agent runs."""

    root: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path, workdir: Path | None = None) -> AgentHome:
        home = root / "home"
        work = workdir or root / "work"
        for d in (home, work, root / "xdg-config", root / "xdg-cache", root / "xdg-data", root / "xdg-state"):
            d.mkdir(parents=True, exist_ok=True)
        base_path = os.environ.get("PATH", "/usr/bin:/bin")
        env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(root / "xdg-config"),
            "XDG_CACHE_HOME": str(root / "xdg-cache"),
            "XDG_DATA_HOME": str(root / "xdg-data"),
            "XDG_STATE_HOME": str(root / "xdg-state"),
            "PATH": f"{bin_dir()}{os.pathsep}{base_path}",
            "TERM": "xterm-256color",
            "NO_UPDATE_NOTIFIER": "1",
            "DO_NOT_TRACK": "1",
        }
        return cls(root=root, workdir=work, env=env)

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    def for_codex(self, server: FakeModelServer, *, extra_toml: str = "") -> dict[str, str]:
        codex_home = self.root / "codex-home"
        codex_home.mkdir(exist_ok=True)
        config = f"""model = "{CODEX_MODEL}"
model_provider = "fake"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake"
base_url = "{server.url}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[projects.{json.dumps(str(self.workdir))}]
trust_level = "trusted"

[analytics]
enabled = false
{extra_toml}"""
        (codex_home / "config.toml").write_text(config)
        self.env["CODEX_HOME"] = str(codex_home)
        return dict(self.env)

    def for_gemini(self, server: FakeModelServer, *, settings: dict[str, object] | None = None) -> dict[str, str]:
        doc: dict[str, object] = {
            "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
            "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
            "privacy": {"usageStatisticsEnabled": False},
            "telemetry": {"enabled": False},
            "ui": {"hideTips": True},
            **(settings or {}),
        }
        gem = self.home / ".gemini"
        gem.mkdir(exist_ok=True)
        (gem / "settings.json").write_text(json.dumps(doc, indent=2))
        self.env.update(GEMINI_API_KEY="fake-key", GOOGLE_GEMINI_BASE_URL=server.url)
        return dict(self.env)

    def for_aider(self, server: FakeModelServer) -> dict[str, str]:
        self.env.update(
            OPENAI_API_KEY="fake-key",
            OPENAI_API_BASE=f"{server.url}/v1",
            AIDER_MODEL=AIDER_MODEL,
            AIDER_ANALYTICS="false",
            AIDER_CHECK_UPDATE="false",
            AIDER_SHOW_RELEASE_NOTES="false",
            AIDER_SHOW_MODEL_WARNINGS="false",
            AIDER_GIT="false",
            AIDER_GITIGNORE="false",
            LITELLM_LOCAL_MODEL_COST_MAP="True",
        )
        return dict(self.env)
