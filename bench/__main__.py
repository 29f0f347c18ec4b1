"""Run every ``bench/bench_*.py`` module's ``main()`` in name order (``make bench``).

Each module gets a header; one that fails is reported and the rest still run, and the exit
status is then non-zero. Everything printed is also saved to ``bench/results/latest.txt``.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import TextIO

from bench import quick

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.txt"


class _Tee(io.TextIOBase):
    """Write to the console and keep a copy."""

    def __init__(self, console: TextIO) -> None:
        self.console = console
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.console.write(text)
        self.console.flush()
        self.copy.write(text)
        return len(text)

    def flush(self) -> None:
        self.console.flush()


def bench_modules() -> list[str]:
    """Names of the ``bench.bench_*`` modules, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def run() -> int:
    """Run all modules; returns the number that failed."""
    failed: list[str] = []
    mode = "quick" if quick() else "full"
    print(
        f"crewmux bench ({mode} mode) - {time.strftime('%Y-%m-%d %H:%M:%S')} - "
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
    )
    for name in bench_modules():
        print(f"\n=== {name} " + "=" * max(3, 60 - len(name)))
        started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            module.main()
        except Exception:
            failed.append(name)
            print(f"!! {name} failed:")
            print(traceback.format_exc().rstrip())
        print(f"--- {name}: {time.monotonic() - started:.1f} s")
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
    return len(failed)


def main() -> None:
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        failures = run()
    finally:
        sys.stdout = tee.console
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(tee.copy.getvalue())
    print(f"(saved to {RESULTS})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
