"""Ids (server/ids.py): sortable by time, and never the same twice in one process, also for one `now`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from server.ids import id_floor, new_id


def test_ids_made_with_one_now_never_collide_and_keep_its_millisecond() -> None:
    now = datetime(2026, 12, 6, 7, 30, tzinfo=timezone.utc)
    made = [new_id(now) for _ in range(60_000)]  # one request makes several ids with its one `now`
    assert len(set(made)) == len(made)
    assert all(id_floor(now) <= i < id_floor(now + timedelta(milliseconds=1)) for i in made)


def test_ids_sort_by_time() -> None:
    now = datetime.now(timezone.utc)
    assert new_id(now) < new_id(now + timedelta(milliseconds=1)) < new_id(now + timedelta(seconds=1))
