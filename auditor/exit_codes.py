"""The process exit codes of every command: one table (README "Exit codes").

Cron and CI alert on these numbers, so each keeps one meaning across commands: 1 is "the work
was done and something is wrong" (failing findings for `run`, a Datadog write that failed for
`datadog sync` / `datadog send`), never a crash; a crash or an interruption is 3.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # run: failing findings at or above fail_on_severity; datadog sync/send: a write failed
    USAGE = 2  # usage or config error, refused input, unsafe output folder: nothing was changed
    INCOMPLETE = 3  # no complete result: organization unreadable, deadline, interrupted, lock busy, internal error
