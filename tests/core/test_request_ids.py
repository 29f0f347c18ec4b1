"""Request ids in the shapes Claude Code 2.1.332 accepts (its bundle's regular expressions)."""

from __future__ import annotations

import re

from app.core.protocol import request_id

# Copied from the claude 2.1.332 binary (strings): any other shape reaches the model as "[invalid id]".
SHUTDOWN = re.compile(r"^shutdown-[0-9]{1,20}@[\w.-]{1,64}$")
PLAN_OR_SHUTDOWN = re.compile(r"^(?:shutdown|plan_approval)-[0-9]{1,20}@[^@\n]{1,300}(?:@[^@\n]{1,300})?$")
PERM = re.compile(r"^perm-[0-9]{1,20}-[0-9a-z]{1,12}$")


def test_ids_match_claude_codes_patterns_and_never_repeat() -> None:
    shutdowns = [request_id("shutdown", "worker-1") for _ in range(500)]
    assert all(SHUTDOWN.match(r) and PLAN_OR_SHUTDOWN.match(r) for r in shutdowns)
    assert len(set(shutdowns)) == 500
    plan = request_id("plan_approval", "alice", "my-team")
    assert PLAN_OR_SHUTDOWN.match(plan) and plan.endswith("@alice@my-team")
    perms = {request_id("perm") for _ in range(200)}
    assert all(PERM.match(p) for p in perms) and len(perms) == 200
