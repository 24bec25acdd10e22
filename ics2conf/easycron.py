"""Client for the EasyCron API v1: list, create, update and delete cron jobs.

Every request has a connect and a read timeout. Failures are retried by the
rules below, with exponential backoff, jitter and ``Retry-After``, inside a
retry budget shared by all requests of one client:

    429                          retried for every method (the request was rejected)
    5xx                          retried, except for POST: a create that got a 5xx
                                 may have committed, so it raises EasyCronUnknownOutcome
    connection refused, connect
    timeout                      retried for every method (nothing reached the server)
    reset or read timeout after
    the request was sent         retried for GET and DELETE, which are idempotent;
                                 POST and PATCH raise EasyCronUnknownOutcome
    401, 403                     EasyCronAuthError, never retried
    other 4xx                    EasyCronError naming the job and the API's message

tenacity's ``Retrying`` runs the loop. It retries an attempt that raised
``_RetryableFailure`` (any other error propagates at once), stops after
``max_attempts`` and waits an exponential backoff with equal jitter: half of
min(backoff_max, backoff_base * 2 ** (attempt - 1)) fixed, half random. The
client adds three pieces that tenacity has no built-in for. The wait is at
least the server's ``Retry-After``. Each wait is reserved from a budget of
``retry_budget_seconds`` shared by all requests of one client, and the
retries stop when the next wait does not fit in what is left. After a 429 or
a ``Retry-After``, every request of the client waits until that back-off ends,
so no worker of a pool sends while another backs off. urllib3's own
``Retry`` stays off because these rules differ per method within one
session, and it would sleep for any ``Retry-After`` it is sent.

On ``EasyCronUnknownOutcome`` the caller must re-list the account before
trying the write again, so a job is never created twice.

The API key travels only in the ``X-API-Key`` header. It is never logged,
never part of a message and never part of ``repr(client)``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, cast
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)
from urllib3.util.retry import Retry

from .errors import ConfigError, EasyCronAuthError, EasyCronError, EasyCronUnknownOutcome
from .model import (
    MAX_DESCRIPTION_LENGTH,
    MAX_EXPRESSION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_URL_LENGTH,
    JobSpec,
    RemoteJob,
)
from .secrets import mask_url, redact

log = logging.getLogger("ics2conf.easycron")

JOBS_PATH = "/cron-jobs"
LIST_PAGE_SIZE = 500  # the largest page_size API v1 accepts
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})


class EasyCronUnavailable(EasyCronError):
    """A request that kept failing with 429, 5xx or a connection error until retries ran out."""


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP attempt, passed to the client's ``on_request`` callback."""

    method: str
    path: str  # relative to the base URL, with the query string
    status: int | None  # None when no response arrived
    seconds: float
    attempt: int
    error: str | None = None


