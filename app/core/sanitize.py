"""Text from a teammate, made harmless before it reaches a terminal: the lead's, or an agent's input.

Anything a teammate writes (a message, its name in a planted team file, a task subject, its
screen) is hostile until proven otherwise. Two uses, two functions:

* :func:`for_display` — text the lead's terminal will draw (the console, CLI output on a tty).
  Every escape sequence (CSI, OSC — window title, OSC 52 clipboard, hyperlinks —, DCS, SOS, PM,
  APC, in their 7-bit ``ESC x`` and 8-bit C1 forms) is removed whole; any other control
  character is shown as its visible Unicode "control picture" (``␛``, ``␇``, ...) so nothing
  reaches the terminal as a command; bidi overrides (the "Trojan source" trick) are removed.
  Newlines and tabs are kept, or folded to one line with ``one_line=True``.

* :func:`for_typing` — text crewmux types into an agent's pane as a bracketed paste. Escape
  sequences and control characters are removed, never neutralised into printable look-alikes
  (the agent would read them as part of the message), so nothing can end the paste early
  (``ESC [201~``) or act as a key (Ctrl-C, Ctrl-D, a CR or LF that submits a line). What
  survives depends on the agent kind (:data:`TYPING`):

  - ``codex``, ``gemini``, ``aider`` (and ``claude``): multi-line text. Each turns bracketed
    paste on at its prompt (codex via crossterm, gemini-cli and aider's prompt_toolkit write
    ``ESC [?2004h``), so a newline inside the paste is inserted, not a submit;
  - ``shell`` and any unknown kind: one line. A shell may not turn bracketed paste on (dash,
    a REPL given after ``--``); there every newline would run what precedes it before crewmux
    could check it, so line breaks become spaces.

  Tabs become spaces for every kind: outside a bracketed paste a Tab is completion (readline,
  prompt_toolkit), and a message means the same with spaces. Line ends (CR LF, CR, NEL,
  U+2028/2029) become ``\\n`` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A whole escape sequence, 7-bit or 8-bit (ECMA-48): CSI ... final byte; OSC/DCS/SOS/PM/APC ...
# up to BEL or ST (ESC \ or 0x9c), or to the end when never terminated; any other ESC + its
# intermediate and final bytes; a lone ESC at the very end.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (an unfinished one is still removed)
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC DCS SOS PM APC
    r"|\x1b[ -/]*[0-~]"  # nF, Fp, Fe, Fs escapes (ESC c, ESC 7, ESC ( B, ...)
    r"|\x1b",
)
_LINE_ENDS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
# C0 (but newline and tab), DEL, C1: what is left of control characters after the sequences.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_BLANK_LINES = re.compile(r"\s*\n\s*")
TAB_SPACES = "    "


def strip_sequences(text: str) -> str:
    """``text`` without any terminal escape sequence (their parameters and payloads go too)."""
    return _SEQUENCE.sub("", text) if ("\x1b" in text or _has_c1(text)) else text


def _has_c1(text: str) -> bool:
    return any("\x80" <= ch <= "\x9f" for ch in text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ ... ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # a C1 control has no picture


def for_display(text: str, *, one_line: bool = False) -> str:
    """``text`` safe to print on the lead's terminal (see the module docstring)."""
    if not isinstance(text, str):
        text = str(text)
    if text.isprintable():  # the common case costs one scan
        return text
    out = strip_sequences(text)
    out = _LINE_ENDS.sub("\n", out)
    out = _CONTROL.sub(_picture, out)
    out = _BIDI.sub("", out)
    if one_line:
        out = out.replace("\n", " ⏎ ").replace("\t", " ")
    return out


@dataclass(frozen=True)
class TypingPolicy:
    """What one agent kind accepts inside a bracketed paste at its prompt."""

    multiline: bool
    """True: newlines are kept (the agent inserts them); False: the text is folded to one line."""


TYPING: dict[str, TypingPolicy] = {
    "codex": TypingPolicy(multiline=True),
    "gemini": TypingPolicy(multiline=True),
    "aider": TypingPolicy(multiline=True),
    "claude": TypingPolicy(multiline=True),
    "shell": TypingPolicy(multiline=False),
}
STRICTEST = TypingPolicy(multiline=False)


def paste_safe(text: str) -> str:
    """``text`` with no escape sequence and no control character but newline and tab.

    What every backend pastes, whatever the kind: nothing in it can end a bracketed paste.
    """
    out = strip_sequences(text)
    out = _LINE_ENDS.sub("\n", out)
    return _CONTROL.sub("", out)


def for_typing(text: str, kind: str) -> str:
    """``text`` as it may be pasted into an agent of ``kind`` (see the module docstring).

    May return ``""`` when nothing printable was left; the caller decides what to type then.
    """
    policy = TYPING.get(kind, STRICTEST)
    out = paste_safe(text).replace("\t", TAB_SPACES)
    if policy.multiline:
        lines = [line.rstrip() for line in out.split("\n")]
        return "\n".join(lines).strip("\n")
    return _BLANK_LINES.sub(" ", out).strip()
