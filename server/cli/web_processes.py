"""Web processes of `ambtenaar serve`: one uvicorn server in this process, or N on one port under a supervisor.

Owns: how many web processes (`--web-processes`, 0: one per core), running uvicorn on a socket bound by the caller,
and the supervisor: it starts N children with the spawn start method, each accepting on the one inherited socket
(as uvicorn's own workers do), starts a child that dies again, and on SIGTERM or Ctrl-C stops them all gracefully.
Child 0 alone runs the in-process federation worker (when that is on), so there is at most one per node process.

Why our own supervisor rather than `uvicorn.supervisors.Multiprocess`: that one gives every child the same config
(an import string, no index), so it cannot keep the worker in one child; this is its loop, with an index per child.

Never: starts the embedded PostgreSQL or migrates (server/cli/process.py does that once, before the children).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from server.cli.base import CliError
from server.config import Settings, trusted_proxy_list

log = logging.getLogger("ambtenaar.web")

MAX_WEB_PROCESSES = 64
STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start (its lifespan failed)
STOP_SECONDS = 30.0  # a child's graceful stop: 10 s for open requests, 10 s for the worker's batch, then the pool
RESTART_PAUSE_MAX = 30.0  # a replacement that cannot start (the database is away) is tried again, at most this far apart


def process_count(settings: Settings) -> int:
    """The number of web processes: the setting, or one per core this process may run on."""
    if settings.web_processes > MAX_WEB_PROCESSES:
        raise CliError(f"--web-processes must be at most {MAX_WEB_PROCESSES} (0: one per core), "
                       f"not {settings.web_processes}")
    if settings.web_processes:
        return settings.web_processes
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WEB_PROCESSES))


def run_web(settings: Settings, sock: socket.socket, ready: Connection | None = None) -> bool:
    """Serve the app on `sock` until SIGTERM or Ctrl-C; whether the server started (else its log says why).
    `ready` is told once the server accepts requests."""
    import uvicorn

    from server.app import create_app
    from server.logs import log_config
    from web.api.event_streams import EventStreamHttp
    from web.api.stream_sockets import StreamSocket

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and ready is not None:
                ready.send_bytes(b"up")
                ready.close()

    config = uvicorn.Config(create_app(settings), host=settings.host, port=settings.port,
                            log_config=log_config(settings.log_level), proxy_headers=True,
                            forwarded_allow_ips=list(trusted_proxy_list(settings)),
                            ssl_certfile=settings.tls_cert or None, ssl_keyfile=settings.tls_key or None,
                            server_header=False, timeout_graceful_shutdown=10,
                            # The streaming API's own WebSocket protocol: a few KiB an open stream rather than
                            # uvicorn's 25 (docs/benchmarks.md); no permessage-deflate, as Mastodon's server.
                            ws=StreamSocket,
                            # uvicorn's httptools protocol, able to hand an event stream over once its response
                            # started (web/api/event_streams.py): a few KiB an open stream rather than 36.
                            http=EventStreamHttp)
    server = Server(config)
    server.run(sockets=[sock])
    return server.started


def _end_with(parent: int) -> None:
    """Ask Linux for SIGTERM when the supervisor goes, even by SIGKILL, so no child serves on alone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it went before the request was made
        os._exit(0)


def _child(settings: Settings, sock: socket.socket, ready: Connection, parent: int) -> None:
    """A spawned web process: the supervisor relays Ctrl-C as SIGTERM, so the terminal's SIGINT is ignored until
    uvicorn takes both signals over."""
    _end_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        started = run_web(settings, sock, ready)
    except Exception:  # e.g. a TLS certificate uvicorn cannot read: one log line, not multiprocessing's traceback
        log.exception("web process failed")
        sys.exit(1)
    if not started:
        sys.exit(STARTUP_FAILURE)


