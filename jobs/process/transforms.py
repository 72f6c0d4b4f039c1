"""Pure DataFrame transforms of the processing job: CSV text → typed, checked rows.

Nothing here knows about Glue, S3 or files beyond the path Spark reads; the entrypoint
(`csv_to_parquet.py`) calls these, and so do the tests.

One pass decides every row: `read_typed` + `with_fast_checks`. The CSV reader parses each column
straight into its type (a value that does not parse makes the line "corrupt"), then values are
checked against their domains and the rules; the valid rows are written. Only a file in which
some rows failed is read once more, as whole lines (`invalid_lines`): each line parsed by the same
parser with the same schema (`from_csv`) and checked by the same checks, so exactly the refused
lines come back, with their text. `explained` then says, from that text, which value of each
line is wrong and why (`rejections`). The valid rows are never parsed or written twice.

The first pass also notes a hash bucket of each refused line's first field (`refused_bucket`),
so the second one parses only the lines in those buckets: a few more than the refused ones,
not the whole file. It still checks every line it keeps, so a bucket never decides a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from jobs.enem.schema import Column, Layout

CORRUPT = "_corrupt_record"
LINE = "_line"  # a refused line's text, exactly as in the file
CSV_OPTIONS = {
    "sep": ";",
    "header": "true",
    "encoding": "ISO-8859-1",
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": CORRUPT,
    "nullValue": "",
}
SPARK_TYPES = {"bigint": LongType(), "int": IntegerType(), "double": DoubleType(),
                       "string": StringType()}
_DIGITS = "0123456789"
_INPUT_END = "\\z"  # Java regex: the very end; `$` would also match before a final line break
BUCKETS = 1 << 20  # hash buckets of first fields: a refused line's candidates are ~1 in 1M


@dataclass(frozen=True)
class Table:
    """What one ingested CSV becomes: its output table, columns and (if known) its layout."""

    name: str
    columns: tuple[Column, ...]
    layout: Layout | None

    @property
    def partition_by(self) -> tuple[str, ...]:
        return self.layout.partition_by if self.layout else ()

    @property
    def sort_by(self) -> tuple[str, ...]:
        return self.layout.sort_by if self.layout else ()

    @property
    def plain(self) -> tuple[str, ...]:
        return self.layout.plain if self.layout else ()


def unknown_layout_table(name: str, header: list[str]) -> Table:
    """A CSV of unknown layout still lands: every column a string, names lower-cased."""
    columns = tuple(Column(name=field.strip().upper() or f"COLUMN_{i + 1}", type="string",
                           description="(unknown layout)") for i, field in enumerate(header))
    return Table(name=name, columns=columns, layout=None)


def typed_schema(table: Table) -> StructType:
    """The layout's columns in their types (lower-case names), plus the corrupt-record column."""
    return StructType([StructField(c.output, SPARK_TYPES[c.type]) for c in table.columns]
                      + [StructField(CORRUPT, StringType())])


def read_typed(spark: SparkSession, path: str, table: Table) -> DataFrame:
    """The CSV parsed straight into the layout's types (lower-case names), plus the corrupt-record
    column: set, with the raw line, when a line has the wrong number of fields or a value that
    does not parse as its column's type."""
    return spark.read.options(**CSV_OPTIONS).schema(typed_schema(table)).csv(path)


def with_fast_checks(typed: DataFrame, table: Table) -> DataFrame:
    """`_ok`: the line parsed, every value is in its domain and every rule holds."""
    failures = [f"{CORRUPT} IS NOT NULL"]
    for column in table.columns:
        domain = _in_domain(_name(column.output), column)
        if domain is not None:
            failures.append(f"({_name(column.output)} IS NOT NULL AND NOT {domain})")
    failures.extend(_rule_failures(table))
    return typed.withColumn("_ok", F.expr(_none_of(failures)))


def _rule_failures(table: Table) -> list[str]:
    return [f"NOT coalesce(({rule.sql}), true)"
            for rule in (table.layout.rules if table.layout else ())]


