"""Logging: console for people, a rotating file (safe across concurrent runs) for the record.

The file handler is concurrent-log-handler's ConcurrentRotatingFileHandler: two cron runs
writing the same log rotate it without clobbering each other. A redaction filter removes
every registered secret (external ids, API keys) from every record, as a second line of
defence behind code that never logs them in the first place.

The log, its rotation lock and its rotated copies sit in the output folder: the handler opens each
through safefs.open_private (never through a symlink, mode 0600 set on the descriptor), and
setup_logging opens the log and the lock once before any AWS call, so an unwritable path, a folder
or a planted symlink is one clear error, not a traceback or an error per log record.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
from io import TextIOWrapper
from pathlib import Path
from typing import cast

from concurrent_log_handler import ConcurrentRotatingFileHandler

from auditor.config import ConfigError, LoggingConfig
from auditor.safefs import FILE_MODE, UnsafePath, open_private
from auditor.terminal import shown, shown_lines

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Never let `value` reach a log line (values under 4 characters are too common to scrub)."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        with _secrets_lock:
            secrets = tuple(_secrets)
        if not secrets:
            return True
        message = record.getMessage()
        redacted = message
        for s in secrets:
            redacted = redacted.replace(s, "****")
        if redacted != message or record.exc_info:
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for s in secrets:
                    text = text.replace(s, "****")
                record.exc_info = None
                record.exc_text = text  # the formatter prints exc_text as it is, without exc_info
            record.msg, record.args = redacted, None
        return True


class SafeFormatter(logging.Formatter):
    """Every line a handler writes, with AWS's text in it shown escaped (terminal.shown).

    The message is one line whatever its arguments hold (a newline in an account name or an AWS
    error message cannot forge a log line); a traceback keeps its own lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.message = shown(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = self.formatMessage(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + shown_lines(record.exc_text)
        if record.stack_info:
            text += "\n" + shown_lines(self.formatStack(record.stack_info))
        return text


class ConsoleNoise(logging.Filter):
    """Per-account INFO lines belong in the log file, not on a person's terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "auditor.accounts" and record.levelno < logging.WARNING)


class PrivateLogHandler(ConcurrentRotatingFileHandler):
    """concurrent-log-handler opening the log and its lock file only through open_private."""

    _write_failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        """The log file unwritable mid-run (its folder removed or replaced, a full disk): one line on
        stderr, not logging's traceback for every later record. The console handler goes on."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        if not self._write_failed:
            self._write_failed = True
            print(shown(f"auditor: cannot write the log at {self.baseFilename}: {exc.strerror or exc}; "
                        "later log lines reach the console only"), file=sys.stderr)

    def do_open(self, mode: str | None = None) -> TextIOWrapper:
        mode = mode or self.mode
        flags = os.O_WRONLY | (os.O_TRUNC if mode.startswith("w") else os.O_APPEND)
        # The handler's modes are text ("a", "w"): open() gives a TextIOWrapper, typed IO[Any] for any str mode.
        return cast(TextIOWrapper, open(open_private(self.baseFilename, flags), mode, encoding=self.encoding,
                                         newline=self.newline))

    def atomic_open(self, file_path: str) -> TextIOWrapper:
        return open(open_private(file_path, os.O_RDWR), "r+", encoding=self.encoding,
                    newline=self.newline)

    def _do_chown_and_chmod(self, filename: str) -> None:
        """The library chmods by name (a symlink would be followed): here through an O_NOFOLLOW descriptor."""
        try:
            fd = os.open(filename, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            return  # a symlink (never chmod-ed) or gone; opening it for writing refuses it anyway
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)
        except OSError:
            pass
        finally:
            os.close(fd)


def log_file_path(cfg: LoggingConfig, output_dir: Path) -> Path:
    path = Path(cfg.file)
    return path if path.is_absolute() else output_dir / path


def check_log_file(cfg: LoggingConfig, output_dir: Path) -> Path:
    """The log path, its folder made and the log and its rotation lock opened once for writing.

    ConfigError naming `[logging] file` when they cannot be written (a folder, no permission), and
    UnsafePath when one is a symlink: before any AWS call, instead of an error per log record.
    """
    path = log_file_path(cfg, output_dir)
    lock_dir, lock_name = ConcurrentRotatingFileHandler.baseLockFilename(str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for target in (path, Path(lock_dir) / lock_name):
            os.close(open_private(target, os.O_WRONLY | os.O_APPEND))
    except UnsafePath:
        raise
    except OSError as exc:
        where = exc.filename or path
        raise ConfigError(f"[logging] file = {cfg.file!r}: cannot write the log at {where}: "
                          f"{exc.strerror or exc}") from None
    return path


def setup_logging(cfg: LoggingConfig, output_dir: Path | None, *, quiet: bool = False) -> Path | None:
    root = logging.getLogger("auditor")
    root.setLevel(logging.DEBUG)
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root.propagate = False
    redact = RedactSecrets()
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING if quiet else logging.INFO)
    console.setFormatter(SafeFormatter("%(levelname)s %(message)s"))
    console.addFilter(redact)
    console.addFilter(ConsoleNoise())
    root.addHandler(console)
    if output_dir is None:
        return None
    path = check_log_file(cfg, output_dir)
    fh = PrivateLogHandler(
        str(path), mode="a", maxBytes=cfg.max_bytes, backupCount=cfg.backup_count, use_gzip=True,
        encoding="utf-8", chmod=0o600,
    )
    fh.setLevel(getattr(logging, cfg.level.upper()))
    fh.setFormatter(SafeFormatter("%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s %(message)s"))
    fh.addFilter(redact)
    root.addHandler(fh)
    # botocore's own loggers stay quiet unless debugging: they can echo request parameters.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    return path
