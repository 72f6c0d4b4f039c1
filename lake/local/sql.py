"""Athena SQL on DuckDB: the queries are written once, in Athena's (Trino's) dialect, and
translated with sqlglot for the local lake.

sqlglot maps Trino's functions onto DuckDB's, but not always onto ones that answer the same.
tests/test_query.py holds the table of what analysts use, each answer worked out from Trino's
documentation; where DuckDB answers otherwise, the translation is fixed in one of two places:

- `_generator_class()`: sqlglot's DuckDB generator with those functions written again.
  `format` follows Java's Formatter (`%.1f` rounded half up, `%,d`, `%2$s`, `%tY`, a NULL
  printed as `null`) instead of DuckDB's `{}`; so do `strpos` with an instance, `split` with a
  limit, `split_part` and `regexp_extract` (NULL past the end, without a match),
  `regexp_replace`'s `$1`, `slice`, `array_distinct`/`array_union`/`array_except` (first
  occurrences, in order), `reduce`'s output function, `sequence` counting down, `max_by` with a
  NULL value, `date_diff` (whole units), `extract(DOW …)` (ISO), a decimal divided (Trino keeps
  the larger scale, 1 / 3.0 is 0.3), a double cast to an integer type (half up: 2.5 is 3, where
  DuckDB rounds half to even), `format_number`, `from_base`, `e()`, ... Where the answer depends
  on a value's type, which is known only where the query runs, the SQL asks `typeof()` there
  (DuckDB folds it away). What has no DuckDB counterpart is refused in one line, not guessed.
- `prepare(con)`, on every connection that runs translated SQL: integer division truncates as
  Trino's does (DuckDB's `integer_division`: 7 / 2 is 3, an integer divided by zero fails), the
  session's time zone is UTC as Athena's is, and the small `trino_*` macros the generator calls.

`SHOW TABLES`, `SHOW COLUMNS`, `SHOW DATABASES` and `DESCRIBE` are Athena's (Hive's) statements,
which sqlglot reads as opaque commands: `translate` parses them itself and returns what they
ask; the catalog answers (`lake.local.catalog`). Syntax errors name the token they stopped at:
`bad SQL at line L, column C: unexpected <token> (…)`.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from jobs.errors import UserError


class QueryError(UserError):
    """A query that cannot run: bad SQL or an unknown table. The message is one line."""


# --- what a statement asks --------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """A statement DuckDB runs: its SQL, translated."""

    sql: str


@dataclass(frozen=True)
class ShowTables:
    """`SHOW TABLES [IN database] ['pattern']`: Athena's pattern, `*` any text, `|` or."""

    database: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ShowDatabases:
    """`SHOW DATABASES` (or `SHOW SCHEMAS`)."""


@dataclass(frozen=True)
class ShowColumns:
    """`SHOW COLUMNS FROM [database.]table`: the column names."""

    table: str


@dataclass(frozen=True)
class Describe:
    """`DESCRIBE [database.]table`: each column's name, type and comment."""

    table: str


Statement = Query | ShowTables | ShowDatabases | ShowColumns | Describe


@dataclass(frozen=True)
class Context:
    """What the translation knows of the catalog a statement runs on."""

    database: str = ""
    """The Glue database the catalog's main schema stands for: `database.table` reads `table`."""


READS = "SELECT, WITH, VALUES, SHOW or DESCRIBE"
# Athena statements that are not reads: refused as such, not as bad SQL.
_WRITES = {"ALTER", "ANALYZE", "CALL", "COMMIT", "CREATE", "DEALLOCATE", "DELETE", "DROP",
           "EXECUTE", "GRANT", "INSERT", "MERGE", "MSCK", "OPTIMIZE", "PREPARE",
           "RESET", "REVOKE", "ROLLBACK", "SET", "START", "TRUNCATE", "UNLOAD", "UPDATE", "USE",
           "VACUUM"}


def translate(athena_sql: str, context: Context | None = None) -> Statement:
    """One Athena statement: a `Query` in DuckDB's SQL, or the SHOW/DESCRIBE it asks for.
    QueryError (one line) for SQL that Athena would not accept either, or that this machine
    cannot answer as Athena would."""
    tokens = _tokens(athena_sql)
    if not tokens:
        raise QueryError("give one SQL statement (got 0)")
    first = tokens[0]
    keyword = first.text.upper()
    if keyword in ("SHOW", "DESCRIBE", "DESC"):
        return _metadata(athena_sql, _tokens(athena_sql, metadata=True))
    if keyword == "EXPLAIN":
        raise QueryError("EXPLAIN is not supported on this machine: DuckDB's plans are not "
                         "Athena's")
    if keyword in _WRITES:
        raise QueryError(f"lake query only reads: {keyword} is not a read statement (give "
                         f"{READS})")
    if keyword not in ("SELECT", "WITH", "VALUES", "("):
        raise _unexpected(athena_sql, first, f"a statement starts with {READS}")
    return Query(_generate(_parse(athena_sql), context or Context()))


def to_duckdb(athena_sql: str, context: Context | None = None) -> str:
    """One Athena query (SELECT, WITH or VALUES) translated to DuckDB; raises QueryError for
    SQL that Athena would not accept either."""
    statement = translate(athena_sql, context)
    if not isinstance(statement, Query):
        raise QueryError("give a query (SELECT, WITH or VALUES), not SHOW or DESCRIBE")
    return statement.sql


# --- syntax errors, in words -------------------------------------------------------------------

