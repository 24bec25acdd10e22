"""The CLI's output streams: stdout for results, stderr for messages, logs and progress.

Every stream the CLI writes to is wrapped in ``RedactingStream``, so an API key that reaches a
message by any path is masked before it leaves the process. Logging goes through the same
redaction with ``RedactingFilter``. Messages on stderr show control characters escaped, because
they may quote calendar text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console

from ics2conf.render_text import printable
from ics2conf.secrets import redact

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


class RedactingStream:
    """A text stream that masks the given secrets in everything written to it."""

    def __init__(self, stream: TextIO, secrets: Sequence[str]):
        self._stream = stream
        self._secrets = tuple(s for s in secrets if s)

    def write(self, text: str) -> int:
        self._stream.write(redact(text, self._secrets))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        isatty = getattr(self._stream, "isatty", None)
        return bool(isatty and isatty())

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message of every record."""

    def __init__(self, secrets: Sequence[str]):
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        return True


class PrintableFormatter(logging.Formatter):
    """A log formatter that escapes control characters, as log lines may quote account or invite text."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), None, newlines=True)


class Output:
    """The consoles and logging of one command run."""

    def __init__(self, secrets: Sequence[str], *, quiet: bool = False, verbose: bool = False):
        self.secrets = tuple(s for s in secrets if s)
        self.quiet = quiet
        self.verbose = verbose
        self.stdout = RedactingStream(sys.stdout, self.secrets)
        self.stderr = RedactingStream(sys.stderr, self.secrets)
        # soft_wrap: a long line stays one line in a pipe or a log, where rich would wrap at 80.
        # markup and emoji off: event text such as "[b]" or ":phone:" prints as written.
        options = dict(highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.console = Console(file=self.stdout, **options)
        self.err_console = Console(file=self.stderr, **options)
        self._handlers: list[logging.Handler] = []
        self._saved_logger_state: tuple[int, bool] | None = None

    def write_json(self, text: str) -> None:
        """Write one JSON document to stdout."""
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def message(self, text: str, *, style: str | None = None) -> None:
        """Write a message line to stderr unless --quiet."""
        if not self.quiet:
            self.err_console.print(printable(text, None, newlines=True), style=style, markup=False)

    def error(self, text: str) -> None:
        """Write an error line to stderr, even with --quiet."""
        self.err_console.print(f"Error: {printable(text, None, newlines=True)}", style="red", markup=False)

    @property
    def stderr_is_terminal(self) -> bool:
        return self.stderr.isatty()

    def setup_logging(self, log_file: Path | None) -> None:
        """Send ics2conf's logs to stderr (requests with --verbose) and to ``log_file``."""
        logger = logging.getLogger("ics2conf")
        self._saved_logger_state = (logger.level, logger.propagate)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        redacting = RedactingFilter(self.secrets)

        console_handler = logging.StreamHandler(self.stderr)
        if self.verbose:
            console_handler.setLevel(logging.DEBUG)
        elif self.quiet:
            console_handler.setLevel(logging.ERROR)
        else:
            console_handler.setLevel(logging.WARNING)
        console_handler.setFormatter(PrintableFormatter("%(levelname)s: %(message)s"))
        console_handler.addFilter(redacting)
        self._add_handler(logger, console_handler)

        if log_file is not None:
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
            file_handler.setLevel(logging.INFO)
            file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
            file_handler.addFilter(redacting)
            self._add_handler(logger, file_handler)

    def _add_handler(self, logger: logging.Logger, handler: logging.Handler) -> None:
        logger.addHandler(handler)
        self._handlers.append(handler)

    def close(self) -> None:
        """Detach and close the log handlers this run added and restore the logger's level."""
        logger = logging.getLogger("ics2conf")
        for handler in self._handlers:
            logger.removeHandler(handler)
            handler.close()
        self._handlers.clear()
        if self._saved_logger_state is not None:
            logger.level, logger.propagate = self._saved_logger_state
            self._saved_logger_state = None
