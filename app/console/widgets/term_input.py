"""What a terminal sends to the program for a key, a paste or a mouse event, in the modes it set.

The encodings are xterm's (as tmux sends them): named keys from :data:`backends.base.KEY_BYTES`,
the cursor keys as ``ESC O A`` … when the program set application cursor mode (DECCKM, ``CSI ? 1 h``;
less and vim do), mouse reports only when it asked for them (``?9``, ``?1000``, ``?1002``, ``?1003``)
and in the encoding it chose (SGR ``?1006``, else the classic ``ESC [ M`` bytes); focus in and
out (``ESC [ I`` / ``ESC [ O``) when it set ``?1004``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from app.core.sanitize import paste_safe
from backends.base import KEY_BYTES, PASTE_END, PASTE_START

if TYPE_CHECKING:
    from backends.base import Key

_ARROWS = {"up": "Up", "down": "Down", "left": "Left", "right": "Right"}
_KEY_NAMES: dict[str, str] = {  # Textual's key name -> its name in backends.base.KEY_BYTES
    "enter": "Enter", "escape": "Escape", "tab": "Tab", "shift+tab": "BTab", "backspace": "BSpace",
    "home": "Home", "end": "End", "insert": "IC", "delete": "DC", "pageup": "PPage", "pagedown": "NPage",
    **{name: name.capitalize() for name in _ARROWS},
    **{f"{mod}+{name}": f"{tmux}-{_ARROWS[name]}" for mod, tmux in (("shift", "S"), ("ctrl", "C"), ("alt", "M"))
       for name in _ARROWS},
    **{f"f{n}": f"F{n}" for n in range(1, 13)},
}  # fmt: skip
_APP_CURSOR = {b"\x1b[" + c: b"\x1bO" + c for c in (b"A", b"B", b"C", b"D", b"H", b"F")}
"""Normal-mode cursor keys (unmodified arrows, Home, End) -> their application-mode (SS3) form."""

DECCKM = 1
FOCUS_EVENTS = 1004
MOUSE_X10, MOUSE_NORMAL, MOUSE_BUTTON, MOUSE_ANY, MOUSE_SGR = 9, 1000, 1002, 1003, 1006
MouseAction = Literal["press", "release", "motion", "wheel_up", "wheel_down"]


def key_bytes(key: str, character: str | None, *, app_cursor: bool = False) -> bytes | None:
    """The bytes an xterm sends for Textual's ``key`` (with its ``character``); None for none.

    Named keys come from :data:`backends.base.KEY_BYTES` (with ``app_cursor``, the program's
    DECCKM, the unmodified arrows, Home and End in their ``ESC O`` form); Alt+x is Escape then x
    (xterm's ``metaSendsEscape``, as tmux sends it); Ctrl+letter is its control code, text itself.
    """
    name = _KEY_NAMES.get(key)
    if name is not None:
        data = KEY_BYTES[cast("Key", name)]
        return _APP_CURSOR.get(data, data) if app_cursor else data
    if key.startswith("alt+"):
        rest = key_bytes(key[4:], character if character and len(character) == 1 else None)
        if rest is None and len(key) == 5:
            rest = key[4].encode()
        return None if rest is None else b"\x1b" + rest
    if character:
        return character.encode("utf-8")
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():  # ctrl+letter: its control code
        return bytes([ord(key[5]) & 0x1F])
    return None


def paste_bytes(text: str, bracketed: bool) -> bytes:
    """What a terminal sends for a paste: bracketed (``ESC [200~`` … ``ESC [201~``) when the
    program asked for it (mode 2004), with no escape sequence inside that could end it early;
    else the text as typed, each line break a carriage return."""
    if bracketed:
        return PASTE_START + paste_safe(text).encode() + PASTE_END
    return text.replace("\r\n", "\r").replace("\n", "\r").encode()


def mouse_bytes(
    screen: Any,
    action: MouseAction,
    button: int,
    x: int,
    y: int,
    *,
    shift: bool = False,
    meta: bool = False,
    ctrl: bool = False,
) -> bytes | None:
    """The report for a mouse event at cell (``x``, ``y``) (0-based) with Textual's ``button``
    (1 left, 2 middle, 3 right, 0 none), or None when the program did not ask for this kind.

    Call under the terminal's lock (``screen`` is its emulated screen)."""
    tracking = next((m for m in (MOUSE_ANY, MOUSE_BUTTON, MOUSE_NORMAL, MOUSE_X10) if screen.has_mode(m)), None)
    if tracking is None:
        return None
    if action == "motion" and not (tracking == MOUSE_ANY or (tracking == MOUSE_BUTTON and button)):
        return None
    if tracking == MOUSE_X10 and action != "press":
        return None
    code = {"wheel_up": 64, "wheel_down": 65}.get(action, (button - 1) if 1 <= button <= 3 else 3)
    if action == "motion":
        code += 32
    if tracking != MOUSE_X10:
        code += 4 * shift + 8 * meta + 16 * ctrl
    if screen.has_mode(MOUSE_SGR):
        return b"\x1b[<%d;%d;%d%s" % (code, x + 1, y + 1, b"m" if action == "release" else b"M")
    if action == "release":
        code = 3 + (code & ~3 & ~64)  # the classic encoding cannot say which button was released
    if x + 33 > 255 or y + 33 > 255:  # beyond what one byte can carry: not reportable
        return None
    return b"\x1b[M" + bytes([32 + code, 33 + x, 33 + y])