def _tokens(sql: str, metadata: bool = False) -> list:
    """The statement's tokens (sqlglot's Athena tokenizer). With `metadata`, as Hive reads
    SHOW and DESCRIBE: backticks or double quotes around names, and SHOW's words as words (the
    Athena tokenizer keeps them as one opaque string)."""
    from sqlglot.dialects.athena import Athena
    from sqlglot.dialects.hive import Hive
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    class Metadata(Hive.Tokenizer):
        COMMANDS = Hive.Tokenizer.COMMANDS - {TokenType.SHOW}
        IDENTIFIERS = ["`", '"']
        QUOTES = ["'"]

    try:
        tokens = Metadata().tokenize(sql) if metadata else Athena().tokenize(sql)
    except TokenError:
        raise _unterminated(sql) from None
    return [t for t in tokens if t.token_type != TokenType.HIVE_TOKEN_STREAM]


def _position(sql: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "…"


def _unexpected(sql: str, token, hint: str = "") -> QueryError:
    line, column = _position(sql, token.start)
    return QueryError(f"bad SQL at line {line}, column {column}: unexpected "
                      f"{_shown(sql[token.start:token.end + 1])}" + (f" ({hint})" if hint else ""))


def _at_end(sql: str, hint: str = "") -> QueryError:
    end = len(sql.rstrip().rstrip(";").rstrip())
    line, column = _position(sql, end)
    return QueryError(f"bad SQL at line {line}, column {column}: unexpected end of the "
                      f"statement" + (f" ({hint})" if hint else ""))


def _unterminated(sql: str) -> QueryError:
    """A quote or comment that never closes (the tokenizer says no more)."""
    quote = None
    at = 0
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote:
            if char == quote:
                if sql[i + 1:i + 2] == quote:  # a doubled quote is one quote character
                    i += 1
                else:
                    quote = None
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                line, column = _position(sql, i)
                return QueryError(f"bad SQL at line {line}, column {column}: a /* comment "
                                  "that never ends")
            i = end + 1
        elif char in "'\"`":
            quote, at = char, i
        i += 1
    if quote:
        line, column = _position(sql, at)
        what = "string" if quote == "'" else "quoted name"
        return QueryError(f"bad SQL at line {line}, column {column}: unexpected "
                          f"{_shown(sql[at:])} (a {what} that never ends: close it with {quote})")
    return QueryError("bad SQL: it cannot be read as SQL")


_HINTS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (re.compile(r"^Expecting (\S+)"), lambda m: f"expected {m.group(1)}"),
    (re.compile(r"^Expected table name"), lambda m: "expected a table name"),
    (re.compile(r"^Expected END after CASE"), lambda m: "expected END to close the CASE"),
    (re.compile(r"^Expected TYPE after CAST"), lambda m: "expected a type after AS"),
    (re.compile(r"^Expected (\w+)"), lambda m: f"expected {m.group(1)}"),
    (re.compile(r"^Required keyword: '\w+' missing for .*\.(\w+)'>"),
     lambda m: f"{_OPERATORS.get(m.group(1), 'an expression')} is incomplete"),
]
_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Mod": "%", "EQ": "=", "NEQ": "<>",
              "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=", "And": "AND", "Or": "OR",
              "Like": "LIKE", "ILike": "ILIKE", "Where": "WHERE", "Having": "HAVING",
              "In": "IN", "Between": "BETWEEN", "DPipe": "||", "Is": "IS", "Not": "NOT"}


def _hint(description: str) -> str:
    for pattern, say in _HINTS:
        found = pattern.search(description)
        if found:
            return say(found)
    return ""  # sqlglot's words (class names, token dumps) help no one


def _parse(sql: str):
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except ParseError as error:
        raise _parse_error(sql, error) from None
    if len(statements) != 1:
        raise QueryError(f"give one SQL statement (got {len(statements)})")
    return statements[0]


def _parse_error(sql: str, error) -> QueryError:
    """Where sqlglot stopped, as the token it stopped at: sqlglot reports the token it was
    on, or the last one when the statement ended too soon."""
    detail = error.errors[0] if error.errors else {}
    hint = _hint(str(detail.get("description") or ""))
    tokens = _tokens(sql)
    line, column = detail.get("line"), detail.get("col")
    found = [t for t in tokens if (t.line, t.col) == (line, column)]
    if not found:
        return QueryError("bad SQL" + (f": {hint}" if hint else ""))
    token = found[0]
    stopped_short = (token is tokens[-1] and "Invalid expression" not in
                     str(detail.get("description")))
    return _at_end(sql, hint) if stopped_short else _unexpected(sql, token, hint)


# --- SHOW and DESCRIBE --------------------------------------------------------------------------

def _metadata(sql: str, tokens: list) -> Statement:
    """Athena's SHOW TABLES / SHOW DATABASES / SHOW COLUMNS / DESCRIBE, read from the tokens."""
    from sqlglot.tokens import TokenType

    words = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    if len(words) < len(tokens) - 1 or (len(words) < len(tokens) and
                                        tokens[-1].token_type != TokenType.SEMICOLON):
        raise QueryError("give one SQL statement (got more than one)")
    reader = _Reader(sql, words)
    keyword = reader.next_word()
    if keyword in ("DESCRIBE", "DESC"):
        if reader.peek_word() in ("EXTENDED", "FORMATTED"):
            raise QueryError(f"DESCRIBE {reader.peek_word()} is not supported on this machine: "
                             "DESCRIBE table lists its columns and types")
        table = reader.name()
        reader.end("DESCRIBE takes one table")
        return Describe(table)
    what = reader.next_word()
    if what in ("DATABASES", "SCHEMAS"):
        reader.end(f"SHOW {what} takes no pattern here")
        return ShowDatabases()
    if what == "TABLES":
        database = reader.name() if reader.accept("IN", "FROM") else None
        reader.accept("LIKE")
        pattern = reader.string() if reader.more() else None
        reader.end("SHOW TABLES [IN database] ['pattern']")
        return ShowTables(database, pattern)
    if what == "COLUMNS":
        if not reader.accept("FROM", "IN"):
            raise reader.unexpected("SHOW COLUMNS FROM table")
        table = reader.name()
        if reader.accept("FROM", "IN"):
            database = reader.name()
            table = table if "." in table else f"{database}.{table}"
        reader.end("SHOW COLUMNS FROM table [FROM database]")
        return ShowColumns(table)
    raise reader.unexpected("this machine answers SHOW TABLES, SHOW COLUMNS, SHOW DATABASES "
                            "and DESCRIBE", back=True)


