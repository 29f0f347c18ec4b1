"""Unsigned lead messages, as Claude Code 2.1.332 sees them (README: "Frames are unsigned").

A pane teammate Claude Code's lead starts gets ``--lead-verify-key <ms>.<base64url SPKI>``, an
Ed25519 public key whose private half lives only in that lead's memory; crewmux cannot sign for
it, so a message crewmux writes as ``team-lead`` reaches that teammate's model marked
``verified="false"``. A claude teammate crewmux starts gets no verify key, and crewmux's lead
messages reach it unmarked.
"""

from __future__ import annotations

import base64
import re

import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from app.core.team import TeamStore
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_use, user_says, user_text


def _argv_in_pane(rig: ClaudeRig, pane: str) -> list[str]:
    root = psutil.Process(int(rig.tmux("display-message", "-p", "-t", pane, "#{pane_pid}").strip()))
    return next((p.cmdline() for p in [root, *root.children(recursive=True)] if "--agent-name" in p.cmdline()), [])


def test_lead_messages_crewmux_writes_are_unverified_where_claude_code_gave_a_verify_key(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    doc = rig.crewmux("claude", "--no-console", "--json", "--", "--permission-mode", "default", timeout=120)
    team, lead = str(doc["team"]), str(doc["paneId"])
    store = TeamStore(rig.home / ".claude", interop=True)
    rig.fake.reply(tool_use("Agent", {"description": "h", "prompt": "You are bob; wait", "name": "bob"}),
                   when=user_says("spawn bob"))  # fmt: skip
    rig.type_prompt(lead, "please spawn bob")
    rig.fake.wait_for(user_says("You are bob"), timeout=120)
    bob_pane = store.member(team, "bob").tmux_pane_id
    argv = rig.wait(lambda: _argv_in_pane(rig, bob_pane), 30, "bob's process")
    assert isinstance(argv, list)
    key = argv[argv.index("--lead-verify-key") + 1]
    stamp, b64 = re.fullmatch(r"(\d+)\.([\w-]+)", key).groups()  # type: ignore[union-attr]
    public = load_der_public_key(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
    assert isinstance(public, Ed25519PublicKey) and int(stamp) > 1_700_000_000_000  # ms since the epoch

    rig.crewmux("--claude", "msg", "send", "bob", "UNSIGNED-FROM-CREWMUX", "--team", team, "--as", "team-lead")
    seen = user_text(rig.fake.wait_for(user_says("UNSIGNED-FROM-CREWMUX"), timeout=90))
    tag = next(line for line in seen.splitlines() if 'teammate_id="team-lead"' in line)
    assert 'verified="false"' in tag, seen

    # a claude teammate crewmux starts has no verify key: the same unsigned message is not marked
    rig.crewmux("--claude", "spawn", "carol", "--team", team, "--agent", "claude", "--prompt", "You are carol",
                "--backend", "tmux", "--cwd", str(rig.project), "--json")  # fmt: skip
    rig.fake.wait_for(user_says("You are carol"), timeout=120)
    carol_argv = rig.wait(lambda: _argv_in_pane(rig, store.member(team, "carol").tmux_pane_id), 30, "carol")
    assert isinstance(carol_argv, list) and "--lead-verify-key" not in carol_argv
    rig.crewmux("--claude", "msg", "send", "carol", "UNSIGNED-TO-CAROL", "--team", team, "--as", "team-lead")
    seen = user_text(rig.fake.wait_for(user_says("UNSIGNED-TO-CAROL"), timeout=90))
    tag = next(line for line in seen.splitlines() if 'teammate_id="team-lead"' in line)
    assert 'verified="false"' not in tag, seen