@dataclass
class _Slot:
    """One of the N places: its settings (only slot 0 may run the worker) and its current process."""

    index: int
    settings: Settings
    process: BaseProcess | None = None
    ready: Connection | None = None  # the supervisor's end of the child's start-up pipe, until it says "up"
    up: bool = False  # this process accepts requests
    ever_up: bool = False  # some process in this slot did
    pause: float = 0.0  # before the next start of a replacement that failed to start
    start_at: float | None = None


class Supervisor:
    """N children on one socket; `run` returns when they have all stopped."""

    def __init__(self, settings: Settings, sock: socket.socket, count: int) -> None:
        self.sock = sock
        self.context = multiprocessing.get_context("spawn")
        self.slots = [_Slot(i, settings if i == 0 else dataclasses.replace(settings, in_process_worker=False))
                      for i in range(count)]
        self.stopping = False
        self.failure: str | None = None
        self._wake_r, self._wake_w = socket.socketpair()

    def _start(self, slot: _Slot) -> None:
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_child, args=(slot.settings, self.sock, writer, os.getpid()),
                                       name=f"ambtenaar web {slot.index}", daemon=False)
        process.start()
        writer.close()
        slot.process, slot.ready, slot.up, slot.start_at = process, reader, False, None
        log.info("web process started", extra={"index": slot.index, "pid": process.pid,
                                               "worker": slot.settings.in_process_worker})

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _ended(self, slot: _Slot) -> None:
        """A child is gone: the node stops if it never came up, else a replacement starts (paused if it keeps
        failing to start)."""
        assert slot.process is not None
        slot.process.join()
        code, pid = slot.process.exitcode, slot.process.pid
        if slot.ready is not None:
            slot.ready.close()
            slot.ready = None
        slot.process = None
        if self.stopping:
            return
        if not slot.ever_up:
            self.failure = f"web process {slot.index} did not start; the log above says why"
            self.stopping = True
            return
        if slot.up:
            slot.pause = 0.0
        else:
            slot.pause = min(RESTART_PAUSE_MAX, max(1.0, slot.pause * 2))
        slot.start_at = time.monotonic() + slot.pause
        log.warning("web process ended; starting it again", extra={"index": slot.index, "pid": pid,
                                                                   "exit_code": code, "pause_seconds": slot.pause})

    def _watch(self) -> None:
        """Wait for a child to end or come up, a signal, or a replacement's start time."""
        waitables: list[Any] = [self._wake_r]
        for slot in self.slots:
            if slot.process is not None:
                waitables.append(slot.process.sentinel)
                if slot.ready is not None:
                    waitables.append(slot.ready)
        starts = [slot.start_at for slot in self.slots if slot.start_at is not None]
        timeout = max(0.0, min(starts) - time.monotonic()) if starts else None
        done = wait(waitables, timeout)
        if self._wake_r in done:
            self._wake_r.recv(512)
        for slot in self.slots:
            if slot.ready is not None and slot.ready in done:
                try:
                    slot.ready.recv_bytes()
                    slot.up = slot.ever_up = True
                except EOFError:  # it ended before it came up: its sentinel says so too
                    pass
                slot.ready.close()
                slot.ready = None
            if slot.process is not None and slot.process.sentinel in done:
                self._ended(slot)
            if slot.start_at is not None and slot.start_at <= time.monotonic() and not self.stopping:
                self._start(slot)

    def _stop_all(self) -> None:
        running = [slot.process for slot in self.slots if slot.process is not None and slot.process.is_alive()]
        log.info("stopping web processes", extra={"pids": ",".join(str(p.pid) for p in running)})
        for process in running:
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # it may have ended just now
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in running:
            if process.is_alive():
                log.warning("web process did not stop in time; killed", extra={"pid": process.pid})
                process.kill()
                process.join()

    def run(self) -> None:
        """Until SIGTERM or Ctrl-C (or a child that cannot start: CliError)."""
        self._wake_w.setblocking(False)
        previous_fd = signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in self.slots:
                self._start(slot)
            while not self.stopping:
                self._watch()
        finally:
            self.stopping = True
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_fd)
            self._wake_r.close()
            self._wake_w.close()
        if self.failure:
            raise CliError(self.failure)