class _Reader:
    """The tokens of a SHOW or DESCRIBE statement, read left to right."""

    def __init__(self, sql: str, tokens: list) -> None:
        self.sql, self.tokens, self.at = sql, tokens, 0

    def more(self) -> bool:
        return self.at < len(self.tokens)

    def peek_word(self) -> str:
        return self.tokens[self.at].text.upper() if self.more() else ""

    def next_word(self) -> str:
        if not self.more():
            raise _at_end(self.sql)
        self.at += 1
        return self.tokens[self.at - 1].text.upper()

    def accept(self, *words: str) -> bool:
        if self.more() and self.tokens[self.at].token_type.name not in ("STRING", "IDENTIFIER") \
                and self.peek_word() in words:
            self.at += 1
            return True
        return False

    def unexpected(self, hint: str, back: bool = False) -> QueryError:
        if back:
            self.at -= 1
        if not self.more():
            return _at_end(self.sql, hint)
        return _unexpected(self.sql, self.tokens[self.at], hint)

    def name(self) -> str:
        """`name` or `database.name`, each plain, "quoted" or `quoted`; lower-cased as Athena
        does."""
        parts = [self._part()]
        while self.more() and self.tokens[self.at].token_type.name == "DOT":
            self.at += 1
            parts.append(self._part())
        if len(parts) > 3:
            raise self.unexpected("a name is [database.]table", back=True)
        if len(parts) == 3 and parts[0] != "awsdatacatalog":
            raise QueryError(f"unknown catalog {parts[0]}: this machine has one, "
                             "awsdatacatalog")
        return ".".join(parts[-2:])

    def _part(self) -> str:
        if not self.more():
            raise _at_end(self.sql, "expected a name")
        token = self.tokens[self.at]
        if token.token_type.name in ("STRING", "NUMBER", "DOT", "L_PAREN", "R_PAREN", "COMMA",
                                     "STAR"):
            raise _unexpected(self.sql, token, "expected a name")
        self.at += 1
        return token.text.lower()

    def string(self) -> str:
        token = self.tokens[self.at]
        if token.token_type.name != "STRING":
            raise _unexpected(self.sql, token, "expected a 'pattern'")
        self.at += 1
        return token.text

    def end(self, hint: str) -> None:
        if self.more():
            raise _unexpected(self.sql, self.tokens[self.at], hint)


# --- the translation ------------------------------------------------------------------------------

def _generate(tree, context: Context) -> str:
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, UnsupportedError

    if not isinstance(tree, exp.Query | exp.Values):
        raise QueryError(f"lake query only reads: give {READS}")
    tree = _athena_names(tree, context)
    _no_relative_files(tree)
    try:
        return tree.sql(dialect=_lake_dialect(), unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        message = str(error).splitlines()[0].removesuffix(".")
        message = re.sub(r" when targeting DuckDB|DuckDB's|in DuckDB| for DuckDB", "", message)
        raise QueryError(f"not supported on this machine: {message.strip()}") from None


def _athena_names(tree, context: Context):
    """What Athena names differently: `database.table` for the catalog's own database (or
    `awsdatacatalog.database.table`), and the result's unnamed columns, `_col0`, `_col1`, … in
    Athena where DuckDB would name them after their expression."""
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        if table.catalog.lower() == "awsdatacatalog":
            table.set("catalog", None)
        if context.database and table.db.lower() == context.database.lower():
            table.set("db", None)
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Select) and not any(
            isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
            for e in select.expressions):
        select.set("expressions", [
            e if isinstance(e, exp.Alias | exp.Column | exp.Dot) else exp.alias_(e, f"_col{i}")
            for i, e in enumerate(select.expressions)])
    return tree


def _no_relative_files(tree) -> None:
    """A file named by a relative path in a table function (DuckDB's read_parquet('x'), not
    Athena's SQL) is refused: DuckDB would look for it in the current folder when the stack's
    folder lacks it, past what the role may open (lake.local.access). Globs and full paths go
    on to DuckDB, which checks them."""
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        function = table.this
        if not isinstance(function, exp.Func):
            continue
        first = function.this if function.this is not None else (
            function.expressions[0] if function.expressions else None)
        literals = [first] if isinstance(first, exp.Literal) else (
            list(first.expressions) if isinstance(first, exp.Array) else [])
        for literal in literals:
            path = literal.name if isinstance(literal, exp.Literal) and literal.is_string else ""
            if path and not path.startswith("/") and "://" not in path and \
                    not re.search(r"[*?\[]", path):
                raise QueryError(f"{path}: this machine reads no file by a relative path; "
                                 "name a table instead (lake tables lists them)")


def _string(expression) -> str | None:
    """A string literal's text, None for anything else."""
    from sqlglot import exp

    return expression.name if isinstance(expression, exp.Literal) and expression.is_string \
        else None


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_date(expression) -> bool:
    """Whether `expression` is a DATE by what it is written as (a DATE literal, a cast to
    DATE, date(…), current_date); a column's type is not known here."""
    from sqlglot import exp
    from sqlglot.optimizer.annotate_types import annotate_types

    return annotate_types(expression.copy(), dialect="athena").is_type(exp.DType.DATE)


def _is_decimal(expression) -> bool:
    """Whether `expression` is written as a DECIMAL: a literal with a point (1.5, which Trino
    reads as DECIMAL and sqlglot as DOUBLE), a cast to DECIMAL, or arithmetic on one. A column's
    type is not known here (trino_decimal_divide asks it where the query runs)."""
    from sqlglot import exp

    if isinstance(expression, exp.Literal) and not expression.is_string:
        return "." in expression.name and "e" not in expression.name.lower()
    if isinstance(expression, exp.Cast | exp.TryCast):
        return expression.to.is_type(exp.DType.DECIMAL)
    if isinstance(expression, exp.Paren | exp.Neg):
        return _is_decimal(expression.this)
    if isinstance(expression, exp.Add | exp.Sub | exp.Mul | exp.Mod):
        return _is_decimal(expression.this) or _is_decimal(expression.expression)
    return False


