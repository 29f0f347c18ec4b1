"""A fake interactive agent for delivery tests: a prompt, a busy spinner, a permission question.

    fake_agent.py STYLE LOG [--drop-enters N] [--busy-first S] [--ask-first]

Reads the keyboard in raw mode with bracketed paste on, echoes what is typed on its input line,
and on Enter writes the line to LOG, shows the STYLE's busy marker for a moment, then a fresh
prompt. ``--drop-enters N`` ignores the first N Enters (a prompt typed but not submitted).
A line holding "permission" makes it ask the STYLE's permission question and wait for "y".
Ctrl-C ends it (exit 130); Ctrl-U clears the input line.
"""

from __future__ import annotations

import argparse
import os
import termios
import time
import tty

PROMPT = {"claude": "> ", "codex": "› ", "gemini": "> ", "aider": "> ", "shell": "$ "}
BUSY = {
    "claude": "✻ Pondering… (esc to interrupt)",
    "codex": "• Working (esc to interrupt)",
    "gemini": "⠋ Thinking (esc to cancel)",
    "aider": "Waiting for fake-model",
    "shell": "",
}
PERMISSION = {
    "claude": "Do you want to proceed?",
    "codex": "Allow command?",
    "gemini": "Allow execution?",
    "aider": "Run it? (Y)es/(N)o",
    "shell": "continue? [y/N] ",
}


def out(text: str) -> None:
    os.write(1, text.encode())


def read_char() -> str:
    data = os.read(0, 1)
    if not data:
        raise SystemExit(0)
    return data.decode(errors="replace")


def ask(style: str) -> None:
    out(PERMISSION[style] + "\r\n")
    while read_char().lower() != "y":
        pass
    out("\r\x1b[2K" + "allowed\r\n")


def busy(style: str, seconds: float) -> None:
    if BUSY[style]:
        out(BUSY[style])
        time.sleep(seconds)
        out("\r\x1b[2K")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("style", choices=sorted(PROMPT))
    p.add_argument("log")
    p.add_argument("--drop-enters", type=int, default=0)
    p.add_argument("--busy-first", type=float, default=0.0)
    p.add_argument("--ask-first", action="store_true")
    args = p.parse_args()
    old = termios.tcgetattr(0)
    tty.setraw(0)
    try:
        out("\x1b[?2004h" + f"fake {args.style} agent\r\n")
        busy(args.style, args.busy_first)
        if args.ask_first:
            ask(args.style)
        drops = args.drop_enters
        while True:
            out(PROMPT[args.style])
            line, pending, in_paste = "", "", False
            while True:
                ch = read_char()
                if ch == "\x1b" or pending:
                    pending += ch
                    if pending in ("\x1b[200~", "\x1b[201~"):
                        in_paste, pending = pending == "\x1b[200~", ""
                    elif len(pending) >= 6 or (len(pending) > 1 and pending[-1].isalpha()):
                        pending = ""
                    continue
                if ch in "\r\n" and in_paste:
                    ch = " "
                elif ch in "\r\n" and drops > 0:
                    drops -= 1
                    continue
                elif ch in "\r\n":
                    break
                if ch == "\x03":
                    raise SystemExit(130)
                if ch == "\x15":  # Ctrl-U: clear the input line, as readline does
                    line = ""
                    out("\r\x1b[2K" + PROMPT[args.style])
                    continue
                line += ch
                out(ch)
            out("\r\n")
            with open(args.log, "a", encoding="utf-8") as f:
                f.write(line + "\n")
            busy(args.style, 0.4)
            if "permission" in line:
                ask(args.style)
            out(f"ok: {len(line)} chars\r\n")
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, old)


if __name__ == "__main__":
    main()
