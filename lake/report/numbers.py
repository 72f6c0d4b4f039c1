"""Numbers as a Brazilian analyst reads them (`1.234,5`; `1,234.5` on the English page), each
at its gold column's precision: the decimals of the query's `ROUND(…, n)`, none for counts."""

from __future__ import annotations

from collections.abc import Iterable

MAX_DECIMALS = 2  # for a fractional column the query does not round


def formatted(value: float | int | None, decimals: int, decimal_mark: str = ",",
              thousands_mark: str = ".") -> str:
    """`1234.5` -> `1.234,5` (by default: thousands with `.`, decimals with `,`); None -> an
    em dash."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", decimal_mark).replace("\0", thousands_mark)


def rounded_columns(athena_sql: str) -> dict[str, int]:
    """Output column -> the decimals its `ROUND(expression, n)` keeps, for the statement's
    outermost SELECT."""
    import sqlglot
    from sqlglot import expressions as exp

    statement = sqlglot.parse_one(athena_sql, read="athena")
    select = statement if isinstance(statement, exp.Select) else statement.find(exp.Select)
    found = {}
    for projection in select.expressions if select is not None else []:
        if isinstance(projection, exp.Alias) and isinstance(projection.this, exp.Round):
            decimals = projection.this.args.get("decimals")
            found[projection.alias] = int(decimals.name) if decimals is not None else 0
    return found


def decimals_of(column: str, values: Iterable[object], rounded: dict[str, int]) -> int:
    """The precision to show `column` at: its ROUND, else 0 for whole numbers, else the most
    decimals its values carry (at most MAX_DECIMALS)."""
    if column in rounded:
        return rounded[column]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if all(isinstance(v, int) or float(v).is_integer() for v in numbers):
        return 0
    return min(MAX_DECIMALS, max(len(f"{v:.6f}".rstrip("0").split(".")[1]) for v in numbers))