def _generator_class():
    """sqlglot's DuckDB generator with Trino's functions written as Trino computes them (imported
    when a statement is translated, not when `lake` starts)."""
    from sqlglot import exp
    from sqlglot.generators.duckdb import DuckDBGenerator

    integers = (exp.DType.TINYINT, exp.DType.SMALLINT, exp.DType.INT, exp.DType.BIGINT)

    class Generator(DuckDBGenerator):
        TRANSFORMS = {
            **DuckDBGenerator.TRANSFORMS,
            exp.DateDiff: lambda self, e: self.func(
                "date_sub", exp.Literal.string(_unit(e)), e.expression, e.this),
            exp.ApproxDistinct: lambda self, e: self.func("approx_count_distinct", e.this),
            exp.ArraySize: lambda self, e: self.func("cardinality", e.this),
            exp.WidthBucket: lambda self, e: self.width_bucket(e),
            exp.Typeof: lambda self, e: f"lower(typeof({self.sql(e, 'this')}))",
            exp.Anonymous: lambda self, e: self.anonymous(e),
            exp.Cast: lambda self, e: self.to_integer(e, DuckDBGenerator.cast_sql),
            exp.TryCast: lambda self, e: self.to_integer(e, DuckDBGenerator.trycast_sql),
            exp.ArgMax: lambda self, e: self.arg_extreme(e, "arg_max"),
            exp.ArgMin: lambda self, e: self.arg_extreme(e, "arg_min"),
            exp.ArrayPosition: lambda self, e: self.func("trino_array_position", e.this,
                                                         e.expression),
            exp.GenerateSeries: lambda self, e: self.sequence(e),
            exp.Div: lambda self, e: self.divide(e),
            exp.Add: lambda self, e: self.date_arithmetic(e, "+"),
            exp.Sub: lambda self, e: self.date_arithmetic(e, "-"),
        }

        # Trino's own functions DuckDB has under another name, or writes otherwise.
        RENAMED = {"codepoint": "unicode", "hamming_distance": "hamming", "every": "bool_and",
                   "is_finite": "isfinite", "is_infinite": "isinf", "arrays_overlap":
                   "list_has_any", "zip": "list_zip", "format_number": "trino_format_number",
                   "array_union": "trino_array_union", "to_base": "trino_to_base",
                   "trim_array": "trino_trim_array",
                   "map_agg": None, "checksum": None, "approx_most_frequent": None,
                   "url_extract_host": None, "human_readable_seconds": None}
        CONSTANTS = {"e": "exp(1)", "nan": "CAST('NaN' AS DOUBLE)",
                     "infinity": "CAST('Infinity' AS DOUBLE)"}

        def anonymous(self, e) -> str:
            name = e.name.lower()
            if name in self.CONSTANTS and not e.expressions:
                return self.CONSTANTS[name]
            if name == "millisecond" and len(e.expressions) == 1:
                return f"(millisecond({self.sql(e.expressions[0])}) % 1000)"
            if name == "regexp_position" and 2 <= len(e.expressions) <= 4:
                defaults = [exp.Literal.number(1)] * (4 - len(e.expressions))
                return self.func("trino_regexp_position", *e.expressions, *defaults)
            if name == "to_iso8601" and len(e.expressions) == 1:
                return _iso8601(self.sql(e.expressions[0]))
            if name == "format_datetime" and len(e.expressions) == 2:
                return self.func("strftime", e.expressions[0],
                                 exp.Literal.string(_joda(e.expressions[1], "format_datetime")))
            if name in self.RENAMED:
                if self.RENAMED[name] is None:
                    raise QueryError(f"{name}() is not supported on this machine")
                return self.func(self.RENAMED[name], *e.expressions)
            return self.anonymous_sql(e)

        def parsedatetime_sql(self, e) -> str:
            return self.func("strptime", e.this,
                             exp.Literal.string(_joda(e.args.get("format"), "parse_datetime")))

        def frombase_sql(self, e) -> str:
            return self.func("trino_from_base", e.this, e.expression)

        def substring_sql(self, e) -> str:
            start, length = e.args.get("start"), e.args.get("length")
            if isinstance(start, exp.Literal) and start.is_int and int(start.name) > 0:
                return super().substring_sql(e)
            if length is None:
                return self.func("trino_substr_from", e.this, start)
            return self.func("trino_substr", e.this, start, length)

        def format_sql(self, e) -> str:
            pattern = _string(e.this)
            if pattern is None:
                raise QueryError("format(): give the format as a literal string on this "
                                 "machine")
            return _java_format(pattern, [self.sql(a) for a in e.expressions])

        def strposition_sql(self, e) -> str:
            occurrence = e.args.get("occurrence")
            if occurrence is not None and e.args.get("position") is None:
                return self.func("trino_strpos", e.this, e.args["substr"], occurrence)
            return super().strposition_sql(e)

        def split_sql(self, e) -> str:
            if e.args.get("limit") is not None:
                return self.func("trino_split", e.this, e.expression, e.args["limit"])
            return self.func("string_split", e.this, e.expression)

        def splitpart_sql(self, e) -> str:
            return self.func("trino_split_part", e.this, e.args.get("delimiter"),
                             e.args.get("part_index"))

        def regexpextract_sql(self, e) -> str:
            group = e.args.get("group") or exp.Literal.number(0)
            return self.func("trino_regexp_extract", e.this, e.expression, group)

        def regexpreplace_sql(self, e) -> str:
            replacement = e.args.get("replacement")
            if replacement is None:
                replacement_sql = "''"
            elif _string(replacement) is not None:
                replacement_sql = _quote(_re2_replacement(_string(replacement)))
            elif isinstance(replacement, exp.Lambda):
                raise QueryError("regexp_replace() with a function is not supported on this "
                                 "machine")
            else:
                replacement_sql = (f"regexp_replace({self.sql(replacement)}, "
                                   r"'\$(\d)', '\\\1', 'g')")
            return (f"regexp_replace({self.sql(e.this)}, {self.sql(e.expression)}, "
                    f"{replacement_sql}, 'g')")

        def arrayslice_sql(self, e) -> str:
            return self.func("trino_slice", e.this, e.args.get("start"), e.args.get("end"))

        def arraydistinct_sql(self, e) -> str:
            return self.func("trino_array_distinct", e.this)

        def arrayexcept_sql(self, e) -> str:
            return self.func("trino_array_except", e.this, e.expression)

        def reduce_sql(self, e) -> str:
            reduced = self.func("list_reduce", e.this, e.args.get("merge"),
                                e.args.get("initial"))
            finish = e.args.get("finish")
            if finish is None:
                return reduced
            # Trino applies the output function to the final state: a list of that one state,
            # transformed, then its element.
            return f"list_transform([{reduced}], {self.sql(finish)})[1]"

        def extract_sql(self, e) -> str:
            part = e.this.name.upper()
            iso = {"DOW": "isodow", "DAY_OF_WEEK": "isodow", "YOW": "isoyear",
                   "YEAR_OF_WEEK": "isoyear", "DOY": "dayofyear", "DAY_OF_YEAR": "dayofyear",
                   "DAY_OF_MONTH": "day"}
            if part in iso:
                return self.func(iso[part], e.expression)
            return super().extract_sql(e)

        def rand_sql(self, e) -> str:
            upper, lower = e.args.get("upper"), e.args.get("lower")
            bound = e.this if upper is None else upper
            if bound is None:
                return "random()"
            start = self.sql(lower) if lower is not None else "0"
            return (f"CAST({start} + floor(random() * ({self.sql(bound)} - {start})) "
                    f"AS BIGINT)")

        def approxquantile_sql(self, e) -> str:
            if e.args.get("weight") is not None:
                raise QueryError("approx_percentile() with weights is not supported on this "
                                 "machine")
            return super().approxquantile_sql(e)

        def datetrunc_sql(self, e) -> str:
            truncated = super().datetrunc_sql(e)
            return f"CAST({truncated} AS DATE)" if _is_date(e.this) else truncated

        def timestamptrunc_sql(self, e) -> str:
            truncated = super().timestamptrunc_sql(e)
            return f"CAST({truncated} AS DATE)" if _is_date(e.this) else truncated

        def date_arithmetic(self, e, operator: str) -> str:
            """DATE ± INTERVAL 'n' DAY (or longer) is a DATE in Trino, a TIMESTAMP in
            DuckDB."""
            plain = self.binary(e, operator)
            interval = e.expression
            if isinstance(interval, exp.Interval) and _is_date(e.this) and \
                    (interval.text("unit") or "").upper() in ("DAY", "WEEK", "MONTH", "YEAR"):
                return f"CAST({plain} AS DATE)"
            return plain

        def divide(self, e) -> str:
            """A DECIMAL divided is a DECIMAL in Trino, of the larger scale of the two, rounded
            half up (100.0 * 1 / 3 is 33.3); DuckDB divides it as a DOUBLE (33.333…). Where a
            side is written as a decimal (a literal, a cast), the quotient is rounded to that
            scale, which the types where the query runs decide (trino_decimal_divide); integer
            by integer is prepare's integer division, a double makes it a double's."""
            if any(_is_decimal(side) for side in (e.this, e.expression)):
                return self.func("trino_decimal_divide", e.this, e.expression)
            return DuckDBGenerator.div_sql(self, e)

        def to_integer(self, e, default) -> str:
            """Trino rounds a double cast to an integer type half up (2.5 → 3); DuckDB rounds
            it half to even (2.5 → 2). Which it is is asked of the value's type where the query
            runs; DuckDB folds the choice away."""
            to = e.args.get("to")
            if to is None or not to.is_type(*integers):
                return default(self, e)
            value = self.sql(e, "this")
            cast = "TRY_CAST" if isinstance(e, exp.TryCast) else "CAST"
            target = self.sql(to)
            return (f"CASE WHEN typeof({value}) IN ('DOUBLE', 'FLOAT') THEN {cast}(round("
                    f"TRY_CAST({value} AS DOUBLE)) AS {target}) ELSE {default(self, e)} END")

        def arg_extreme(self, e, name: str) -> str:
            """max_by/min_by: the value at the row of the largest (smallest) key, NULL or not;
            DuckDB's arg_max skips rows whose value is NULL, its arg_max_null does not."""
            if e.args.get("count") is not None:
                raise QueryError(f"{name.replace('arg_', '')}_by(x, y, n) is not supported on "
                                 "this machine; max_by(x, y) and min_by(x, y) are")
            return self.func(f"{name}_null", e.this, e.expression)

        def sequence(self, e) -> str:
            """sequence(start, stop) counts down by 1 when start > stop; DuckDB's
            generate_series would be empty."""
            start, end, step = e.args.get("start"), e.args.get("end"), e.args.get("step")
            if step is None and not _is_date(start):
                first, last = self.sql(start), self.sql(end)
                return (f"generate_series({first}, {last}, CASE WHEN {first} <= {last} THEN 1 "
                        f"ELSE -1 END)")
            return DuckDBGenerator.TRANSFORMS[exp.GenerateSeries](self, e)

        def width_bucket(self, e) -> str:
            args = [e.this, e.args.get("min_value"), e.args.get("max_value"),
                    e.args.get("num_buckets")]
            if any(a is None for a in args):
                raise QueryError("width_bucket(x, bins) is not supported on this machine; "
                                 "width_bucket(x, bound1, bound2, n) is")
            return self.func("trino_width_bucket", *args)

    return Generator


