"""Password checks run on one low-priority thread per process, with a bounded queue."""

from __future__ import annotations

import os
import threading

import pytest
from flask import Flask

from ivr.console.accounts import HashingBusy, HashingLane, hashing
from tests.console.conftest import OPERATOR, PASSWORD, sign_in


def test_the_work_runs_on_the_hashing_thread_at_a_low_priority() -> None:
    lane = HashingLane()
    name, nice = lane.run(lambda: (threading.current_thread().name,
                                   os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
    assert name.startswith("argon2") and name != threading.current_thread().name
    assert nice == 10


def test_a_full_queue_refuses_at_once_instead_of_waiting() -> None:
    lane = HashingLane(limit=2)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "done"

    holders = [threading.Thread(target=lane.run, args=(slow,)) for _ in range(2)]
    for holder in holders:
        holder.start()
    started.wait(5)
    while lane.slots._value:  # type: ignore[attr-defined]  # both slots taken
        threading.Event().wait(0.01)
    with pytest.raises(HashingBusy):
        lane.run(lambda: "never")
    release.set()
    for holder in holders:
        holder.join(5)
    assert lane.run(lambda: "again") == "again"


def test_a_busy_lane_answers_sign_in_with_503_not_500(console_app: Flask,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(work: object) -> object:
        raise HashingBusy("too many sign-ins at once")

    monkeypatch.setattr(hashing, "run", busy)
    response = sign_in(console_app.test_client(), OPERATOR, PASSWORD)
    assert response.status_code == 503
    assert "Try again in a few seconds" in response.get_data(as_text=True)
