"""The domain core imports no UI and no tmux: proved in a clean interpreter and by import-linter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import app.core
from tests.fresh_interpreter import REPO, loaded_after

FORBIDDEN = ("textual", "rich", "libtmux", "pyte")


def core_modules() -> list[str]:
    return sorted(f"app.core.{m.name}" for m in pkgutil.iter_modules(app.core.__path__))


def test_core_modules_found() -> None:
    assert {"app.core.tasks", "app.core.mailbox", "app.core.team", "app.core.watch"} <= set(core_modules())


def test_importing_every_core_module_loads_no_ui_or_tmux() -> None:
    script = f"import importlib\nfor name in {core_modules()!r}:\n    importlib.import_module(name)\n"
    loaded = loaded_after(script, timeout=60)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith(("app.console", "app.cli", "backends"))]
    assert bad == []


LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def importlinter_ini(tmp_path: Path) -> Path:
    """pyproject's ``[tool.importlinter]`` contracts as an INI config for ``lint-imports``.

    ``include_external_packages`` is always on: the contracts forbid third-party packages
    (textual, libtmux, ...), which import-linter checks only with that setting.
    """
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[importlinter]", "root_packages =", *(f"    {r}" for r in conf["root_packages"])]
    lines.append("include_external_packages = True")
    for n, contract in enumerate(conf["contracts"]):
        lines += ["", f"[importlinter:contract:c{n}]"]
        for key, value in contract.items():
            if isinstance(value, list):
                lines += [f"{key} =", *(f"    {v}" for v in value)]
            else:
                lines.append(f"{key} = {value}")
    path = tmp_path / "importlinter.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed in this environment")
def test_import_linter_contracts_hold(tmp_path: Path) -> None:
    config = importlinter_ini(tmp_path)
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 broken" in proc.stdout and "KEPT" in proc.stdout
