"""Showing secrets and look-alike strings safely: masked external ids, visible whitespace.

External ids are shared secrets between the customer and Datadog (they stop the confused deputy),
so every report, log line and evidence blob shows them masked unless the operator opts in
(`[datadog] show_external_ids`). Role names are not secret but often differ from the real name
only by invisible characters, so they are rendered with those characters made visible.
"""

from __future__ import annotations

import unicodedata

# The project's one masking rule, re-exported so checks import it from here.
from auditor.secrets import mask_secret as mask_secret

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Zl", "Zp", "Zs"})


def is_invisible(ch: str) -> bool:
    """Whitespace, format characters (zero-width space, BOM...) and controls: easy to miss in a name."""
    return ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def char_name(ch: str) -> str:
    """`U+00A0 NO-BREAK SPACE`: the code point and its Unicode name (controls have none)."""
    name = unicodedata.name(ch, "") or f"control character ({unicodedata.category(ch)})"
    return f"U+{ord(ch):04X} {name}"


def visible(text: str) -> str:
    """The text with plain spaces shown as ␠ and other invisible characters as ⟨U+200B⟩."""
    out = []
    for ch in text:
        if ch == " ":
            out.append("␠")
        elif is_invisible(ch):
            out.append(f"⟨U+{ord(ch):04X}⟩")
        else:
            out.append(ch)
    return "".join(out)


def quoted(text: str) -> str:
    """The text between quotes with its invisible characters made visible."""
    return f'"{visible(text)}"'


def strip_invisible(text: str) -> str:
    """The text without leading/trailing invisible characters."""
    start, end = 0, len(text)
    while start < end and is_invisible(text[start]):
        start += 1
    while end > start and is_invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def remove_invisible(text: str) -> str:
    return "".join(ch for ch in text if not is_invisible(ch))


def describe_invisible(text: str) -> list[str]:
    """Where the invisible characters are: ['leading U+0020 SPACE', 'U+200B ZERO WIDTH SPACE at position 7']."""
    parts = []
    lead = next((i for i, ch in enumerate(text) if not is_invisible(ch)), len(text))
    for i, ch in enumerate(text):
        if not is_invisible(ch):
            continue
        if i < lead:
            parts.append(f"leading {char_name(ch)}")
        elif not strip_invisible(text[i:]):
            parts.append(f"trailing {char_name(ch)}")
        else:
            parts.append(f"{char_name(ch)} at position {i + 1}")
    return parts


def describe_secret_difference(expected: str, found: str) -> str:
    """Say how two secrets differ without revealing them (whitespace, invisible characters, case)."""
    if expected == found:
        return "they are equal"
    if remove_invisible(expected) == remove_invisible(found):
        extra_e = describe_invisible(expected)
        extra_f = describe_invisible(found)
        bits = []
        if extra_e:
            bits.append("Datadog's value has " + ", ".join(extra_e))
        if extra_f:
            bits.append("the trust policy's value has " + ", ".join(extra_f))
        return "they differ only by invisible characters: " + "; ".join(bits)
    if expected.casefold() == found.casefold():
        return "they differ only in letter case"
    return "they are different values"
