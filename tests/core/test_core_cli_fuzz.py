"""Property tests of the CLI's inputs: any name, text or id, and planted malformed files, get a clean
answer with a documented exit code, and nothing is ever written outside the root.

The real entry point (``app.cli.main``) runs in-process so hundreds of examples stay fast;
hypothesis is derandomized (a fixed seed) and keeps no example database.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.cli
from app.cli import main

DOCUMENTED = {0, 1, 2, 3, 4}
FUZZ = settings(
    max_examples=int(os.environ.get("CREWMUX_FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Names and texts: printable and hostile (controls, escapes, path parts, tmux formats, huge).
hostile = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", ".", "..", "../x", "a/b", "team-lead", "TEAM-LEAD", "#(touch x)", "\x1b]0;t\x07", "a\x00b"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=60, max_size=70),
).filter(lambda s: not s.startswith("-"))  # an option-looking value is argparse's business
_PARSER: list[argparse.ArgumentParser] = []
ids = st.one_of(st.integers(min_value=-5, max_value=10**20).map(str), hostile)


@contextlib.contextmanager
def sandbox() -> Iterator[tuple[Path, Path]]:
    """A fresh root inside a folder of its own, and that folder (where nothing else may appear)."""
    with tempfile.TemporaryDirectory(prefix="crewmux-fuzz-") as tmp:
        outer = Path(tmp)
        root = outer / "root"
        old_cwd, old_env = os.getcwd(), dict(os.environ)
        os.environ.update(CREWMUX_HOME=str(root), CREWMUX_FSYNC="0")
        for key in ("CREWMUX_TEAM", "CREWMUX_AGENT", "CREWMUX_CLAUDE", "CLAUDE_CONFIG_DIR"):
            os.environ.pop(key, None)
        os.chdir(outer)
        real_build = app.cli.build_parser
        if not _PARSER:  # built once (its defaults read the environment, the same in every sandbox)
            _PARSER.append(real_build())
        app.cli.build_parser = lambda group=None: _PARSER[0]  # every command's parser serves any one
        try:
            run("team", "create", "t")
            run("team", "join", "alice", "--team", "t")
            yield root, outer
        finally:
            app.cli.build_parser = real_build
            os.chdir(old_cwd)
            os.environ.clear()
            os.environ.update(old_env)
        assert sorted(p.name for p in outer.iterdir()) == ["root"], "something was written outside the root"


def run(*argv: str) -> tuple[int, str]:
    """``crewmux ARGV`` in-process: (exit code, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse's own usage errors
            code = int(exc.code or 0)
    return code, err.getvalue()


def clean(code: int, err: str) -> None:
    assert code in DOCUMENTED, (code, err)
    assert "unexpected failure" not in err and "Traceback" not in err, err


@FUZZ
@given(name=hostile, text=hostile, subject=hostile, task_id=ids)
def test_any_name_text_or_id_gets_a_documented_answer(name: str, text: str, subject: str, task_id: str) -> None:
    with sandbox():
        for argv in (
            ("team", "create", name),
            ("team", "join", name, "--team", "t"),
            ("team", "show", name),
            ("msg", "send", name, text or "x", "--team", "t", "--as", "alice"),
            ("msg", "send", "alice", text, "--team", "t", "--as", "team-lead"),
            ("msg", "status", task_id, "--team", "t"),
            ("task", "add", subject, "--team", "t", "--blocked-by", task_id),
            ("task", "claim", task_id, "--team", "t", "--as", name or "x"),
            ("task", "update", task_id, "--team", "t", "--owner", name, "--subject", subject),
            ("task", "show", task_id, "--team", "t"),
            ("team", "leave", name, "--team", "t"),
            ("team", "delete", name),
        ):
            clean(*run(*argv))


@FUZZ
@given(junk=st.binary(max_size=300), which=st.sampled_from(["config", "inbox", "task", "journal", "mark"]))
def test_planted_malformed_files_get_a_documented_answer(junk: bytes, which: str) -> None:
    with sandbox() as (root, _outer):
        run("task", "add", "one", "--team", "t")
        target = {
            "config": root / "teams" / "t" / "config.json",
            "inbox": root / "teams" / "t" / "inboxes" / "alice.json",
            "task": root / "tasks" / "t" / "1.json",
            "journal": root / "tasks" / "t" / ".crewmux-journal.json",
            "mark": root / "tasks" / "t" / ".highwatermark",
        }[which]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(junk)
        for argv in (
            ("team", "show", "t"),
            ("msg", "inbox", "--team", "t", "--as", "alice"),
            ("msg", "send", "alice", "hi", "--team", "t", "--as", "team-lead"),
            ("task", "list", "--team", "t"),
            ("task", "add", "two", "--team", "t"),
            ("task", "claim", "--team", "t", "--as", "alice"),
        ):
            clean(*run(*argv))
