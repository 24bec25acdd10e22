"""A local server that behaves like the EasyCron API v1, with fault injection.

Real sockets, a ``ThreadingHTTPServer`` and an in-memory job store. Tests,
benchmarks and manual runs use it in place of https://api.easycron.com/v1:

    with FakeEasyCron(api_key="k") as server:
        client = EasyCronClient(server.url, "k")

or standalone (prints the base URL, serves until interrupted):

    python -m tests.easycron_server --port 8765 --api-key k --latency-ms 50

Behaviour follows the v1 docs: ``X-API-Key`` header, ``POST /cron-jobs`` 201
``{"cron_job_id"}``, ``GET /cron-jobs`` paged ``{"cron_jobs": [...]}``,
``GET``/``PATCH``/``DELETE /cron-jobs/{id}``, errors as ``{"message"}``. Jobs
come back with numbers for ids and flags and without ``timezone_from``.
Paths work with or without a ``/v1`` prefix.

Faults are queued per operation (``list``, ``get``, ``create``, ``update``,
``delete``) with ``inject``; each hits the next matching request(s). Every
request is counted by operation, faulted or not. ``GET /_fake/state`` (same
API key) returns the counters and the number of requests in flight, for
scripts that run the server in another process.
"""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FAULT_KINDS = (
    "status",  # respond with ``status`` (500/502/503...) without processing
    "rate_limit",  # respond 429 with a Retry-After header, without processing
    "reset",  # read the request, then reset the connection without processing
    "commit_then_drop",  # process the request, then reset the connection instead of responding
    "commit_then_hang",  # process the request, then wait ``seconds`` before responding
    "empty_404",  # respond to a list request with 404 {"message": ...}
)
OPERATIONS = ("list", "get", "create", "update", "delete")

JOB_FIELDS_RETURNED = (
    "cron_job_id", "cron_job_name", "description", "url", "cron_expression", "timezone",
    "http_method", "http_headers", "http_message_body", "http_auth_user", "http_auth_pw",
    "timeout", "success_criterion", "success_regexp", "failure_regexp", "send_email",
    "email_threshold", "send_slack", "slack_threshold", "slack_url", "send_webhook",
    "webhook_url", "webhook_http_method", "webhook_data", "status", "group_id",
    "epds_occupied", "total_successes", "total_failures", "current_failures",
)
SORT_FIELDS = (
    "cron_job_id", "cron_job_name", "url", "epds_occupied", "total_successes",
    "total_failures", "current_failures",
)
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass
class Fault:
    """One injected fault; it hits ``times`` matching requests after letting ``skip`` through."""

    kind: str
    op: str | None = None  # None matches every operation
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    times: int = 1
    skip: int = 0
    hits: int = 0


