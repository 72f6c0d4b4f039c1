"""What the `lake` commands show on stderr while they work: row counts, byte progress, logs."""

from __future__ import annotations

import logging
import sys
import time


class RowProgress:
    """Reports rows done on stderr at most every few seconds."""

    def __init__(self, label: str, total: int, every: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.started = self.last = time.perf_counter()

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if now - self.last < self.every or done >= self.total:
            return
        self.last = now
        rate = done / (now - self.started)
        print(f"{self.label}: {done:,}/{self.total:,} rows, {rate:,.0f} rows/s",
              file=sys.stderr, flush=True)


def log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="lake: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)


def bytes_progress(command: str):
    from jobs.ingest.progress import Progress

    return lambda label, total: Progress(f"lake {command}: {label}", total)
