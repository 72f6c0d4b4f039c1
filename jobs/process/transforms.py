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
from functools import reduce

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
    failures: list[SparkColumn] = [F.col(CORRUPT).isNotNull()]
    for column in table.columns:
        if column.type == "string" and column.values is None and column.pattern is None:
            continue
        value = F.col(column.output)
        failures.append(value.isNotNull() & ~_in_domain(value, column))
    failures.extend(_rule_failures(table))
    return typed.withColumn("_ok", ~F.array_contains(F.array(*failures), True))


def _rule_failures(table: Table) -> list[SparkColumn]:
    return [~F.coalesce(F.expr(rule.sql), F.lit(True))
            for rule in (table.layout.rules if table.layout else ())]


def raw_name(column: Column) -> str:
    """The column's text as read. Spark matches names case-insensitively, so the raw text cannot
    share the typed column's name."""
    return f"_{column.name}"


def read_lines(spark: SparkSession, path: str) -> DataFrame:
    """The file's lines after the header, each exactly as written (`_line`, decoded as the
    typed read decodes it): a separator and quote that never occur keep every line whole."""
    options = {"sep": "\u0001", "quote": "", "header": "true",
               "encoding": CSV_OPTIONS["encoding"]}
    return spark.read.options(**options).schema(StructType([StructField(LINE, StringType())])
                                                ).csv(path)


def _bucket(first_field: SparkColumn, column: Column) -> SparkColumn:
    """The hash bucket of a line's first field, from its text: a number as its typed value
    prints (`007` and `7` share one), so both passes agree however the number is written."""
    if column.type != "string":
        first_field = F.coalesce(first_field.cast(SPARK_TYPES[column.type]).cast("string"),
                                 first_field)
    return F.pmod(F.xxhash64(first_field), F.lit(BUCKETS))


def refused_bucket(table: Table) -> SparkColumn:
    """On a row of `with_fast_checks`: its first field's bucket if it is refused, else null."""
    first = table.columns[0]
    parsed = F.coalesce(F.col(first.output).cast("string"), F.lit(""))
    corrupt = _bucket(F.substring_index(F.col(CORRUPT), ";", 1), first)
    return F.when(~F.col("_ok"), F.when(F.col(CORRUPT).isNotNull(), corrupt)
                  .otherwise(F.pmod(F.xxhash64(parsed), F.lit(BUCKETS))))


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
    parsed = lines.select(
        LINE, F.from_csv(F.col(LINE), ddl, options).alias("_typed")).select(LINE, "_typed.*")
    return with_fast_checks(parsed, table).where(~F.col("_ok")).select(LINE)


def explained(lines: DataFrame, table: Table) -> DataFrame:
    """`with_checks`'s columns for refused lines, from their text: each field as written (empty
    is missing), its typed value and checks; `_raw` is the line itself. A line with the wrong
    number of fields is corrupt. Every line stays refused, whatever its reasons."""
    fields = F.split(F.col(LINE), ";", -1)
    count_ok = F.size(fields) == len(table.columns)
    strings = lines.select(
        *[F.when(count_ok, F.nullif(fields.getItem(i), F.lit(""))).alias(raw_name(column))
          for i, column in enumerate(table.columns)],
        F.when(~count_ok, F.col(LINE)).alias(CORRUPT), LINE)
    return (with_checks(strings, table).withColumn("_ok", F.lit(False))
            .withColumn("_raw", F.col(LINE)))


# --- per-column checks --------------------------------------------------------------------------

def _well_formed(raw: SparkColumn, column: Column) -> SparkColumn:
    """The text is a plain number of the column's type (Spark's cast alone accepts '1.5' as int
    and ' 7' as 7). `translate` is a character map: far cheaper than a regex per value."""
    rest = F.translate(raw, _DIGITS, "")
    if column.type in ("int", "bigint"):
        return rest == ""
    if column.type == "double":
        return rest.isin("", ".")
    return F.lit(True)


def _in_domain(value: SparkColumn, column: Column) -> SparkColumn:
    checks: list[SparkColumn] = []
    if column.values is not None:
        checks.append(value.isin(list(column.values)))
    if column.minimum is not None:
        checks.append(value >= column.minimum)
    if column.maximum is not None:
        checks.append(value <= column.maximum)
    if column.multiple_of is not None:
        checks.append(value % column.multiple_of == 0)
    if column.pattern is not None:
        # A compiled Java regex, 8x cheaper here than length + translate (bench/README.md);
        # \z, not $, which would also match before a final line break.
        checks.append(value.rlike(f"^(?:{column.pattern})\\z"))
    return reduce(lambda a, b: a & b, checks, F.lit(True))


