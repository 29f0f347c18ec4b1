"""The control-mode client's reader: output of panes nobody shows is skipped unread, and a paced
reader reads a busy stream in few large reads while commands are still answered at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from backends.tmux import TmuxBackend, session_name
from backends.tmux_follow import TmuxControl
from tests.backends.crewmux_pane_testkit import screen_has, spec, wait_until

SHOWN = ["sh", "-c", "read go; seq 1 2000; echo SHOWN-END; exec cat"]
HIDDEN = ["sh", "-c", "read go; seq 1 5000; echo HIDDEN-END; exec cat"]
TRICKLE = ["sh", "-c", 'read go; i=0; while [ $i -lt 400 ]; do echo "line$i"; i=$((i+1)); sleep 0.005; done; exec cat']


def test_output_of_panes_not_kept_is_dropped_unread_and_the_kept_one_is_exact(tmux_socket: str, tmp_path: Path) -> None:
    backend = TmuxBackend()
    shown = backend.spawn(spec("shown", SHOWN, tmp_path))
    hidden = backend.spawn(spec("hidden", HIDDEN, tmp_path))
    seen: dict[str, bytearray] = {}
    lock = threading.Lock()

    def on_output(pane: str, data: bytes) -> None:
        with lock:
            seen.setdefault(pane, bytearray()).extend(data)

    keep = shown.pane_id.encode()
    control = TmuxControl(backend.server, session_name("t"), on_output, keep=lambda p: p == keep, pace=0.02)
    try:
        backend.write(hidden, "", paste=False)
        backend.write(shown, "", paste=False)
        wait_until(screen_has(backend, hidden, "HIDDEN-END"), what="the hidden pane's output")
        sent = sum(len(f"{i}\r\n") for i in range(1, 5001))
        wait_until(lambda: control.dropped >= sent, what="the hidden pane's output read and dropped")
        wait_until(lambda: b"SHOWN-END" in bytes(seen.get(shown.pane_id, b"")), what="the shown pane's output")
        with lock:
            assert set(seen) == {shown.pane_id}, "no output of a pane not kept is handed on"
            text = bytes(seen[shown.pane_id])
        numbers = "".join(f"{i}\r\n" for i in range(1, 2001)).encode()
        assert numbers + b"SHOWN-END\r\n" in text, "the kept pane's bytes come whole and in order across reads"
    finally:
        control.close()


def test_a_paced_reader_reads_a_stream_in_few_reads_and_answers_commands_at_once(
    tmux_socket: str, tmp_path: Path
) -> None:
    backend = TmuxBackend()
    pane = backend.spawn(spec("trickle", TRICKLE, tmp_path))
    got = bytearray()
    pace = 10.0  # far longer than the test: only a command or close() can end the reader's wait
    control = TmuxControl(backend.server, session_name("t"), lambda _p, data: got.extend(data), pace=pace)
    try:
        start = time.monotonic()
        backend.write(pane, "", paste=False)  # through another client: this one's reader is not woken
        wait_until(screen_has(backend, pane, "line399"), timeout=60, what="the pane's stream")
        assert b"line399" not in got, "a streaming client is read at most every `pace`"
        reads = control.reads
        assert reads <= 2 + (time.monotonic() - start) / pace
        # a command's reply is read at once, though the reader is in its wait ...
        answer = control.command("display-message", "-p", "-t", pane.pane_id, "#{pane_id}", timeout=5.0)
        assert answer == [pane.pane_id]
        # ... and so is the output that waited with it
        wait_until(lambda: b"line399" in got, timeout=5.0, what="the paced output")
        # keys sent through the client: their echo (after the reply) is read as it comes, not a pace later
        control.command("send-keys", "-t", pane.pane_id, "-l", "typed-now")
        control.command("send-keys", "-t", pane.pane_id, "Enter")
        wait_until(lambda: got.count(b"typed-now") >= 2, timeout=5.0, what="the echo of keys sent")
    finally:
        control.close()
    assert not control._reader.is_alive(), "close() ends the reader's wait"