def _unit(e) -> str:
    unit = e.args.get("unit")
    return (unit.name if unit is not None else "day").lower()


def _iso8601(value: str) -> str:
    """to_iso8601: a date as 2020-05-11, a timestamp as 2020-05-11T11:15:05.000."""
    return (f"CASE WHEN typeof({value}) = 'DATE' THEN strftime({value}, '%Y-%m-%d') "
            f"WHEN typeof({value}) LIKE 'TIMESTAMP%' AND typeof({value}) NOT LIKE '%TIME ZONE' "
            f"THEN strftime({value}, '%Y-%m-%dT%H:%M:%S.%g') "
            f"ELSE error('to_iso8601() takes a date or a timestamp on this machine') END")


# Joda's pattern letters (format_datetime, parse_datetime) as strftime's, by letter and count.
_JODA = {("y", 2): "%y", ("y", 0): "%Y", ("Y", 0): "%Y", ("M", 1): "%-m", ("M", 2): "%m",
         ("M", 3): "%b", ("M", 0): "%B", ("d", 1): "%-d", ("d", 0): "%d", ("D", 1): "%-j",
         ("D", 0): "%j", ("E", 4): "%A", ("E", 0): "%a", ("e", 0): "%u", ("H", 1): "%-H",
         ("H", 0): "%H", ("h", 1): "%-I", ("h", 0): "%I", ("m", 1): "%-M", ("m", 0): "%M",
         ("s", 1): "%-S", ("s", 0): "%S", ("S", 3): "%g", ("S", 6): "%f", ("S", 9): "%n",
         ("a", 0): "%p", ("z", 0): "%Z", ("Z", 0): "%z"}