def typed_value(column: Column) -> SparkColumn:
    raw = F.col(raw_name(column))
    if column.type == "string":
        return raw.alias(column.output)
    return raw.cast(SPARK_TYPES[column.type]).alias(column.output)


def column_problem(column: Column) -> tuple[SparkColumn, SparkColumn] | None:
    """(is not of its type, is outside its domain) for one column, on a row of `with_checks`'s
    input; None when the column cannot fail."""
    if column.type == "string" and column.values is None and column.pattern is None:
        return None
    raw = F.col(raw_name(column))
    value = F.col(column.output)
    wrong_type = raw.isNotNull() & (value.isNull() | ~_well_formed(raw, column))
    out_of_domain = raw.isNotNull() & ~wrong_type & ~_in_domain(value, column)
    return wrong_type, out_of_domain


def with_checks(strings: DataFrame, table: Table) -> DataFrame:
    """Typed columns (lower-case names) + `_ok` + `_raw` (the line as read, invalid rows only),
    from the text of each field (`_<NAME>`), which `rejections` reports from."""
    typed = strings.select("*", *[typed_value(c) for c in table.columns])
    failures: list[SparkColumn] = [F.col(CORRUPT).isNotNull()]
    for column in table.columns:
        problem = column_problem(column)  # the same tests `rejections` reports, so they agree
        if problem is not None:
            failures.append(problem[0] | problem[1])
    failures.extend(_rule_failures(table))
    # An array, not one long OR: Spark's code generator splits an array's elements into separate
    # methods, while a single ~300-term boolean outgrows Java's 64 KB method limit and falls back
    # to the (several times slower) interpreted path.
    ok = ~F.array_contains(F.array(*failures), True)
    raw_line = F.coalesce(F.col(CORRUPT), F.concat_ws(
        ";", *[F.coalesce(F.col(raw_name(c)), F.lit("")) for c in table.columns]))
    return typed.withColumn("_ok", ok).withColumn("_raw", F.when(~F.col("_ok"), raw_line))


def valid_rows(checked: DataFrame, table: Table) -> DataFrame:
    return checked.where("_ok").select(*[c.output for c in table.columns])


def rejections(checked: DataFrame, table: Table, file: str) -> DataFrame:
    """One row per invalid line: file, position (record key), reasons (codes), detail, raw line.

    Spark cannot give a line number, so the position is the record key (`nu_inscricao=…`) where
    the layout has one, else the line's first field."""
    bad = checked.where(~F.col("_ok"))
    codes: list[SparkColumn] = [F.when(F.col(CORRUPT).isNotNull(), F.lit("field_count"))]
    details: list[SparkColumn] = [F.when(
        F.col(CORRUPT).isNotNull(),
        F.format_string(f"the line has %d fields, expected {len(table.columns)}",
                        F.size(F.split(F.col(CORRUPT), ";", -1))))]
    for column in table.columns:
        problem = column_problem(column)
        if not problem:
            continue
        wrong_type, out_of_domain = problem
        not_corrupt = F.col(CORRUPT).isNull()
        codes.append(F.when(not_corrupt & wrong_type, F.lit(f"type:{column.output}")))
        details.append(F.when(not_corrupt & wrong_type, F.format_string(
            f"{column.output}: '%s' is not {column.type}", F.col(raw_name(column)))))
        codes.append(F.when(not_corrupt & out_of_domain, F.lit(f"domain:{column.output}")))
        details.append(F.when(not_corrupt & out_of_domain, F.format_string(
            f"{column.output}: %s is outside {_domain_text(column)}",
            F.col(raw_name(column)))))
    for rule in (table.layout.rules if table.layout else ()):
        broken = F.col(CORRUPT).isNull() & ~F.coalesce(F.expr(rule.sql), F.lit(True))
        codes.append(F.when(broken, F.lit(f"rule:{rule.name}")))
        details.append(F.when(broken, F.lit(f"{rule.name}: {rule.description}")))
    header = [c.name for c in table.columns]
    keys = table.layout.key if table.layout and table.layout.key else (header[0],)
    fields = F.split(F.col("_raw"), ";")
    position = F.concat_ws(",", *[F.format_string(f"{key.lower()}=%s",
                                                  fields.getItem(header.index(key)))
                                  for key in keys])
    return bad.select(
        F.lit(file).alias("file"),
        position.alias("position"),
        F.filter(F.array(*codes), lambda c: c.isNotNull()).alias("reasons"),
        F.concat_ws("; ", *details).alias("detail"),
        F.col("_raw").alias("line"),
    )


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
