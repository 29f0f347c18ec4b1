"""Install the pinned agent CLIs that are missing: ``python -m app.agents.install_clis``.

npm packages go to ``<folder>/npm`` (one ``npm install --prefix``), each PyPI one into its own
venv ``<folder>/<kind>-venv``; ``<folder>/bin`` gets one link per binary. Already-installed
pinned versions are recognised from their package metadata, so a second run starts no installer
and takes milliseconds. Progress goes to stderr. The outcome is written to ``<folder>/status.json``
(what is installed, what failed and why) for the test fixtures to read.

Exit status: 0 when every pinned CLI is there; 1 when some could not be installed. Without
``--strict`` (and without ``$CI``), a machine that lacks npm or network only gets a warning
and exit 0, so ``make test`` still runs the tests that need no agent CLI (those skip, saying why).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from app.agents.clis import bin_dir, clis_folder, installed_binary, installed_version, pinned
from app.core.atomic import atomic_write, ensure_dir
from app.core.locks import file_lock

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from app.agents.clis import PinnedCli

STATUS_FILE = "status.json"
INSTALL_TIMEOUT = 900.0


def _say(text: str) -> None:
    print(f"agent-clis: {text}", file=sys.stderr, flush=True)


def _run(argv: list[str], label: str) -> str | None:
    """Run one installer command; None when it worked, else the tail of its output."""
    start = time.monotonic()
    _say(f"{label}: {' '.join(argv)}")
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{argv[0]}: {exc}"
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        return f"exit {proc.returncode}: {tail}"
    _say(f"{label}: done in {time.monotonic() - start:.0f}s")
    return None


def _install_npm(clis: list[PinnedCli], folder: Path) -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found on PATH (install Node.js >= 20 with npm)"
    prefix = ensure_dir(folder / "npm")
    argv = [npm, "install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error", "--prefix", str(prefix)]
    return _run(argv + [c.spec for c in clis], "npm " + " ".join(c.kind for c in clis))


def _install_pypi(cli: PinnedCli, folder: Path) -> str | None:
    venv = folder / f"{cli.kind}-venv"
    python = shutil.which("python3") or sys.executable
    if not (venv / "bin" / "python").exists():
        err = _run([python, "-m", "venv", str(venv)], f"venv for {cli.kind}")
        if err:
            return err
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    return _run([*pip, cli.spec], f"pip {cli.kind}")


def _link_bins(folder: Path) -> None:
    links = ensure_dir(folder / "bin")
    for cli in pinned():
        target, link = installed_binary(cli), links / cli.binary
        if target.exists() and not (link.is_symlink() and link.resolve() == target.resolve()):
            link.unlink(missing_ok=True)
            link.symlink_to(target)


def missing(kinds: Sequence[str] | None = None) -> list[PinnedCli]:
    """The pinned CLIs (of ``kinds``, default all) whose pinned version is not in the project folder."""
    return [c for c in pinned() if (not kinds or c.kind in kinds) and installed_version(c) != c.version]


def install(kinds: Sequence[str] | None = None) -> dict[str, str]:
    """Install what is missing; returns {kind: error} for what could not be installed."""
    folder = ensure_dir(clis_folder())
    with file_lock(folder / "install", timeout=INSTALL_TIMEOUT):
        todo = missing(kinds)
        errors: dict[str, str] = {}
        if todo:
            _say(f"installing {', '.join(c.spec for c in todo)} into {folder}")
            npm = [c for c in todo if c.registry == "npm"]
            with ThreadPoolExecutor(max_workers=4) as pool:
                jobs = {"npm": pool.submit(_install_npm, npm, folder)} if npm else {}
                jobs |= {c.kind: pool.submit(_install_pypi, c, folder) for c in todo if c.registry == "pypi"}
                results = {key: job.result() for key, job in jobs.items()}
            for cli in todo:
                err = results["npm" if cli.registry == "npm" else cli.kind]
                if err is None and installed_version(cli) != cli.version:
                    err = f"installed, but {cli.package} reports version {installed_version(cli)}"
                if err:
                    errors[cli.kind] = err
        _link_bins(folder)
        status = {
            "installed": {c.kind: installed_version(c) for c in pinned()},
            "errors": errors,
            "bin": str(bin_dir()),
            "at": time.time(),
        }
        atomic_write(folder / STATUS_FILE, json.dumps(status, indent=2) + "\n")
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.agents.install_clis", description=__doc__.splitlines()[0])
    p.add_argument("kinds", nargs="*", help="only these kinds (default: every pinned CLI)")
    p.add_argument("--strict", action="store_true", help="exit 1 when something could not be installed ($CI too)")
    args = p.parse_args(argv)
    start = time.monotonic()
    errors = install(args.kinds)
    for kind, err in errors.items():
        _say(f"could not install {kind}: {err}")
    if not errors:
        _say(f"all pinned agent CLIs present in {clis_folder()} ({time.monotonic() - start:.1f}s)")
        return 0
    strict = args.strict or os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if not strict:
        _say("continuing without them: tests that need them will be skipped, saying why")
    return 1 if strict else 0


if __name__ == "__main__":
    sys.exit(main())
