"""Control characters from AWS text reach a terminal or the log only escaped (terminal.shown)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.config import LoggingConfig
from auditor.logsetup import setup_logging
from auditor.terminal import shown

RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


@pytest.mark.parametrize(("text", "expected"), [
    ("\x1b[2J", r"\x1b[2J"),
    ("a\rb", r"a\rb"),
    ("a\nb", r"a\nb"),
    ("\u202eevil", r"\u202eevil"),
    ("\x9b1m", r"\x9b1m"),
    ("\x7f", r"\x7f"),
    ("zero\u200bwidth", r"zero\u200bwidth"),
    ("plain ascii, ünïcode and emoji 🙂", "plain ascii, ünïcode and emoji 🙂"),
])
def test_shown_escapes_control_and_bidi_characters(text: str, expected: str) -> None:
    assert shown(text) == expected


@given(st.text())
def test_shown_never_leaves_a_control_character(text: str) -> None:
    assert not RAW_CONTROL.search(shown(text))


def test_console_and_log_file_show_aws_text_escaped(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """What the run logs about an account (fanout: name and AWS's error message) goes through shown()."""
    path = setup_logging(LoggingConfig(), tmp_path)
    assert path is not None
    try:
        logging.getLogger("auditor.accounts").warning(
            "account %s (%s): error at %s: %s: %s", "111122223333", "\x1b[2J\u202eevil\rname", "assume_role",
            "AccessDenied", "User: \x1b]0;title\x07 is not authorized\nINFO forged line")
        try:
            raise RuntimeError("boom \x1b[31m")
        except RuntimeError:
            logging.getLogger("auditor").error("policy %s failed", "\x1b[2J", exc_info=True)
    finally:
        for h in list(logging.getLogger("auditor").handlers):
            h.flush()
    err = capfd.readouterr().err
    text = path.read_text(encoding="utf-8")
    for out in (err, text):
        assert not RAW_CONTROL.search(out), repr(out)
        assert r"\x1b[2J\u202eevil\rname" in out
        assert r"not authorized\nINFO forged line" in out  # a newline in AWS text cannot forge a log line
        assert r"boom \x1b[31m" in out  # the traceback too, its own line structure kept


def test_shown_escapes_a_lone_surrogate_so_the_text_can_be_printed() -> None:
    text = shown("name\ud800x\udfff")
    assert text == r"name\ud800x\udfff"
    text.encode("utf-8")  # print() to a UTF-8 terminal or log raises on a raw surrogate