def _joda(pattern_expression, function: str) -> str:
    """A Joda-Time pattern (yyyy-MM-dd HH:mm) as strftime's (%Y-%m-%d %H:%M)."""
    pattern = _string(pattern_expression) if pattern_expression is not None else None
    if pattern is None:
        raise QueryError(f"{function}(): give the pattern as a literal string on this machine")
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            text = pattern[i + 1:end] if end > i else pattern[i + 1:]
            out.append("'" if end == i + 1 else text.replace("%", "%%"))
            i = end + 1 if end > i else len(pattern)
            continue
        if not char.isalpha():
            out.append("%%" if char == "%" else char)
            i += 1
            continue
        count = len(pattern[i:]) - len(pattern[i:].lstrip(char))
        part = _JODA.get((char, count)) or _JODA.get((char, 0))
        if part is None or (char == "S" and (char, count) not in _JODA):
            raise QueryError(f"{function}(): the pattern letter {char * count!r} is not "
                             "supported on this machine")
        out.append(part)
        i += count
    return "".join(out)


def _re2_replacement(java: str) -> str:
    """Java's replacement string (`$1` a group, `\\$` a dollar) as RE2's (`\\1`)."""
    out = []
    i = 0
    while i < len(java):
        char = java[i]
        if char == "\\" and i + 1 < len(java):
            out.append("\\\\" if java[i + 1] == "\\" else java[i + 1])
            i += 2
        elif char == "$" and java[i + 1:i + 2].isdigit():
            out.append("\\" + java[i + 1])
            i += 2
        elif char == "$" and java[i + 1:i + 2] == "{":
            raise QueryError("regexp_replace(): a named group (${name}) is not supported on "
                             "this machine; use its number, $1")
        else:
            out.append("\\\\" if char == "\\" else char)
            i += 1
    return "".join(out)


# --- format(): Java's format strings ---------------------------------------------------------

_SPECIFIER = re.compile(r"%(?:(?P<index>\d+)\$|(?P<previous><))?(?P<flags>[-#+ 0,(]*)"
                        r"(?P<width>\d+)?(?:\.(?P<precision>\d+))?"
                        r"(?P<conversion>[tT][a-zA-Z]|[a-zA-Z%])")
# Java's date/time suffixes (%tY …) as strftime's.
_DATE_PARTS = {"Y": "%Y", "y": "%y", "m": "%m", "d": "%d", "e": "%-d", "B": "%B", "b": "%b",
               "h": "%b", "A": "%A", "a": "%a", "H": "%H", "I": "%I", "k": "%-H", "l": "%-I",
               "M": "%M", "S": "%S", "L": "%g", "p": "%p", "j": "%j", "F": "%Y-%m-%d",
               "D": "%m/%d/%y", "T": "%H:%M:%S", "R": "%H:%M", "r": "%I:%M:%S %p",
               "c": "%a %b %d %H:%M:%S UTC %Y"}
_CONVERSIONS = "s, d, f, e, x, o, b, t…, %% and %n"


def _java_format(pattern: str, args: list[str]) -> str:
    """Trino's format(): Java's Formatter, in DuckDB's SQL. Each specifier becomes a piece of
    text; a NULL argument prints `null`, as Java prints it."""
    pieces: list[str] = []
    position, previous, at = 0, -1, 0
    for found in _SPECIFIER.finditer(pattern):
        if found.start() > at:
            pieces.append(_quote(pattern[at:found.start()]))
        at = found.end()
        conversion = found.group("conversion")
        if conversion == "%":
            pieces.append("'%'")
            continue
        if conversion == "n":
            pieces.append("chr(10)")
            continue
        if found.group("index"):
            index = int(found.group("index")) - 1
        elif found.group("previous"):
            index = previous
        else:
            index, position = position, position + 1
        if not 0 <= index < len(args):
            raise QueryError(f"format(): {found.group(0)!r} has no argument (give one value per "
                             f"specifier)")
        previous = index
        pieces.append(_specifier(found, args[index]))
    if at < len(pattern) and "%" in pattern[at:]:
        raise QueryError(f"format(): {pattern[at:][:20]!r} is not a format Java knows "
                         f"(supported: {_CONVERSIONS})")
    if at < len(pattern):
        pieces.append(_quote(pattern[at:]))
    if not pieces:
        return "''"
    return pieces[0] if len(pieces) == 1 else "concat(" + ", ".join(pieces) + ")"


