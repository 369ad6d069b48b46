"""Text for a terminal or a log line: control characters from untrusted text shown escaped.

Account, OU, policy and statement names, tags and AWS's error messages are chosen by whoever owns
an account or an OU. Printed raw, an escape sequence (ESC, CSI), a carriage return, a line feed or
a bidi override would let that text clear the operator's screen, set the terminal title, overwrite
or forge lines, or make a name read differently from what it is. `shown` turns each such character
into its Python escape (`\\x1b`, `\\r`, `\\u202e`), so the text stays readable and nothing acts.

UNSAFE is the one list of such characters: C0 and C1 controls, DEL, zero-width and bidi
controls (Trojan Source), line and paragraph separators, the byte-order mark, and lone surrogates
(JSON's "\\ud800" decodes to one; printed raw, it makes print() and the log handler raise).
"""

from __future__ import annotations

import re

_NOT_CONTROL_BUT_UNSAFE = r"\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ud800-\udfff\ufeff"
UNSAFE = re.compile(rf"[\x00-\x1f{_NOT_CONTROL_BUT_UNSAFE}]")
_UNSAFE_BUT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f{_NOT_CONTROL_BUT_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {0x09: r"\t", 0x0A: r"\n", 0x0D: r"\r"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def shown(text: object) -> str:
    """`text` as one line with every unsafe character escaped (a newline too: it cannot forge a line)."""
    return UNSAFE.sub(_escape, str(text))


def shown_lines(text: str) -> str:
    """Multi-line text the auditor built (a traceback): unsafe characters escaped, its newlines kept."""
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)