def _none_of(failures: list[str]) -> str:
    # An array, not one long OR: Spark's code generator splits an array's elements into separate
    # methods, while a single ~300-term boolean outgrows Java's 64 KB method limit and falls back
    # to the (several times slower) interpreted path.
    return f"NOT array_contains(array({', '.join(failures)}), true)"


def raw_name(column: Column) -> str:
    """The column's text as read. Spark matches names case-insensitively, so the raw text cannot
    share the typed column's name."""
    return f"_{column.name}"


def read_lines(spark: SparkSession, path: str) -> DataFrame:
    """The file's lines after the header, each exactly as written (`_line`), decoded as the typed
    read decodes them. Spark's text reader splits lines as the CSV reader does (\\n, \\r\\n, \\r)
    and keeps each line's bytes untouched, so decoding them as Latin-1 here gives the same text,
    ~5x faster than through the CSV parser (bench/README.md). The header is the first line of
    the split that starts the file, which Spark reads first: the splits of one file are ordered
    longest first, and the one at offset 0 is never shorter than the others."""
    header = (F.input_file_block_start() == 0) & (F.monotonically_increasing_id() == 0)
    return (spark.read.text(path).where(~header)
            .select(F.decode(F.col("value").cast("binary"), CSV_OPTIONS["encoding"]).alias(LINE)))


def _bucket(first_field: SparkColumn, column: Column) -> SparkColumn:
    """The hash bucket of a line's first field, from its text: a number as its typed value
    prints (`007` and `7` share one), so both passes agree however the number is written."""
    if column.type != "string":
        first_field = F.coalesce(first_field.cast(SPARK_TYPES[column.type]).cast("string"),
                                 first_field)
    return _hash_bucket(first_field)


def _hash_bucket(text: SparkColumn) -> SparkColumn:
    return F.pmod(F.xxhash64(text), F.lit(BUCKETS))


def refused_bucket(table: Table) -> SparkColumn:
    """On a row of `with_fast_checks`: its first field's bucket if it is refused, else null."""
    first = table.columns[0]
    parsed = F.coalesce(F.col(first.output).cast("string"), F.lit(""))
    corrupt = _bucket(F.substring_index(F.col(CORRUPT), ";", 1), first)
    return F.when(~F.col("_ok"), F.when(F.col(CORRUPT).isNotNull(), corrupt)
                  .otherwise(_hash_bucket(parsed)))


def invalid_lines(spark: SparkSession, path: str, table: Table,
                  buckets: list[int] | None = None) -> DataFrame:
    """The lines `read_typed` + `with_fast_checks` refuse, with their text: each line parsed by
    the same CSV parser into the same schema (`from_csv`), then the same checks. Given the
    refused lines' `buckets`, only the lines in them are parsed."""
    ddl = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in typed_schema(table))
    options = {key: CSV_OPTIONS[key] for key in ("sep", "mode", "columnNameOfCorruptRecord",
                                                 "nullValue")}
    lines = read_lines(spark, path)
    if buckets is not None:
        lines = lines.where(_bucket(F.substring_index(F.col(LINE), ";", 1),
                                    table.columns[0]).isin(buckets))
    # Through `inline`, a generator, each line is parsed once: from a plain projection, the
    # optimizer would copy `from_csv` into each of the ~300 checks that read one of its fields
    # (4.5 s instead of 0.5 s for 2,000 lines; bench/README.md).
    parsed = lines.select(LINE, F.inline(F.array(F.from_csv(F.col(LINE), ddl, options))))
    return with_fast_checks(parsed, table).where(~F.col("_ok")).select(LINE)