def _specifier(found: re.Match, value: str) -> str:
    flags = found.group("flags") or ""
    width = found.group("width") or ""
    precision = found.group("precision")
    conversion = found.group("conversion")
    kind = conversion[0].lower()
    upper = conversion[0].isupper()
    left = "-" in flags
    if (left or "0" in flags) and not width:
        raise QueryError(f"format(): {found.group(0)!r} needs a width for its - or 0 flag")
    if "(" in flags or (kind in "stb" and set(flags) - {"-"}) or ("," in flags and "0" in flags):
        raise QueryError(f"format(): the flags of {found.group(0)!r} are not supported on this "
                         "machine")
    if kind == "s":
        text = f"coalesce(CAST({value} AS VARCHAR), 'null')"
        cut = f".{precision}" if precision else ""
        out = f"format('{{:{'<' if left else '>'}{width}{cut}}}', {text})" if width or cut \
            else text
    elif kind == "b":
        out = (f"CASE WHEN {value} IS NULL THEN 'false' WHEN typeof({value}) <> 'BOOLEAN' THEN "
               f"'true' ELSE CAST({value} AS VARCHAR) END")
        out = _pad(out, width, left)
    elif kind == "t":
        part = _DATE_PARTS.get(conversion[1])
        if part is None:
            raise QueryError(f"format(): {found.group(0)!r} is not supported on this machine")
        out = f"coalesce(strftime({value}, {_quote(part)}), 'null')"
        out = _pad(out, width, left)
    elif kind in "dxofe":
        out = _number(kind, value, flags, width, precision, left)
    else:
        raise QueryError(f"format(): {found.group(0)!r} is not supported on this machine "
                         f"(supported: {_CONVERSIONS})")
    return f"upper({out})" if upper else out


def _number(kind: str, value: str, flags: str, width: str, precision: str | None,
            left: bool) -> str:
    """%d %x %o %f %e. Java rounds %f half up from the shortest decimal that reads back as the
    double (1.005 → 1.01); DuckDB's fmt rounds the binary value (1.00). So the value is rounded
    first, exactly, as a DECIMAL of its shortest text."""
    if kind == "f":
        digits = int(precision) if precision is not None else 6
        value = (f"coalesce(round(TRY_CAST(CAST({value} AS VARCHAR) AS DECIMAL(38, 17)), "
                 f"{digits}), TRY_CAST({value} AS DOUBLE))")
        spec = f".{digits}f"
    elif kind == "e":
        spec = f".{int(precision) if precision is not None else 6}e"
    else:
        if precision is not None:
            raise QueryError(f"format(): %{kind} takes no precision")
        spec = kind
    alternate = "#" if "#" in flags else ""
    sign = "+" if "+" in flags else (" " if " " in flags else "")
    if "," in flags:
        core = f"format('{{:,{spec}}}', {value})"
        if sign:
            core = f"CASE WHEN {value} >= 0 THEN '{sign}' || {core} ELSE {core} END"
        out = _pad(core, width, left)
    else:
        zero = "0" if "0" in flags else ""
        align = "<" if left else ""
        out = f"format('{{:{align}{sign}{alternate}{zero}{width}{spec}}}', {value})"
    null = f"format('{{:{'<' if left else '>'}{width}}}', 'null')" if width else "'null'"
    return f"coalesce({out}, {null})"


def _pad(text: str, width: str, left: bool) -> str:
    if not width:
        return text
    return f"{'rpad' if left else 'lpad'}({text}, greatest({width}, length({text})), ' ')"


# --- what every connection needs ---------------------------------------------------------------

