"""crewmux benchmarks (``make bench`` = ``python -m bench``): figures beside a baseline, not tests.

Every ``bench/bench_<area>.py`` module has a ``main() -> None`` that runs its measurements and
prints them. ``CREWMUX_BENCH_QUICK=1`` asks for small sizes that finish in seconds; modules check
it through :func:`quick`. The helpers here keep the printed tables alike across areas.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass


def quick() -> bool:
    """True when ``CREWMUX_BENCH_QUICK`` asks for the small, seconds-long run."""
    return os.environ.get("CREWMUX_BENCH_QUICK", "") not in ("", "0", "false", "no")


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0–100) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Row:
    """One line of a result table: our figure, the baseline's, and the verdict against a target."""

    what: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    verdict: str = "-"


def verdict(ok: bool | None) -> str:
    """``PASS``/``MISS`` for a checked target, ``-`` when there is none."""
    if ok is None:
        return "-"
    return "PASS" if ok else "MISS"


def ratio_text(ours: float, baseline: float) -> str:
    """``ours / baseline`` as ``12.3x`` (``-`` when either is missing or zero)."""
    if not baseline or math.isnan(baseline) or math.isnan(ours):
        return "-"
    return f"{ours / baseline:.1f}x"


def print_table(title: str, rows: Sequence[Row]) -> None:
    """Print ``rows`` as an aligned plain-text table under ``title``."""
    header = Row("measure", "crewmux", "baseline", "ratio", "target", "verdict")
    cells = [header, *rows]
    fields = ("what", "ours", "baseline", "ratio", "target", "verdict")
    widths = [max(len(getattr(r, f)) for r in cells) for f in fields]
    print(f"\n{title}")
    for i, r in enumerate(cells):
        print("  " + "  ".join(getattr(r, f).ljust(w) for f, w in zip(fields, widths, strict=True)).rstrip())
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