class _ValidationError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class FakeEasyCron:
    """The in-memory account and the HTTP server in front of it."""

    def __init__(
        self,
        api_key: str = "test-easycron-key",
        *,
        latency_seconds: float = 0.0,
        beyond_last_page: str = "empty",
        first_id: int = 1001,
        account_timezone: str = "UTC",
    ):
        if beyond_last_page not in ("empty", "404"):
            raise ValueError("beyond_last_page must be 'empty' or '404'")
        self.api_key = api_key
        self.latency_seconds = latency_seconds
        self.beyond_last_page = beyond_last_page
        self.account_timezone = account_timezone
        self._jobs: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(first_id)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.counts: Counter[str] = Counter()  # by operation, plus "unknown"
        self.log: list[tuple[str, str, int | None]] = []  # (method, path, status or None if dropped)
        self.in_flight = 0  # requests received and not yet responded to
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on a background thread and return the base URL."""
        httpd = _Server((host, port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-easycron", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and end every open connection, so no handler thread outlives the server."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd.close_connections()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeEasyCron:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake EasyCron server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # --- account state ---------------------------------------------------

    def add_job(self, **fields: Any) -> int:
        """Store a job directly (no request counted) and return its id; for seeding."""
        fields.setdefault("url", "https://example.com/ping")
        fields.setdefault("cron_expression", "0 9 * * *")
        with self._lock:
            return self._store_new(fields)

    def jobs(self) -> list[dict[str, Any]]:
        """Return copies of all jobs as the API returns them, by ascending id."""
        with self._lock:
            return [self._public(job) for _, job in sorted(self._jobs.items())]

    def job(self, job_id: int) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return self._public(job) if job is not None else None

    def timezone_from(self, job_id: int) -> int:
        """Return the stored ``timezone_from``, which the API itself never returns."""
        with self._lock:
            return self._jobs[job_id]["_timezone_from"]

    # --- faults and counters ---------------------------------------------

    def inject(self, kind: str, op: str | None = None, **options: Any) -> Fault:
        """Queue a fault for the next request(s) of operation ``op`` (any when None)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if op is not None and op not in OPERATIONS:
            raise ValueError(f"unknown operation {op!r}; use one of {', '.join(OPERATIONS)}")
        if kind == "rate_limit":
            options.setdefault("status", 429)
            options.setdefault("retry_after", "0")
        fault = Fault(kind, op, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [f for f in self._faults if f.hits < f.times]

    def count(self, op: str | None = None) -> int:
        """Return how many requests of ``op`` (all when None) the server received."""
        with self._lock:
            return self.counts[op] if op else sum(self.counts.values())

    @property
    def writes(self) -> int:
        """Return the number of create, update and delete requests received."""
        with self._lock:
            return self.counts["create"] + self.counts["update"] + self.counts["delete"]

    def reset_counters(self) -> None:
        with self._lock:
            self.counts.clear()
            self.log.clear()

    # --- request handling (called from handler threads) -------------------

    def _take_fault(self, op: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.hits >= fault.times or (fault.op is not None and fault.op != op):
                    continue
                if fault.kind == "empty_404" and op != "list":
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                return fault
        return None

    def _count(self, op: str) -> None:
        with self._lock:
            self.counts[op] += 1

    def _log(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.log.append((method, path, status))

    def _public(self, job: dict[str, Any]) -> dict[str, Any]:
        return {key: job.get(key) for key in JOB_FIELDS_RETURNED}

    def _store_new(self, fields: dict[str, Any]) -> int:
        job_id = next(self._ids)
        job: dict[str, Any] = {
            "cron_job_id": job_id,
            "cron_job_name": "",
            "description": "",
            "timezone": self.account_timezone,
            "http_method": "GET",
            "http_headers": "",
            "http_message_body": "",
            "http_auth_user": "",
            "http_auth_pw": "",
            "timeout": 30,
            "success_criterion": 1,
            "success_regexp": "",
            "failure_regexp": "",
            "send_email": 0,
            "email_threshold": 1,
            "send_slack": 0,
            "slack_threshold": 1,
            "slack_url": "",
            "send_webhook": 0,
            "webhook_url": "",
            "webhook_http_method": "POST",
            "webhook_data": "",
            "status": 1,
            "group_id": 0,
            "epds_occupied": 0,
            "total_successes": 0,
            "total_failures": 0,
            "current_failures": 0,
            "_timezone_from": 1,
        }
        self._apply_fields(job, fields)
        self._jobs[job_id] = job
        return job_id

    @staticmethod
    def _apply_fields(job: dict[str, Any], fields: dict[str, Any]) -> None:
        for key, value in fields.items():
            if key == "timezone_from":
                job["_timezone_from"] = value
            elif key in JOB_FIELDS_RETURNED and key != "cron_job_id":
                job[key] = value

    def handle(self, op: str, job_id: int | None, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """Run one authenticated API operation against the store; return (status, JSON body)."""
        try:
            if op == "list":
                return self._list(query)
            if op == "create":
                fields = _validate_fields(body, partial=False)
                with self._lock:
                    return 201, {"cron_job_id": self._store_new(fields)}
            with self._lock:
                job = self._jobs.get(job_id) if job_id is not None else None
                if job is None:
                    return 404, {"message": f"Cron job {job_id} not found."}
                if op == "get":
                    return 200, self._public(job)
                if op == "update":
                    fields = _validate_fields(body, partial=True)
                    self._apply_fields(job, fields)
                    return 200, {"cron_job_id": job_id}
                if op == "delete":
                    del self._jobs[job_id]
                    return 204, None
        except _ValidationError as exc:
            return exc.status, {"message": exc.message}
        return 404, {"message": "Not found."}

    def _list(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        def number(name: str, default: int, low: int, high: int) -> int:
            raw = query.get(name, [str(default)])[-1]
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise _ValidationError(400, f"{name} must be an integer from {low} to {high}.")
            return int(raw)

        page = number("page", 1, 1, 10**9)
        page_size = number("page_size", 10, 1, 500)
        sort_by = query.get("sort_by", ["cron_job_id"])[-1]
        order = query.get("order", ["desc"])[-1]
        if sort_by not in SORT_FIELDS:
            raise _ValidationError(400, f"sort_by must be one of {', '.join(SORT_FIELDS)}.")
        if order not in ("asc", "desc"):
            raise _ValidationError(400, "order must be asc or desc.")
        with self._lock:
            jobs = sorted(
                self._jobs.values(),
                key=lambda job: (job.get(sort_by) or 0, job["cron_job_id"]) if sort_by != "cron_job_name"
                else (job.get(sort_by) or "", job["cron_job_id"]),
                reverse=order == "desc",
            )
            selected = [self._public(job) for job in jobs[(page - 1) * page_size : page * page_size]]
        if not selected and self.beyond_last_page == "404":
            return 404, {"message": "No cron jobs found."}
        return 200, {"cron_jobs": selected}


def _validate_fields(body: Any, *, partial: bool) -> dict[str, Any]:
    """Check a create or update body the way EasyCron documents its limits; raise _ValidationError."""
    if not isinstance(body, dict):
        raise _ValidationError(400, "The request body must be a JSON object.")

    if not partial:
        for required in ("url", "cron_expression"):
            if not body.get(required):
                raise _ValidationError(422, f"The {required} field is required.")

    limits = {"url": 1024, "cron_job_name": 100, "cron_expression": 1000, "description": 1024,
              "failure_regexp": 255, "success_regexp": 255}
    for name, limit in limits.items():
        if name in body:
            if not isinstance(body[name], str):
                raise _ValidationError(422, f"The {name} field must be a string.")
            if len(body[name]) > limit:
                raise _ValidationError(422, f"The {name} may not be greater than {limit} characters.")

    if "cron_expression" in body and len(body["cron_expression"].split()) not in (5, 6):
        raise _ValidationError(422, "The cron expression is invalid.")
    if "url" in body and not body["url"].startswith(("http://", "https://")):
        raise _ValidationError(422, "The url format is invalid.")

    choices = {"timezone_from": (1, 2), "success_criterion": (1, 2, 3), "status": (0, 1)}
    for name, allowed in choices.items():
        if name in body and body[name] not in allowed:
            raise _ValidationError(422, f"The {name} must be one of {', '.join(map(str, allowed))}.")
    if "http_method" in body and str(body["http_method"]).upper() not in HTTP_METHODS:
        raise _ValidationError(422, "The http_method is invalid.")

    if body.get("timezone_from") == 2 or "timezone" in body:
        zone = body.get("timezone")
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise _ValidationError(422, f"The timezone {zone!r} is invalid.") from None
    return dict(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() ends the connections itself, see close_connections
    fake: FakeEasyCron

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection; handler threads waiting on idle keep-alive ones then end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that vanish mid-request (killed syncs, timeouts); report anything else."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real service behind its load balancer
    server: _Server
    timeout = 30  # seconds an idle keep-alive connection is kept
    # Headers and body go out in two writes; with Nagle on, the body waits for
    # the client's delayed ACK (about 40 ms on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        path = parts.path[3:] if parts.path.startswith("/v1/") else parts.path
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        if path == "/_fake/state":
            return self._send_state(method, path)
        op, job_id = _route(method, path)
        fake._count(op or "unknown")
        with fake._lock:
            fake.in_flight += 1
        try:
            self._handle(method, path, op, job_id, parts.query, raw_body)
        finally:
            with fake._lock:
                fake.in_flight -= 1

    def _send_state(self, method: str, path: str) -> None:
        """Answer the control call that tools outside the server's process use to inspect it."""
        fake = self.server.fake
        if self.headers.get("X-API-Key") != fake.api_key:
            return self._send(method, path, 401, {"message": "Invalid API key."})
        with fake._lock:
            state = {"in_flight": fake.in_flight, "counts": dict(fake.counts), "jobs": len(fake._jobs)}
        self._send(method, path, 200, state)

    def _handle(
        self, method: str, path: str, op: str | None, job_id: int | None, query: str, raw_body: bytes
    ) -> None:
        fake = self.server.fake
        if fake.latency_seconds:
            time.sleep(fake.latency_seconds)

        fault = fake._take_fault(op) if op else None
        if fault is not None and fault.kind in ("status", "rate_limit"):
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            message = "Too many requests." if fault.status == 429 else "Service unavailable."
            return self._send(method, path, fault.status, {"message": message}, headers)
        if fault is not None and fault.kind == "reset":
            return self._reset(method, path)
        if fault is not None and fault.kind == "empty_404":
            return self._send(method, path, 404, {"message": "No cron jobs found."})

        if self.headers.get("X-API-Key") != fake.api_key:
            return self._send(method, path, 401, {"message": "Invalid API key."})
        if op is None:
            return self._send(method, path, 404, {"message": "Not found."})
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return self._send(method, path, 400, {"message": "The request body is not valid JSON."})
        status, payload = fake.handle(op, job_id, parse_qs(query), body)

        if fault is not None and fault.kind == "commit_then_drop":
            return self._reset(method, path)
        if fault is not None and fault.kind == "commit_then_hang":
            time.sleep(fault.seconds)
        self._send(method, path, status, payload)

    def _send(
        self, method: str, path: str, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        self.server.fake._log(method, path, status)
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status == 204:
                self.end_headers()
                return
            data = json.dumps(payload).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True  # the client gave up (for example after a read timeout)

    def _reset(self, method: str, path: str) -> None:
        """Abort the connection with a TCP reset, so the client sees no response at all."""
        self.server.fake._log(method, path, None)
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


def _route(method: str, path: str) -> tuple[str | None, int | None]:
    """Map a request to (operation, job id); the operation is None for an unknown route."""
    segments = [s for s in path.split("/") if s]
    if segments == ["cron-jobs"]:
        return {"GET": "list", "POST": "create"}.get(method), None
    if len(segments) == 2 and segments[0] == "cron-jobs" and segments[1].isdigit():
        return {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method), int(segments[1])
    return None, None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local EasyCron API v1 stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--api-key", default="test-easycron-key", help="the X-API-Key value accepted")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request, in ms")
    parser.add_argument("--beyond-last-page", choices=("empty", "404"), default="empty",
                        help="answer to a list page past the end: an empty list or HTTP 404")
    parser.add_argument("--foreign-jobs", type=int, default=0,
                        help="number of jobs without an ics2conf name to seed")
    args = parser.parse_args(argv)
    fake = FakeEasyCron(args.api_key, latency_seconds=args.latency_ms / 1000,
                        beyond_last_page=args.beyond_last_page)
    for number in range(args.foreign_jobs):
        fake.add_job(cron_job_name=f"backup {number}", url=f"https://example.com/backup/{number}")
    print(fake.start(args.host, args.port), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
