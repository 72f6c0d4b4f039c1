"""Progress of long transfers on stderr: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """`update(n)` as bytes flow; `done()` at the end.

    On a terminal the line is redrawn at most 4 times a second with bytes, rate and ETA; in a
    log (not a terminal: CI, SageMaker, a pipe) one line every `log_every` seconds.
    """

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 log_every: float = 15.0, clock=time.monotonic) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.every = 0.25 if self.live else log_every
        self.clock = clock
        self.started = self.last = clock()
        self.done_bytes = 0

    def update(self, n: int) -> None:
        self.done_bytes += n
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self._show(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or self.clock()) - self.started, 1e-9)
        rate = self.done_bytes / elapsed
        text = f"{self.label}: {_megabytes(self.done_bytes)}"
        if self.total:
            share = min(self.done_bytes / self.total, 1.0)
            text += f" of {_megabytes(self.total)} ({share:.0%})"
        text += f", {rate / 1e6:,.1f} MB/s"
        if self.total and rate > 0 and self.done_bytes < self.total:
            text += f", ETA {_clock((self.total - self.done_bytes) / rate)}"
        return text

    def _show(self, now: float) -> None:
        if self.live:
            self.stream.write("\r\x1b[K" + self.line(now))
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()

    def done(self) -> None:
        now = self.clock()
        if self.live:
            self.stream.write("\r\x1b[K")
        self.stream.write(self.line(now) + f" in {_clock(now - self.started)}\n")
        self.stream.flush()