class _RetryableFailure(Exception):
    """A failure of one attempt that the rules retry. The retry loop catches it, so callers never see it."""

    def __init__(self, description: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Call:
    """One API call with everything an attempt, a retry log line and the final error need."""

    method: str
    path: str
    params: Mapping[str, Any] | None
    json: Mapping[str, Any] | None
    job_name: str | None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def shown_path(self) -> str:
        """The path with its query string, as the trace and RequestRecord show it."""
        if not self.params:
            return self.path
        return self.path + "?" + "&".join(f"{k}={v}" for k, v in self.params.items())


class EasyCronClient:
    """A thread-safe EasyCron API v1 client; one instance may serve a pool of workers."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry_budget_seconds: float = 120.0,
        max_attempts: int = 6,
        backoff_base_seconds: float = 0.5,
        backoff_max_seconds: float = 30.0,
        on_request: Callable[[RequestRecord], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key:
            raise ConfigError("The EasyCron API key is missing: set EASYCRON_API_KEY.")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"Invalid EasyCron API URL {mask_url(base_url)!r}: use an http(s) URL such as"
                " https://api.easycron.com/v1 in EASYCRON_API_URL."
            )
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = (connect_timeout, read_timeout)
        self._max_attempts = max(1, max_attempts)
        # Equal jitter, as the module docstring describes: a fixed half plus a random half.
        self._backoff = wait_exponential(
            multiplier=backoff_base_seconds / 2, max=backoff_max_seconds / 2
        ) + wait_random_exponential(multiplier=backoff_base_seconds / 2, max=backoff_max_seconds / 2)
        self._on_request = on_request
        self._sleep = sleep
        if session is None:
            session = requests.Session()
            # Room for a worker pool; urllib3 itself never retries (max_retries=0).
            session.mount("http://", HTTPAdapter(pool_maxsize=32, max_retries=0))
            session.mount("https://", HTTPAdapter(pool_maxsize=32, max_retries=0))
        self._session = session
        self._lock = threading.Lock()
        self._budget_left = retry_budget_seconds
        self._pause_until = 0.0  # monotonic time before which no request is sent (shared back-off)

    def __repr__(self) -> str:
        return f"EasyCronClient({self.base_url!r})"

    @property
    def retry_budget_exhausted(self) -> bool:
        """Whether the shared retry budget is spent, so failures are no longer retried."""
        with self._lock:
            return self._budget_left <= 0

    # --- public calls ----------------------------------------------------

    def list_jobs(self) -> list[RemoteJob]:
        """Return every job in the account, reading all pages in ascending id order.

        A 404 on the list call means "no jobs" (one public client relies on
        that) or, on a later page, the end of the list, when a second request
        for the same page confirms it.
        """
        jobs: list[RemoteJob] = []
        seen: set[int] = set()
        page = 1
        while True:
            params = {"page": page, "page_size": LIST_PAGE_SIZE, "sort_by": "cron_job_id", "order": "asc"}
            response = self._request("GET", JOBS_PATH, params=params)
            if response.status_code == 404:
                # Taking a stray 404 for "no more jobs" would make the plan create
                # every job again, so the end of the list is confirmed once.
                response = self._request("GET", JOBS_PATH, params=params)
            if response.status_code == 404:
                break
            body = self._json(response, "GET", JOBS_PATH)
            batch = body.get("cron_jobs") if isinstance(body, dict) else None
            if not isinstance(batch, list):
                raise EasyCronError(
                    f"EasyCron returned an unexpected list response for page {page} (no cron_jobs array).",
                    status=response.status_code,
                    endpoint=f"GET {JOBS_PATH}",
                )
            new = 0
            for raw in batch:
                job = parse_remote_job(raw)
                if job.id not in seen:
                    seen.add(job.id)
                    jobs.append(job)
                    new += 1
            if len(batch) < LIST_PAGE_SIZE:
                break
            if new == 0:
                raise EasyCronError(
                    f"EasyCron returned page {page} of the job list with no new jobs; the list call"
                    " ignores paging, so the account cannot be read safely.",
                    endpoint=f"GET {JOBS_PATH}",
                )
            page += 1
        # NOTE: the pages are not a snapshot. A job deleted by someone else while
        # the pages are read shifts the next page, so one job can be missing from
        # this listing. The following sync lists it again and removes any duplicate.
        return jobs

    def get_job(self, job_id: int) -> RemoteJob | None:
        """Return one job, or None when the account has no job with this id."""
        path = f"{JOBS_PATH}/{int(job_id)}"
        response = self._request("GET", path)
        if response.status_code == 404:
            return None
        return parse_remote_job(self._json(response, "GET", path))

    def create(self, spec: JobSpec) -> int:
        """Create a job and return its id.

        Raises EasyCronUnknownOutcome when the request was sent but no usable
        response arrived; the caller must re-list before creating it again.
        """
        validate_spec(spec)
        response = self._request("POST", JOBS_PATH, json=spec.to_api(), job_name=spec.name)
        if response.status_code == 404:
            raise self._status_error(response, "POST", JOBS_PATH, spec.name)
        try:
            return int(self._json(response, "POST", JOBS_PATH)["cron_job_id"])
        except (EasyCronError, KeyError, TypeError, ValueError) as exc:
            raise EasyCronUnknownOutcome(
                f"EasyCron responded to the create of job {spec.name} with HTTP {response.status_code}"
                " but no job id, so the job may or may not exist; the account must be re-listed.",
                status=response.status_code,
                endpoint=f"POST {JOBS_PATH}",
            ) from exc

    def update(self, job_id: int, spec: JobSpec) -> None:
        """Replace every managed field of a job, ``timezone_from`` included.

        Raises EasyCronError with status 404 when the job no longer exists.
        """
        validate_spec(spec)
        path = f"{JOBS_PATH}/{int(job_id)}"
        response = self._request("PATCH", path, json=spec.to_api(), job_name=spec.name)
        if response.status_code == 404:
            raise EasyCronError(
                f"Job {spec.name} (id {job_id}) was not found in EasyCron; it was deleted"
                " after the account was listed. The next sync creates it again.",
                status=404,
                endpoint=f"PATCH {JOBS_PATH}/{{id}}",
            )

    def delete(self, job_id: int, *, name: str | None = None) -> None:
        """Delete a job; a job that is already gone (404) counts as deleted."""
        path = f"{JOBS_PATH}/{int(job_id)}"
        self._request("DELETE", path, job_name=name or f"id {job_id}")

    # --- transport -------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        job_name: str | None = None,
    ) -> requests.Response:
        """Send one call with retries; return a 2xx or 404 response or raise an EasyCronError."""
        call = _Call(method, path, params, json, job_name)
        retrying = Retrying(
            retry=retry_if_exception_type(_RetryableFailure),
            wait=self._wait,
            # tenacity computes the wait before it calls stop, and stop_any checks its
            # conditions in order, so the budget is charged only for a wait that is slept.
            stop=stop_after_attempt(self._max_attempts) | self._stop_when_budget_spent,
            sleep=self._sleep,
            before_sleep=functools.partial(self._before_retry, call),
            retry_error_callback=functools.partial(self._give_up, call),
        )
        for attempt in retrying:
            with attempt:
                return self._send(call, attempt.retry_state.attempt_number)
        # Unreachable: a success returns above, and _give_up raises when the retries stop.
        raise AssertionError(f"retry loop for {call.endpoint} ended without a response")

    def _send(self, call: _Call, attempt: int) -> requests.Response:
        """Send one attempt and return its 2xx or 404 response.

        Raise _RetryableFailure for a failure that the rules retry and an EasyCronError for any other.
        """
        headers = {"X-API-Key": self._api_key, "Accept": "application/json"}
        self._wait_for_pause()
        sent_at = time.monotonic()
        try:
            response = self._session.request(
                call.method,
                self.base_url + call.path,
                params=call.params,
                json=call.json,
                headers=headers,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            description = self._describe_exception(exc)
            self._record(call.method, call.shown_path, None, sent_at, attempt, description)
            if _may_have_reached_server(exc) and call.method not in IDEMPOTENT_METHODS:
                raise EasyCronUnknownOutcome(
                    f"The {_verb(call.method)} of job {call.job_name} may or may not have happened:"
                    f" {description} after the request was sent. The account is re-listed"
                    " before the job is written again.",
                    endpoint=call.endpoint,
                ) from None
            raise _RetryableFailure(description) from None

        status = response.status_code
        self._record(call.method, call.shown_path, status, sent_at, attempt, None)
        if status < 400 or status == 404:
            return response
        if status in (401, 403):
            raise EasyCronAuthError(
                f"EasyCron rejected the API key (HTTP {status} on {call.endpoint}):"
                " check EASYCRON_API_KEY.",
                status=status,
                endpoint=call.endpoint,
                api_message=self._api_message(response),
            )
        if status not in RETRYABLE_STATUSES:
            raise self._status_error(response, call.method, call.path, call.job_name)
        if status >= 500 and call.method == "POST":
            raise EasyCronUnknownOutcome(
                f"The create of job {call.job_name} may or may not have happened: EasyCron"
                f" returned HTTP {status} ({self._api_message(response)}). The account is"
                " re-listed before the job is created again.",
                status=status,
                endpoint=call.endpoint,
                api_message=self._api_message(response),
            )
        raise _RetryableFailure(
            f"HTTP {status} ({self._api_message(response)})",
            status=status,
            retry_after=self._retry_after(response),
        )

    def _wait(self, retry_state: RetryCallState) -> float:
        """Return the backoff before the next attempt, or the Retry-After when that is longer."""
        delay = self._backoff(retry_state)
        failure = _failure_of(retry_state)
        if failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        return delay

    def _stop_when_budget_spent(self, retry_state: RetryCallState) -> bool:
        """Reserve the coming wait from the shared retry budget, or return True to stop."""
        delay = retry_state.upcoming_sleep
        failure = _failure_of(retry_state)
        with self._lock:
            if delay > self._budget_left:
                if failure.retry_after is not None and failure.retry_after > self._budget_left:
                    failure.description += (
                        f", and its Retry-After of {failure.retry_after:.0f} s exceeds the"
                        f" remaining retry budget of {max(self._budget_left, 0):.0f} s"
                    )
                self._budget_left = min(self._budget_left, 0)
                return True
            self._budget_left -= delay
        return False

    def _before_retry(self, call: _Call, retry_state: RetryCallState) -> None:
        """Log the coming retry and, after a 429 or a Retry-After, pause every request."""
        failure = _failure_of(retry_state)
        delay = retry_state.upcoming_sleep
        log.info(
            "retrying %s in %.1f s after %s (attempt %d of %d)",
            call.endpoint, delay, failure.description, retry_state.attempt_number + 1, self._max_attempts,
        )
        if failure.status == 429 or failure.retry_after is not None:
            self._pause_everyone(delay)

    def _give_up(self, call: _Call, retry_state: RetryCallState) -> NoReturn:
        failure = _failure_of(retry_state)
        target = f" for job {call.job_name}" if call.job_name else ""
        raise EasyCronUnavailable(
            f"EasyCron request {call.endpoint}{target} failed after {retry_state.attempt_number}"
            f" attempt(s) in {time.monotonic() - retry_state.start_time:.1f} s:"
            f" {failure.description}. Run the sync again later.",
            status=failure.status,
            endpoint=call.endpoint,
        )

    def _pause_everyone(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def _wait_for_pause(self) -> None:
        """Hold this request while another one is backing off from a 429 or a Retry-After."""
        with self._lock:
            wait = self._pause_until - time.monotonic()
        if wait > 0:
            self._sleep(wait)

    def _record(
        self, method: str, path: str, status: int | None, sent_at: float, attempt: int, error: str | None
    ) -> None:
        seconds = time.monotonic() - sent_at
        log.debug(
            "%s %s -> %s in %.0f ms (attempt %d)",
            method, path, status if status is not None else error, seconds * 1000, attempt,
        )
        if self._on_request is not None:
            self._on_request(RequestRecord(method, path, status, seconds, attempt, error))

    def _describe_exception(self, exc: requests.RequestException) -> str:
        if isinstance(exc, requests.ConnectTimeout):
            text = "connect timeout"
        elif isinstance(exc, requests.ReadTimeout):
            text = f"no response within the read timeout of {self._timeout[1]:g} s"
        elif isinstance(exc, requests.ConnectionError):
            text = "connection failed" if not _may_have_reached_server(exc) else "connection dropped"
        else:
            text = type(exc).__name__
        return redact(text, [self._api_key])

    def _api_message(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            text = body["message"]
        else:
            text = response.text.strip()[:200] or response.reason or "no message"
        return redact(text, [self._api_key])

    def _status_error(
        self, response: requests.Response, method: str, path: str, job_name: str | None
    ) -> EasyCronError:
        status = response.status_code
        message = self._api_message(response)
        target = f"job {job_name}" if job_name else f"{method} {path}"
        return EasyCronError(
            f"EasyCron rejected {target} (HTTP {status} on {method} {path}): {message}",
            status=status,
            endpoint=f"{method} {path}",
            api_message=message,
        )

    def _json(self, response: requests.Response, method: str, path: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise EasyCronError(
                f"EasyCron returned HTTP {response.status_code} for {method} {path} with a body"
                " that is not JSON.",
                status=response.status_code,
                endpoint=f"{method} {path}",
            ) from None

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            # Seconds or an HTTP date (RFC 9110, section 10.2.3).
            return Retry(retry_after_max=86400).parse_retry_after(value)
        except urllib3.exceptions.InvalidHeader:
            return None


def _failure_of(retry_state: RetryCallState) -> _RetryableFailure:
    """Return the failure of the attempt that just ended, which the retry predicate admitted."""
    assert retry_state.outcome is not None
    return cast(_RetryableFailure, retry_state.outcome.exception())


def _verb(method: str) -> str:
    return {"POST": "create", "PATCH": "update", "DELETE": "delete"}.get(method, "request")


def _may_have_reached_server(exc: requests.RequestException) -> bool:
    """Return False only when the request certainly never reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        # NewConnectionError (refused, unreachable) is a ConnectTimeoutError subclass.
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            return False
    return True


def validate_spec(spec: JobSpec) -> None:
    """Raise EasyCronError when a job exceeds one of EasyCron's field length limits."""
    limits = (
        ("URL", spec.url, MAX_URL_LENGTH),
        ("name", spec.name, MAX_NAME_LENGTH),
        ("cron expression", spec.cron_expression, MAX_EXPRESSION_LENGTH),
        ("description", spec.description, MAX_DESCRIPTION_LENGTH),
    )
    problems = [
        f"its {label} is {len(value)} characters long, more than EasyCron's limit of {limit}"
        for label, value, limit in limits
        if len(value) > limit
    ]
    if problems:
        raise EasyCronError(
            f"Job {spec.name[:MAX_NAME_LENGTH]} was not sent to EasyCron: {'; '.join(problems)}."
            " Shorten the event's data (for example fewer occurrences per job or a shorter"
            " caller id) and sync again."
        )


def _as_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_remote_job(raw: Any) -> RemoteJob:
    """Build a RemoteJob from one job object of the API; ids and flags may be numbers or strings."""
    if not isinstance(raw, dict) or _as_int(raw.get("cron_job_id")) is None:
        raise EasyCronError("EasyCron returned a job without a cron_job_id.", endpoint=f"GET {JOBS_PATH}")
    return RemoteJob(
        id=int(raw["cron_job_id"]),
        name=str(raw.get("cron_job_name") or ""),
        url=str(raw.get("url") or ""),
        cron_expression=str(raw.get("cron_expression") or ""),
        timezone=str(raw.get("timezone") or ""),
        description=str(raw.get("description") or ""),
        http_method=str(raw.get("http_method") or "GET").upper(),
        success_criterion=_as_int(raw.get("success_criterion")),
        failure_regexp=raw.get("failure_regexp") if isinstance(raw.get("failure_regexp"), str) else None,
        status=_as_int(raw.get("status")),
        raw=raw,
    )
