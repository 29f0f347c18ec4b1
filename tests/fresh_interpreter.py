"""What a fresh interpreter has imported after running a script (tests of start-up and import hygiene)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def loaded_after(script: str, *args: str, timeout: float = 120) -> list[str]:
    """``sys.modules`` of a fresh interpreter after ``script`` (which may read ``sys.argv[1:]``)."""
    code = f"{script}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout.splitlines()[-1]))
