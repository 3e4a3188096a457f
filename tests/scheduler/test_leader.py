"""One leader per database: a second lock holder is refused until the first lets go."""

from __future__ import annotations

import threading

import pytest

from tracker.db import Database
from tracker.errors import ConfigError
from tracker.scheduler.leader import leader_lock_for, wait_for_leadership


def test_only_one_lock_holder_at_a_time(database) -> None:
    first, second = leader_lock_for(database), leader_lock_for(database)
    try:
        assert first.try_acquire()
        assert first.still_held()
        assert not second.try_acquire()
        assert not second.still_held()
        first.release()
        assert not first.still_held()
        assert second.try_acquire()
        assert second.still_held()
    finally:
        first.release()
        second.release()


def test_a_standby_takes_over_when_the_leader_lets_go(database) -> None:
    leader, standby = leader_lock_for(database), leader_lock_for(database)
    stop = threading.Event()
    won: list[bool] = []
    try:
        assert leader.try_acquire()
        waiter = threading.Thread(
            target=lambda: won.append(wait_for_leadership(standby, stop, poll_seconds=0.05))
        )
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive()  # still standing by
        leader.release()
        waiter.join(5)
        assert won == [True]
    finally:
        stop.set()
        leader.release()
        standby.release()


def test_a_stopped_standby_gives_up() -> None:
    class Taken:
        def try_acquire(self) -> bool:
            return False

    stop = threading.Event()
    stop.set()
    assert wait_for_leadership(Taken(), stop, poll_seconds=0.01) is False  # type: ignore[arg-type]


def test_an_in_memory_database_cannot_elect_a_leader() -> None:
    database = Database.connect("sqlite://")
    try:
        with pytest.raises(ConfigError, match="database file"):
            leader_lock_for(database)
    finally:
        database.dispose()
