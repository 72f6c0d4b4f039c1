"""The stack config's checks: each one raises ConfigError, one sentence that names the key and the
values it accepts (Pulumi prints a RunError's message alone, without a traceback)."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping
from typing import Any

import pulumi

from jobs.contract import Limit

NAMESPACE = "datalake"


class ConfigError(pulumi.RunError):
    """A bad stack setting. Pulumi prints RunError's message alone, without a traceback."""


def _key(path: str) -> str:
    return f"`{NAMESPACE}:{path}`"


def _require(raw: Mapping[str, Any], name: str, path: str) -> Any:
    if raw.get(name) is None:
        raise ConfigError(f"Config key {_key(path)} is required; set it in Pulumi.<stack>.yaml "
                          "(see the README's config table).")
    return raw[name]


class UnknownKeyError(ConfigError):
    """A key the program does not know: a misspelling that would otherwise be ignored in
    silence (`protected` for `protect` leaves prod unprotected)."""

    def __init__(self, path: str, known: tuple[str, ...], source: str = "Pulumi.<stack>.yaml"):
        self.path, self.known = path, known
        parent, _, name = path.rpartition(".")
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or \
            difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1, cutoff=0.6)
        if close:
            match = next(k for k in known if k.lower() == close[0].lower())
            hint = f"did you mean {_key('.'.join(filter(None, (parent, match))))}?"
        else:
            hint = f"the keys it knows there are {', '.join(known)}."
        super().__init__(f"Config key {_key(path)} in {source} is not a setting of this "
                         f"program; {hint}")

    def in_file(self, source: str) -> UnknownKeyError:
        return UnknownKeyError(self.path, self.known, source)


def unknown_keys(value: Mapping[str, Any], path: str, known: tuple[str, ...]) -> None:
    """Stop at the first key (in name order) that `known` does not hold."""
    for name in sorted(set(value) - set(known)):
        raise UnknownKeyError(f"{path}.{name}" if path else name, known)


def _object(value: Any, path: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"Config key {_key(path)} must be an object with keys "
                          f"{', '.join(known)} (got {value!r}).")
    unknown_keys(value, path, known)
    return value


def _choice(value: Any, path: str, choices: tuple) -> Any:
    if value not in choices:
        shown = ", ".join(str(c) for c in choices)
        raise ConfigError(f"Config key {_key(path)} must be one of {shown} (got {value!r}).")
    return value


def _int(value: Any, path: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigError(f"Config key {_key(path)} must be a whole number {bounds} "
                          f"(got {value!r}).")
    return value


def _limited(value: Any, path: str, limit: Limit) -> int:
    """A whole number within one of the limits the runtime enforces too (`jobs.contract`)."""
    problem = limit.problem(value)
    if problem:
        raise ConfigError(f"Config key {_key(path)} {problem} (got {value!r}).")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"Config key {_key(path)} must be true or false (got {value!r}).")
    return value


# AWS cron: cron(minutes hours day-of-month month day-of-week year), one of the two days "?".
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"
_CRON_FIELDS = (
    ("minutes", 0, 59, "", r"[,\-*/]"),
    ("hours", 0, 23, "", r"[,\-*/]"),
    ("day-of-month", 1, 31, "", r"[,\-*?/LW]"),
    ("month", 1, 12, _MONTHS, r"[,\-*/]"),
    ("day-of-week", 1, 7, _DAYS, r"[,\-*?/L]"),  # Glue takes no `#` (unlike EventBridge)
    ("year", 1970, 2199, "", r"[,\-*/]"),
)
# Glue runs a schedule at most every 5 minutes (monitor-data-warehouse-schedule.html).
MIN_SCHEDULE_MINUTES = 5
CRON_HINT = ("an AWS cron expression `cron(minutes hours day-of-month month day-of-week year)` "
             "with `?` in exactly one of the two day fields, e.g. `cron(0 6 * * ? *)`")


def validate_cron(expression: Any, path: str = "schedule") -> str:
    """Return `expression` if it is AWS's 6-field cron form, else raise ConfigError."""
    def fail(why: str) -> ConfigError:
        return ConfigError(f"Config key {_key(path)} must be {CRON_HINT}; "
                           f"{expression!r} {why}.")

    if not isinstance(expression, str):
        raise fail("is not a string")
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        raise fail("is not wrapped in cron(...)")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise fail(f"has {len(parts)} fields, not 6")
    for text, (name, low, high, names, symbols) in zip(parts, _CRON_FIELDS, strict=True):
        token = rf"(\d+|{names})" if names else r"(\d+)"
        if not re.fullmatch(rf"({token}|{symbols})+", text):
            raise fail(f"has an invalid {name} field {text!r}")
        for number in re.findall(r"\d+", text.split("#")[0]):
            # Step values after "/" are counts, not field values.
            if f"/{number}" in text:
                continue
            if not low <= int(number) <= high:
                raise fail(f"has {name} {number} outside {low}-{high}")
    if (parts[2] == "?") == (parts[4] == "?"):
        raise fail("must use `?` in exactly one of day-of-month and day-of-week")
    gap = _shortest_gap(parts[0])
    if gap < MIN_SCHEDULE_MINUTES:
        raise fail(f"runs {gap} minute(s) apart; Glue schedules run at most every "
                   f"{MIN_SCHEDULE_MINUTES} minutes")
    return expression.strip()


def _shortest_gap(minutes: str) -> int:
    """The fewest minutes between two runs that the minutes field allows (60 for one run an
    hour), counting the step from the last minute of an hour to the first of the next."""
    chosen: set[int] = set()
    for item in minutes.split(","):
        base, _, step = item.partition("/")
        start, _, end = base.partition("-")
        first = 0 if start in ("*", "") else int(start)
        last = 59 if start in ("*", "") or (step and not end) else int(end or start)
        chosen.update(range(first, last + 1, int(step) if step else 1))
    ordered = sorted(chosen)
    gaps = [b - a for a, b in itertools.pairwise(ordered)] + [60 - ordered[-1] + ordered[0]]
    return min(gaps)
