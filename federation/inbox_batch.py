"""Group commit for the inbox: activities that arrive while a write is under way are stored together (issue 18).

Owns: `Batcher`, which hands rows to one write function in batches and gives each caller its own row's result
only after that write returned (the inbox's write is one autocommit statement, so returned means committed: a
request is never answered 202 before its row is). Never: SQL (federation/inbox.py's `insert_items` writes).

There is no timer. A row that arrives when fewer than `max_writers` (one) writes are under way is written at once
(alone, when the inbox is quiet: no added latency); rows that arrive meanwhile wait for the write under way to
end and go together in the next one, up to `max_rows`. Under load the batches grow by themselves to what arrives during one write, a few
milliseconds' worth. A batch that fails with an error of the database (not of the connection) is written again
row by row, so one row the database refuses cannot fail the others; every row whose write failed gets the
exception (the inbox answers it 503).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Row = TypeVar("Row")
Result = TypeVar("Result")


class Batcher(Generic[Row, Result]):
    def __init__(self, write: Callable[[list[Row]], Awaitable[list[Result]]], *, max_rows: int = 200,
                 max_writers: int = 1, retry_alone: Callable[[BaseException], bool] = lambda exc: False) -> None:
        self.write = write
        self.max_rows = max_rows
        self.max_writers = max_writers
        self.retry_alone = retry_alone
        self._waiting: list[tuple[Row, asyncio.Future[Result]]] = []
        self._active = 0  # writers under way; counted synchronously, so a row can never wait with none left
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0  # written batches and rows, for a look from a benchmark or a test
        self.rows = 0

    async def submit(self, row: Row) -> Result:
        """Store `row` with whatever else is waiting; the result of its write (or its exception)."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._active < self.max_writers:
            self._active += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:  # checked and left in one step with the count below: no await in between
                batch, self._waiting = self._waiting[: self.max_rows], self._waiting[self.max_rows:]
                batch = [(row, future) for row, future in batch if not future.cancelled()]
                if batch:
                    await self._write(batch)
        finally:
            self._active -= 1

    async def _write(self, batch: list[tuple[Row, asyncio.Future[Result]]]) -> None:
        try:
            results = await self.write([row for row, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"the batch write answered {len(results)} results for {len(batch)} rows")
        except Exception as exc:
            if len(batch) > 1 and self.retry_alone(exc):
                for one in batch:
                    await self._write([one])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.rows += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
