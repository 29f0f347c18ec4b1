"""Model prices, kept in one place as data: ``prices.json`` beside this module (USD per million
tokens, each entry with its source), validated by :class:`PriceTable`.

A model name matches an entry when it is one of its ``names`` exactly, optionally with a
``-YYYYMMDD`` date suffix (``claude-sonnet-4-20250514``) or a ``models/`` prefix; nothing is
matched by a looser prefix, so an unknown or newer model (``claude-opus-4-6``) has no price and
its cost stays null rather than a guess. A cost the CLI reports itself (aider) wins over this
table (:mod:`app.lifecycle.usage`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

PRICES_FILE = Path(__file__).with_name("prices.json")
_DATED = re.compile(r"^(?P<name>.+?)-\d{8}$")


class ModelPrice(BaseModel):
    model_config = ConfigDict(
        defer_build=True, cache_strings="keys", alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )

    names: list[str] = Field(min_length=1, description="Model ids it applies to (exact, or with a date suffix).")
    in_usd: float = Field(ge=0, description="USD per million input tokens.")
    out_usd: float = Field(ge=0, description="USD per million output tokens.")
    cached_in_usd: float | None = Field(default=None, ge=0, description="USD per million cached input tokens.")
    source: str = Field(min_length=1, description="Where the price was read.")


class PriceTable(BaseModel):
    model_config = ConfigDict(
        defer_build=True, cache_strings="keys", alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )

    unit: str
    checked: str = Field(description="When the prices were last checked against their sources.")
    note: str = ""
    models: list[ModelPrice]

    def find(self, model: str | None) -> ModelPrice | None:
        """The entry for ``model``, or None when the table does not know it."""
        if not model:
            return None
        name = model.removeprefix("models/")
        dated = _DATED.match(name)
        for candidate in (name, dated.group("name") if dated else None):
            for entry in self.models:
                if candidate in entry.names:
                    return entry
        return None


@cache
def table() -> PriceTable:
    return PriceTable.model_validate_json(PRICES_FILE.read_text())


def price(model: str | None, tokens_in: int, tokens_out: int, cached_in: int = 0) -> float | None:
    """USD for ``model``'s tokens (``cached_in`` of ``tokens_in`` at the cached rate), or None
    for a model the table does not know."""
    entry = table().find(model)
    if entry is None:
        return None
    cached_rate = entry.in_usd if entry.cached_in_usd is None else entry.cached_in_usd
    usd = (tokens_in - cached_in) * entry.in_usd + cached_in * cached_rate + tokens_out * entry.out_usd
    return round(usd / 1e6, 6)