def explained(lines: DataFrame, table: Table) -> DataFrame:
    """`with_checks`'s columns for refused lines, from their text: each field as written (empty
    is missing), its typed value and checks; `_raw` is the line itself. A line with the wrong
    number of fields is corrupt. Every line stays refused, whatever its reasons."""
    fields = f"split({LINE}, ';', -1)"
    count_ok = f"size({fields}) = {len(table.columns)}"
    strings = lines.selectExpr(
        *[f"CASE WHEN {count_ok} THEN nullif({fields}[{i}], '') END AS {_name(raw_name(column))}"
          for i, column in enumerate(table.columns)],
        f"CASE WHEN NOT {count_ok} THEN {LINE} END AS {CORRUPT}", LINE)
    return with_checks(strings, table).selectExpr(
        *[_name(c.output) for c in table.columns], *[_name(raw_name(c)) for c in table.columns],
        CORRUPT, "false AS _ok", f"{LINE} AS _raw")


# --- per-column checks, as SQL text ----------------------------------------------------------
# Each check is one SQL expression, handed to Spark in one call: built from PySpark's column
# functions instead, the ~300 checks took ~30,000 Py4J round trips (~6 s per pass; bench/).

def _name(name: str) -> str:
    return f"`{name}`"


def _literal(value: object) -> str:
    """A SQL literal of the value's own type (`1`, `2.5D`, `'A'`)."""
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value!r}D"
    return str(int(value))


def _well_formed(raw: str, column: Column) -> str:
    """The text is a plain number of the column's type (Spark's cast alone accepts '1.5' as int
    and ' 7' as 7). `translate` is a character map: far cheaper than a regex per value."""
    rest = f"translate({raw}, '{_DIGITS}', '')"
    if column.type in ("int", "bigint"):
        return f"{rest} = ''"
    if column.type == "double":
        return f"{rest} IN ('', '.')"
    return "true"


def _in_domain(value: str, column: Column) -> str | None:
    """The SQL test that `value` is in the column's domain; None when it has no domain."""
    checks: list[str] = []
    if column.values is not None and _is_int_range(column):
        # one comparison pair instead of a chain of equalities or a hash lookup per value
        checks.append(f"{value} BETWEEN {min(column.values)} AND {max(column.values)}")
    elif column.values is not None:
        checks.append(f"{value} IN ({', '.join(_literal(v) for v in column.values)})")
    if column.minimum is not None:
        checks.append(f"{value} >= {_literal(column.minimum)}")
    if column.maximum is not None:
        checks.append(f"{value} <= {_literal(column.maximum)}")
    if column.multiple_of is not None:
        checks.append(f"{value} % {_literal(column.multiple_of)} = 0")
    if column.pattern is not None:
        # A compiled Java regex, 8x cheaper here than length + translate (bench/README.md).
        checks.append(f"{value} RLIKE {_literal('^(?:' + column.pattern + ')' + _INPUT_END)}")
    return f"({' AND '.join(checks)})" if checks else None


def _is_int_range(column: Column) -> bool:
    """An integer column whose allowed values are every integer from the least to the most."""
    values = column.values or ()
    return (column.type in ("int", "bigint") and all(isinstance(v, int) for v in values)
            and len(values) > 1 and max(values) - min(values) + 1 == len(set(values)))


def typed_value(column: Column) -> str:
    raw = _name(raw_name(column))
    if column.type == "string":
        return f"{raw} AS {_name(column.output)}"
    return f"CAST({raw} AS {column.type.upper()}) AS {_name(column.output)}"


def column_problem(column: Column) -> tuple[str, str] | None:
    """(is not of its type, is outside its domain) for one column, on a row of `with_checks`'s
    input; None when the column cannot fail."""
    if column.type == "string" and column.values is None and column.pattern is None:
        return None
    raw, value = _name(raw_name(column)), _name(column.output)
    wrong_type = f"({raw} IS NOT NULL AND ({value} IS NULL OR NOT {_well_formed(raw, column)}))"
    out_of_domain = (f"({raw} IS NOT NULL AND NOT {wrong_type} AND NOT "
                     f"{_in_domain(value, column) or 'true'})")
    return wrong_type, out_of_domain


