"""The price table (app/lifecycle/prices.json) as data: every entry has a source; a model is
priced only by an exact name (or that name with a date suffix), so an unknown model's cost is
null with a note saying so; a CLI-reported cost (aider's) wins over the table."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from app.lifecycle.prices import PRICES_FILE, PriceTable, price, table
from app.lifecycle.usage import MemberUsage, aider_usage, codex_usage, gemini_usage

if TYPE_CHECKING:
    from pathlib import Path


def test_the_table_validates_and_names_a_source_for_every_price() -> None:
    doc = PriceTable.model_validate_json(PRICES_FILE.read_text())
    assert doc.models and all(m.source.strip() for m in doc.models)
    names = [n for m in doc.models for n in m.names]
    assert len(names) == len(set(names)), "a model priced twice"


@pytest.mark.parametrize(
    ("model", "want"),
    [
        ("gpt-5-codex", 1.25 + 10.0),
        ("claude-sonnet-4-20250514", 3.0 + 15.0),
        ("models/gemini-2.5-flash", 0.3 + 2.5),
        ("gemini-2.5-flash-lite", 0.1 + 0.4),
        ("claude-opus-4-5-20251101", 5.0 + 25.0),
        ("claude-opus-4-6", None),  # a newer model is not priced like an older one by prefix
        ("gpt-5-codex-max", None),
        ("my-local-model", None),
        (None, None),
    ],
)
def test_a_model_is_priced_only_by_its_exact_name(model: str | None, want: float | None) -> None:
    got = price(model, 1_000_000, 1_000_000)
    assert got == (pytest.approx(want) if want is not None else None)


def test_cached_input_is_charged_at_the_cached_rate() -> None:
    assert price("gpt-5", 1_000_000, 0, cached_in=800_000) == pytest.approx(0.2 * 1.25 + 0.8 * 0.125)
    assert table().find("gemini-3.1-pro-preview") is not None


def _codex_file(path: Path, model: str) -> Path:
    lines = [
        {"type": "session_meta", "payload": {"id": "t1", "cwd": "/w"}},
        {"type": "turn_context", "payload": {"cwd": "/w", "model": model}},
        {"type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {
            "input_tokens": 2000, "cached_input_tokens": 1000, "output_tokens": 100}}}},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_codex_cost_from_the_table_or_null_with_a_note(tmp_path: Path) -> None:
    out = MemberUsage(name="c", state="running")
    codex_usage(_codex_file(tmp_path / "a.jsonl", "gpt-5-codex"), out)
    assert out.cost_usd == pytest.approx((1000 * 1.25 + 1000 * 0.125 + 100 * 10.0) / 1e6)
    assert out.cost_note is None
    out = MemberUsage(name="c", state="running")
    codex_usage(_codex_file(tmp_path / "b.jsonl", "some-new-model"), out)
    assert out.tokens_in == 2000 and out.cost_usd is None
    assert out.cost_note == "no price for model some-new-model in app/lifecycle/prices.json"


def test_gemini_cost_sums_each_reply_at_its_own_model(tmp_path: Path) -> None:
    chats = tmp_path / ".gemini" / "tmp" / "proj" / "chats"
    chats.mkdir(parents=True)
    lines = [
        {"sessionId": "s1"},
        {"id": "1", "type": "gemini", "model": "gemini-2.5-flash", "tokens": {"input": 1000, "output": 10}},
        {
            "id": "2",
            "type": "gemini",
            "model": "gemini-2.5-pro",
            "tokens": {"input": 1000, "output": 10, "cached": 500},
        },
    ]
    (chats / "session-x.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    out = MemberUsage(name="g", state="running")
    gemini_usage(tmp_path / ".gemini", "s1", out)
    flash = (1000 * 0.3 + 10 * 2.5) / 1e6
    pro = (500 * 1.25 + 500 * 0.125 + 10 * 10.0) / 1e6
    assert (out.tokens_in, out.tokens_out, out.turns) == (2000, 20, 2)
    assert out.cost_usd == pytest.approx(flash + pro, abs=1e-6)


def test_aider_reported_cost_wins(tmp_path: Path) -> None:
    history = tmp_path / "h.md"
    history.write_text("> Tokens: 12 sent, 8.5k received. Cost: $0.09 message, $0.09 session.  \n")
    out = MemberUsage(name="a", state="running")
    aider_usage(history, out)
    assert (out.tokens_in, out.tokens_out, out.cost_usd) == (12, 8500, 0.09)  # aider's own, not the table's
    history.write_text("> Tokens: 12 sent, 7 received.\n")
    out = MemberUsage(name="a", state="running")
    aider_usage(history, out)
    assert out.cost_usd is None and out.cost_note is not None


def test_usage_says_why_a_cost_is_unknown(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main
    from app.core.models import Member, MemberRuntime
    from app.core.team import TeamStore

    chats = tmp_path / "gem" / ".gemini" / "tmp" / "w" / "chats"
    chats.mkdir(parents=True)
    lines = [{"sessionId": "s1"}, {"id": "1", "type": "gemini", "model": "gemini-9-ultra", "tokens": {"input": 5}}]
    (chats / "session-1.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    teams = TeamStore(home)
    teams.create("t")
    teams.join("t", "g")

    def gemini(m: Member) -> None:
        m.crewmux = MemberRuntime(agent_kind="gemini", session_id="s1", env={"GEMINI_CLI_HOME": str(tmp_path / "gem")})

    teams.set_member("t", "g", gemini)
    assert main(["usage", "--team", "t", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["tokensIn"] == 5 and row["costUsd"] is None
    assert row["costNote"] == "no price for model gemini-9-ultra in app/lifecycle/prices.json"
    assert main(["usage", "--team", "t"]) == 0
    assert "g: cost unknown, no price for model gemini-9-ultra" in capsys.readouterr().out
