"""StopGate: where a stop request (SIGTERM, SIGINT) lands in a run."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from auditor.stop import Interrupted, StopGate


def send(signum: signal.Signals) -> None:
    os.kill(os.getpid(), signum)  # the handler runs in the main thread before os.kill returns here


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_before_hold_the_first_request_raises_at_once_and_later_ones_are_only_noted(signum: signal.Signals) -> None:
    with StopGate().installed() as gate:
        with pytest.raises(Interrupted) as raised:
            send(signum)
        assert raised.value.signal_name == signum.name
        send(signal.SIGTERM)  # a second one raises nothing: it waits for a phase to take it
        assert gate.noted() == ["SIGTERM"]


def test_once_holding_a_request_raises_nothing_and_each_is_taken_exactly_once_in_order() -> None:
    with StopGate().installed() as gate:
        gate.hold()
        assert gate.take() == ""
        send(signal.SIGTERM)
        assert gate.take() == "SIGTERM"
        assert gate.take() == ""
        send(signal.SIGINT)
        send(signal.SIGTERM)
        assert gate.noted() == ["SIGINT", "SIGTERM"]
        assert gate.take() == "SIGINT"  # a second request: the next phase acts on it
        assert gate.noted() == ["SIGTERM"]


def test_a_held_request_no_phase_took_is_noted() -> None:
    with StopGate().installed() as gate:
        gate.hold()
        send(signal.SIGTERM)
        send(signal.SIGTERM)
    assert gate.noted() == ["SIGTERM", "SIGTERM"]


def test_wake_callbacks_run_when_a_request_is_held_and_only_within_their_block() -> None:
    woken: list[str] = []
    with StopGate().installed() as gate:
        gate.hold()
        with gate.waking(lambda: woken.append("in")):
            send(signal.SIGTERM)
            send(signal.SIGINT)
        send(signal.SIGTERM)
        assert woken == ["in", "in"]


def test_the_previous_handlers_are_back_after_the_block() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with StopGate().installed() as gate:
        assert signal.getsignal(signal.SIGTERM) is gate and signal.getsignal(signal.SIGINT) is gate
    assert {s: signal.getsignal(s) for s in before} == before


def test_off_the_main_thread_no_handler_is_installed() -> None:
    seen: list[object] = []

    def run() -> None:
        with StopGate().installed():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [before]