def with_checks(strings: DataFrame, table: Table) -> DataFrame:
    """Typed columns (lower-case names) + `_ok` + `_raw` (the line as read, invalid rows only),
    from the text of each field (`_<NAME>`), which `rejections` reports from."""
    typed = strings.selectExpr("*", *[typed_value(c) for c in table.columns])
    failures = [f"{CORRUPT} IS NOT NULL"]
    for column in table.columns:
        problem = column_problem(column)  # the same tests `rejections` reports, so they agree
        if problem is not None:
            failures.append(f"({problem[0]} OR {problem[1]})")
    failures.extend(_rule_failures(table))
    fields = ", ".join(f"coalesce({_name(raw_name(c))}, '')" for c in table.columns)
    return typed.selectExpr(
        "*", f"{_none_of(failures)} AS _ok").selectExpr(
        "*", f"CASE WHEN NOT _ok THEN coalesce({CORRUPT}, concat_ws(';', {fields})) END AS _raw")


def valid_rows(checked: DataFrame, table: Table) -> DataFrame:
    return checked.where("_ok").select(*[c.output for c in table.columns])


def rejections(checked: DataFrame, table: Table, file: str) -> DataFrame:
    """One row per invalid line: file, position (record key), reasons (codes), detail, raw line.

    Spark cannot give a line number, so the position is the record key (`nu_inscricao=…`) where
    the layout has one, else the line's first field."""
    corrupt, not_corrupt = f"{CORRUPT} IS NOT NULL", f"{CORRUPT} IS NULL"
    reasons: list[tuple[str, str, str]] = [(  # (when, code, detail)
        corrupt, "field_count",
        f"format_string('the line has %d fields, expected {len(table.columns)}', "
        f"size(split({CORRUPT}, ';', -1)))")]
    for column in table.columns:
        problem = column_problem(column)
        if not problem:
            continue
        wrong_type, out_of_domain = problem
        raw = _name(raw_name(column))
        reasons.append((f"{not_corrupt} AND {wrong_type}", f"type:{column.output}",
                        _formatted(f"{column.output}: '", raw, f"' is not {column.type}")))
        reasons.append((f"{not_corrupt} AND {out_of_domain}", f"domain:{column.output}",
                        _formatted(f"{column.output}: ", raw,
                                   f" is outside {_domain_text(column)}")))
    for rule in (table.layout.rules if table.layout else ()):
        reasons.append((f"{not_corrupt} AND NOT coalesce(({rule.sql}), true)",
                        f"rule:{rule.name}", _literal(f"{rule.name}: {rule.description}")))
    codes = ", ".join(f"CASE WHEN {when} THEN {_literal(code)} END" for when, code, _ in reasons)
    details = ", ".join(f"CASE WHEN {when} THEN {detail} END" for when, _, detail in reasons)
    header = [c.name for c in table.columns]
    keys = table.layout.key if table.layout and table.layout.key else (header[0],)
    position = ", ".join(
        _formatted(f"{key.lower()}=", f"split(_raw, ';')[{header.index(key)}]") for key in keys)
    return checked.where("NOT _ok").selectExpr(
        f"{_literal(file)} AS file",
        f"concat_ws(',', {position}) AS position",
        f"filter(array({codes}), c -> c IS NOT NULL) AS reasons",
        f"concat_ws('; ', {details}) AS detail",
        "_raw AS line",
    )


def _formatted(before: str, value: str, after: str = "") -> str:
    """SQL for the text `before` + the value of the SQL expression `value` + `after`."""
    pattern = before.replace("%", "%%") + "%s" + after.replace("%", "%%")
    return f"format_string({_literal(pattern)}, {value})"


def _domain_text(column: Column) -> str:
    parts = []
    if column.values is not None:
        shown = ", ".join(str(v) for v in column.values[:12])
        parts.append(f"{{{shown}{', …' if len(column.values) > 12 else ''}}}")
    if column.minimum is not None and column.maximum is not None:
        parts.append(f"{column.minimum:g}..{column.maximum:g}")
    if column.multiple_of is not None:
        parts.append(f"multiples of {column.multiple_of}")
    if column.pattern is not None:
        parts.append(f"/{column.pattern}/")
    return " and ".join(parts)