# Trino's functions that take more than one DuckDB function, written once. Each is DuckDB SQL;
# integer division is on (prepare), so a macro that divides says DOUBLE.
MACROS = {
    "trino_nth_position(s, sub, n)": (
        "list_reduce(range(n), LAMBDA acc, i : CASE WHEN acc < 0 THEN acc ELSE coalesce("
        "nullif(instr(substr(s, acc + 1), sub), 0) + acc, -1) END, 0)"),
    "trino_strpos(s, sub, n)": (
        "CASE WHEN n > 0 THEN greatest(trino_nth_position(s, sub, n), 0) "
        "WHEN n < 0 THEN CASE WHEN trino_nth_position(reverse(s), reverse(sub), -n) <= 0 "
        "THEN 0 ELSE length(s) - trino_nth_position(reverse(s), reverse(sub), -n) "
        "- length(sub) + 2 END "
        "ELSE error('strpos: instance must be a positive or negative number') END"),
    "trino_split(s, d, n)": (
        "CASE WHEN n < 1 THEN error('split: limit must be positive') "
        "WHEN len(string_split(s, d)) <= n THEN string_split(s, d) "
        "ELSE list_append(string_split(s, d)[1:n - 1], "
        "array_to_string(string_split(s, d)[n:], d)) END"),
    "trino_split_part(s, d, i)": (
        "CASE WHEN i < 1 THEN error('split_part: index must be greater than zero') "
        "WHEN i <= len(string_split(s, d)) THEN split_part(s, d, i) END"),
    "trino_regexp_extract(s, p, g)": (
        "CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END"),
    "trino_slice(x, s, n)": (
        "CASE WHEN s = 0 THEN error('slice: start must not be zero') "
        "WHEN n < 0 THEN error('slice: length must not be negative') "
        "WHEN s < 0 AND len(x) + s + 1 < 1 THEN x[1:0] "
        "WHEN s < 0 THEN list_slice(x, len(x) + s + 1, len(x) + s + n) "
        "ELSE list_slice(x, s, s + n - 1) END"),
    "trino_substr_from(s, st)": (
        "CASE WHEN st = 0 OR (st < 0 AND length(s) + st < 0) THEN '' ELSE substring(s, st) END"),
    "trino_substr(s, st, n)": (
        "CASE WHEN st = 0 OR n <= 0 OR (st < 0 AND length(s) + st < 0) THEN '' "
        "ELSE substring(s, st, n) END"),
    "trino_regexp_position(s, p, st, n)": (
        "CASE WHEN st < 1 THEN error('regexp_position: start must be positive') "
        "WHEN n < 1 THEN error('regexp_position: occurrence must be positive') "
        "WHEN len(regexp_extract_all(substr(s, st), p)) < n THEN -1 "
        "ELSE st + length(array_to_string(string_split_regex(substr(s, st), p)[1:n], '')) "
        "+ length(array_to_string(regexp_extract_all(substr(s, st), p)[1:n - 1], '')) END"),
    "trino_to_base(x, r)": (
        "CASE WHEN x < 0 THEN '-' || lower(to_base(-x, r)) ELSE lower(to_base(x, r)) END"),
    "trino_digit(c, r)": (
        "CASE WHEN c BETWEEN '0' AND '9' AND ascii(c) - 48 < r THEN ascii(c) - 48 "
        "WHEN c BETWEEN 'a' AND 'z' AND ascii(c) - 87 < r THEN ascii(c) - 87 "
        "ELSE error('from_base: not a valid base-' || r || ' number') END"),
    "trino_from_base(s, r)": (
        "CASE WHEN starts_with(s, '-') THEN -1 ELSE 1 END * list_reduce("
        "string_split(lower(ltrim(s, '-')), ''), LAMBDA acc, c : acc * r + trino_digit(c, r), "
        "CAST(0 AS BIGINT))"),
    "trino_scale(t)": (
        "CASE WHEN t LIKE 'DECIMAL(%' THEN CAST(regexp_extract(t, ',(\\d+)\\)', 1) AS INTEGER) "
        "ELSE 0 END"),
    "trino_decimal_divide(x, y)": (
        "CASE WHEN typeof(x) IN ('DOUBLE', 'FLOAT') OR typeof(y) IN ('DOUBLE', 'FLOAT') "
        "THEN CAST(x AS DOUBLE) / CAST(y AS DOUBLE) "
        "ELSE round(CAST(x AS DOUBLE) / CAST(y AS DOUBLE), "
        "greatest(trino_scale(typeof(x)), trino_scale(typeof(y)))) END"),
    "trino_array_position(x, v)": (
        "CASE WHEN x IS NOT NULL THEN coalesce(list_position(x, v), 0) END"),
    "trino_trim_array(x, n)": (
        "CASE WHEN n < 0 OR n > len(x) THEN error('trim_array: size must be between 0 and "
        "the array''s length') ELSE list_slice(x, 1, len(x) - n) END"),
    "trino_array_distinct(x)": "list_filter(x, LAMBDA v, i : list_position(x, v) = i)",
    "trino_array_union(x, y)": "trino_array_distinct(list_concat(x, y))",
    "trino_array_except(x, y)": (
        "list_filter(trino_array_distinct(x), LAMBDA v : NOT list_contains(y, v) AND "
        "NOT (v IS NULL AND list_position(y, NULL) IS NOT NULL))"),
    "trino_width_bucket(x, lo, hi, n)": (
        "CASE WHEN n <= 0 THEN error('width_bucket: bucket count must be positive') "
        "WHEN lo = hi THEN error('width_bucket: bounds cannot equal each other') "
        "WHEN lo < hi AND x < lo THEN 0 WHEN lo < hi AND x >= hi THEN n + 1 "
        "WHEN lo < hi THEN CAST(floor(CAST(n AS DOUBLE) * (x - lo) / (hi - lo)) + 1 AS BIGINT) "
        "WHEN x > lo THEN 0 WHEN x <= hi THEN n + 1 "
        "ELSE CAST(floor(CAST(n AS DOUBLE) * (lo - x) / (lo - hi)) + 1 AS BIGINT) END"),
    # Trino's FormatNumberFunction: the number as a whole number, divided by 1000 per unit,
    # then at most three significant digits, rounded half up, trailing zeros dropped.
    "trino_format_number_units(v)": (
        "CASE WHEN abs(v) >= 1e15 THEN 5 WHEN abs(v) >= 1e12 THEN 4 WHEN abs(v) >= 1e9 THEN 3 "
        "WHEN abs(v) >= 1e6 THEN 2 WHEN abs(v) >= 1e3 THEN 1 ELSE 0 END"),
    "trino_format_number_text(f)": (
        "CASE WHEN f < 10 THEN rtrim(rtrim(printf('%.2f', round(f, 2)), '0'), '.') "
        "WHEN f < 100 THEN rtrim(rtrim(printf('%.1f', round(f, 1)), '0'), '.') "
        "ELSE printf('%.0f', round(f)) END"),
    "trino_format_number(x)": (
        "trino_format_number_text(CAST(trunc(x) AS DOUBLE) / "
        "pow(1000, trino_format_number_units(trunc(x)))) || "
        "['', 'K', 'M', 'B', 'T', 'Q'][trino_format_number_units(trunc(x)) + 1]"),
}


def prepare(con) -> None:
    """Make a DuckDB connection answer translated SQL as Trino would: integer division, and the
    `trino_*` macros (temporary: they live with the connection, never in a catalog)."""
    con.execute("SET integer_division = true")
    con.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
    for signature, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS {body}")


@cache
def _lake_dialect():
    """sqlglot's DuckDB dialect with `_generator_class()`'s fixes (built on first use: sqlglot is
    imported only when a statement is translated)."""
    from sqlglot.dialects.duckdb import DuckDB

    class LakeDuckDB(DuckDB):
        Generator = _generator_class()

    return LakeDuckDB
