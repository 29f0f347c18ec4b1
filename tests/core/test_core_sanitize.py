"""Hostile text made harmless: for the lead's terminal (display) and for an agent's input (typing)."""

from __future__ import annotations

import pytest

from app.core.sanitize import TYPING, for_display, for_typing, paste_safe, strip_sequences

ESC = "\x1b"
HOSTILE = [
    f"{ESC}]0;pwned title{ESC}\\",  # window title (OSC 0, ST-terminated)
    f"{ESC}]2;pwned\x07",  # window title (OSC 2, BEL-terminated)
    f"{ESC}]52;c;cm0gLXJmIH4K\x07",  # OSC 52: set the clipboard
    f"{ESC}]8;;http://evil.example/{ESC}\\link{ESC}]8;;{ESC}\\",  # hyperlink
    f"{ESC}P+q544e{ESC}\\",  # DCS (XTGETTCAP)
    f"{ESC}_app command{ESC}\\",  # APC
    f"{ESC}[201~",  # end of a bracketed paste
    f"{ESC}[2J{ESC}[H",  # clear the screen
    f"{ESC}c",  # full reset
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC ... ST
    f"{ESC}]0;never terminated",
]


@pytest.mark.parametrize("seq", HOSTILE)
def test_display_removes_every_escape_sequence(seq: str) -> None:
    shown = for_display(f"before{seq}after")
    assert ESC not in shown
    assert not any("\x80" <= ch <= "\x9f" for ch in shown)
    assert shown.startswith("before")
    for payload in ("pwned", "cm0gLXJmIH4K", "evil.example", "544e", "app command", "201~"):
        assert payload not in shown


def test_display_shows_lone_controls_as_pictures_and_keeps_plain_text() -> None:
    assert for_display("ring\x07 null\x00 del\x7f") == "ring␇ null␀ del␡"
    assert for_display("a\r\nb\rc\td") == "a\nb\nc\td"
    assert for_display("a\nb\tc", one_line=True) == "a ⏎ b c"
    assert for_display("admin\u202etxt.exe") == "admintxt.exe"  # bidi override removed
    plain = "héllo wörld — ✓ 日本"
    assert for_display(plain) is plain


@pytest.mark.parametrize("kind", sorted(TYPING))
def test_typing_never_ends_the_paste_or_presses_a_key(kind: str) -> None:
    text = f"hi{ESC}[201~\rrm -rf ~\x03\x04\x1a{ESC}[200~ there\x00{ESC}]0;t\x07!"
    typed = for_typing(text, kind)
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in typed)
    assert not any(0x7F <= ord(ch) <= 0x9F for ch in typed)
    assert "201~" not in typed and "200~" not in typed
    assert typed.replace("\n", " ") == "hi rm -rf ~ there!"


def test_each_kind_keeps_or_folds_lines() -> None:
    text = "first line\r\n\tindented\n\n\nlast  \n"
    assert for_typing(text, "codex") == "first line\n    indented\n\n\nlast"
    assert for_typing(text, "aider") == for_typing(text, "gemini") == for_typing(text, "codex")
    assert for_typing(text, "shell") == "first line indented last"
    assert for_typing(text, "some-unknown-kind") == "first line indented last"  # the strictest
    assert for_typing(f"{ESC}[201~\x03", "codex") == ""


def test_paste_safe_keeps_newlines_and_tabs_only() -> None:
    assert paste_safe(f"a\tb\r\nc{ESC}[201~\x03d") == "a\tb\ncd"
    assert strip_sequences("no escapes") == "no escapes"
