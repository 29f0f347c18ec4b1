"""Parsing our files keeps no copy of their values: pydantic-core's string cache holds keys only.

``validate_json`` keeps each string of 64 characters or less it makes in a process-wide cache of
16,384 entries unless the model asks for ``cache_strings="keys"`` (or none). Message ids and
timestamps never repeat, so a console reading the lead's mailbox on every change filled that
cache with them (~1.2 MiB grown over its first messages, measured in the real console).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

import app
import backends

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> list[str]:
    names: list[str] = []
    for package in (app, backends):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return names


def _file_parsers() -> dict[str, object]:
    """Every pydantic model class and module-level TypeAdapter crewmux defines, by name."""
    found: dict[str, object] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if "[" in attr:
                continue  # a generic pydantic parametrized (RootModel[...]): its subclass is checked
            model = isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name
            if model or isinstance(value, TypeAdapter):
                found[f"{name}.{attr}"] = value
    return found


def test_every_model_and_adapter_caches_keys_only() -> None:
    parsers = _file_parsers()
    assert len(parsers) > 25  # the walk found them (InboxMessage, TeamFile, ArchivedMessage, LedgerEvent, ...)
    caching: list[str] = []
    for name, parser in parsers.items():
        if isinstance(parser, TypeAdapter):
            config = getattr(parser, "_config", None) or {}  # the config it was made with
        else:
            assert isinstance(parser, type) and issubclass(parser, BaseModel)
            config = parser.model_config
        if config.get("cache_strings", True) not in ("keys", "none", False):
            caching.append(name)
    assert caching == []


_PARSE_MANY = textwrap.dedent(
    """
    import gc, sys, tracemalloc
    from app.core.ledger import LedgerEvent
    from app.core.mailbox import ArchivedMessage, new_msg_id
    from app.core.models import InboxAdapter, InboxMessage, TeamFile, inbox_json, now_iso

    def one(n):
        m = InboxMessage(sender=f"m{n % 8}", text=f"message {n}: " + "x" * 80, read=False, msg_id=new_msg_id())
        InboxAdapter.validate_json(inbox_json([m]))
        archived = ArchivedMessage(message=m, read_at=now_iso())
        ArchivedMessage.model_validate_json(archived.model_dump_json(by_alias=True))
        event = LedgerEvent(id=new_msg_id(), to="m1", state="delivered", at=n)
        LedgerEvent.model_validate_json(event.model_dump_json())
        TeamFile.model_validate_json(f'{{"name": "t{n}", "createdAt": {n}, "leadAgentId": "lead@t{n}", "members": []}}')

    one(0)  # the validators are built
    tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(1, 20001):
        one(n)
    gc.collect()
    print(tracemalloc.get_traced_memory()[0] - before)
    """
)


def test_parsing_twenty_thousand_messages_keeps_nothing_of_them() -> None:
    # A fresh interpreter: the cache is process-wide, and other tests in this one may have filled it.
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_MANY], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    kept = int(done.stdout.split()[-1])
    assert kept < 64 * 1024, f"{kept} bytes kept after parsing 20,000 messages"  # was ~1.5 MiB
