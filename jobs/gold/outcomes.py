"""What became of each query of a gold run, and the lines and exit code the run ends with."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.gold.privacy import Withholding


@dataclass
class Outcome:
    """What became of one query."""

    name: str
    table: str = ""
    location: str = ""
    query_id: str = ""
    published: bool = False
    action: str = ""  # how gold_<name> was switched: "created" or "updated"
    error: str = ""  # the query failed; gold_<name> was left as it was
    warnings: list[str] = field(default_factory=list)  # published, but cleanup was incomplete
    seconds: float = 0.0
    scanned_bytes: int = 0
    rows: int = 0  # rows of the result (counted before the switch)
    withholding: Withholding | None = None  # what the small-group rule withheld

    @property
    def ok(self) -> bool:
        return self.published and not self.error and not self.warnings


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"  # unreachable


def summary_lines(outcomes: list[Outcome]) -> list[str]:
    """The run's last lines: a count, then one line per query that failed or left something."""
    published = sum(1 for outcome in outcomes if outcome.published)
    lines = [f"{published} of {len(outcomes)} queries published"]
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"failed: {outcome.name}: {outcome.error}")
        for warning in outcome.warnings:
            lines.append(f"incomplete cleanup: {outcome.name}: {warning}")
    return lines


def withheld_lines(outcomes: list[Outcome]) -> list[str]:
    """One line per published query: how many small groups it withheld, and why."""
    return [f"{outcome.name}: {outcome.withholding.summary()}" for outcome in outcomes
            if outcome.published and outcome.withholding is not None]


def exit_code(outcomes: list[Outcome]) -> int:
    return 0 if all(outcome.ok for outcome in outcomes) else 1
