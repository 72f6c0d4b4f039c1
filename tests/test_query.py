"""Athena (Trino) SQL as `lake query` translates and runs it: the functions analysts use, each
with the answer Trino's documentation gives, or that its words give when worked out by hand; the
statements Athena has and sqlglot does not (SHOW, DESCRIBE); syntax errors in words.

Each row of FUNCTIONS names the Trino documentation page (and anchor) its answer comes from.
The expected values were written from those pages, not from what DuckDB returns: a row that
fails is a translation that answers differently from Athena.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from decimal import Decimal

import duckdb
import pytest

from lake.local.sql import (
    Context,
    Describe,
    Query,
    QueryError,
    ShowColumns,
    ShowDatabases,
    ShowTables,
    prepare,
    to_duckdb,
    translate,
)

DOCS = "https://trino.io/docs/current/functions/"
STRING, CONVERSION, MATH = DOCS + "string.html", DOCS + "conversion.html", DOCS + "math.html"
CONDITIONAL, DATETIME, REGEXP = (DOCS + "conditional.html", DOCS + "datetime.html",
                                 DOCS + "regexp.html")
AGGREGATE, ARRAY, MAP, JSON = (DOCS + "aggregate.html", DOCS + "array.html", DOCS + "map.html",
                               DOCS + "json.html")
COMPARISON = DOCS + "comparison.html"

# The rows the aggregates run over: i, x (a double), s, b.
ROWS = ("(VALUES (1, DOUBLE '2.0', 'a', true), (2, DOUBLE '4.0', 'b', false), "
        "(3, NULL, 'a', true), (4, DOUBLE '10.0', NULL, NULL)) AS t(i, x, s, b)")
# conditional.html#try's `shipping` table.
SHIPPING = ("(VALUES ('California', '94131', 25, 100), ('California', 'P332a', 5, 72), "
            "('California', '94025', 0, 155), ('New Jersey', '08544', 225, 490)) "
            "AS shipping(origin_state, origin_zip, packages, total_cost)")
UTC = timezone.utc  # noqa: UP017 - the name reads the same in every Python this runs on
OPERATORS = "date-and-time-operators"


def near(value: float) -> object:
    return pytest.approx(value, rel=1e-12)


# (Athena SQL: an expression, or a whole SELECT; the answer Trino gives; where it is documented)
FUNCTIONS: list[tuple[str, object, str]] = [
    # --- strings -------------------------------------------------------------------------------
    ("chr(65)", "A", f"{STRING}#chr"),
    ("codepoint('A')", 65, f"{STRING}#codepoint"),
    ("concat('a', 'b', 'c')", "abc", f"{STRING}#concat"),
    ("'a' || 'b'", "ab", f"{STRING}#string-operators"),
    ("concat_ws(',', 'a', NULL, 'b')", "a,b", f"{STRING}#concat_ws"),
    ("ends_with('hello', 'lo')", True, f"{STRING}#ends_with"),
    ("hamming_distance('abcd', 'abed')", 1, f"{STRING}#hamming_distance"),
    ("length('Palhoça')", 7, f"{STRING}#length"),
    ("levenshtein_distance('kitten', 'sitting')", 3, f"{STRING}#levenshtein_distance"),
    ("lower('ENEM')", "enem", f"{STRING}#lower"),
    ("upper('enem')", "ENEM", f"{STRING}#upper"),
    ("lpad('7', 3, '0')", "007", f"{STRING}#lpad"),
    ("lpad('12345', 3, '0')", "123", f"{STRING}#lpad"),  # longer: truncated to size
    ("rpad('7', 3, '0')", "700", f"{STRING}#rpad"),
    ("ltrim('  a ')", "a ", f"{STRING}#ltrim"),
    ("rtrim(' a  ')", " a", f"{STRING}#rtrim"),
    ("trim('  a  ')", "a", f"{STRING}#trim"),
    ("trim('!' FROM '!foo!')", "foo", f"{STRING}#trim"),
    ("trim(BOTH '$' FROM '$var$')", "var", f"{STRING}#trim"),
    ("trim(TRAILING 'ER' FROM upper('worker'))", "WORK", f"{STRING}#trim"),
    ("position('l' IN 'hello')", 3, f"{STRING}#position"),
    ("replace('banana', 'a')", "bnn", f"{STRING}#replace"),
    ("replace('banana', 'a', 'o')", "bonono", f"{STRING}#replace"),
    ("reverse('abc')", "cba", f"{STRING}#reverse"),
    ("split('a,b,c', ',')", ["a", "b", "c"], f"{STRING}#split"),
    ("split('a,b,c', ',', 2)", ["a", "b,c"], f"{STRING}#split"),  # the last holds the rest
    ("split_part('a,b,c', ',', 2)", "b", f"{STRING}#split_part"),
    ("split_part('a,b,c', ',', 4)", None, f"{STRING}#split_part"),  # past the end: null
    ("strpos('hello', 'l')", 3, f"{STRING}#strpos"),
    ("strpos('hello', 'z')", 0, f"{STRING}#strpos"),
    ("strpos('hello', 'l', 2)", 4, f"{STRING}#strpos"),  # the 2nd instance
    ("strpos('hello', 'l', -1)", 4, f"{STRING}#strpos"),  # the first from the end
    ("strpos('hello', 'l', 3)", 0, f"{STRING}#strpos"),
    ("starts_with('hello', 'he')", True, f"{STRING}#starts_with"),
    ("substr('hello', 2)", "ello", f"{STRING}#substring"),
    ("substr('hello', 2, 3)", "ell", f"{STRING}#substring"),
    ("substring('hello', -3, 2)", "ll", f"{STRING}#substring"),  # from the end
    ("translate('abcd', 'a', 'z')", "zbcd", f"{STRING}#translate"),
    ("translate('Palhoça', 'ç', 'c')", "Palhoca", f"{STRING}#translate"),
    ("translate('abcd', 'ac', 'z')", "zbd", f"{STRING}#translate"),
    ("from_utf8(to_utf8('Itaúna'))", "Itaúna", f"{STRING}#to_utf8"),
    # --- formatting: format (Java's Formatter) and format_number --------------------------
    ("format('%s%%', 123)", "123%", f"{CONVERSION}#format"),
    ("format('%.5f', pi())", "3.14159", f"{CONVERSION}#format"),
    ("format('%03d', 8)", "008", f"{CONVERSION}#format"),
    ("format('%,.2f', 1234567.89)", "1,234,567.89", f"{CONVERSION}#format"),
    ("format('%-7s,%7s', 'hello', 'world')", "hello  ,  world", f"{CONVERSION}#format"),
    ("format('%2$s %3$s %1$s', 'a', 'b', 'c')", "b c a", f"{CONVERSION}#format"),
    ("format('%1$tA, %1$tB %1$te, %1$tY', date '2006-07-04')", "Tuesday, July 4, 2006",
     f"{CONVERSION}#format"),
    # Java's %f rounds half up (Formatter: RoundingMode.HALF_UP), from the decimal digits
    ("format('%.1f', 0.25)", "0.3", f"{CONVERSION}#format"),
    ("format('%.1f', 2.45)", "2.5", f"{CONVERSION}#format"),
    ("format('%.2f', DOUBLE '1.005')", "1.01", f"{CONVERSION}#format"),
    ("format('%.1f', DOUBLE '-0.25')", "-0.3", f"{CONVERSION}#format"),
    ("format('%5.1f|%-5d|%05d', 3.14159, 42, -42)", "  3.1|42   |-0042", f"{CONVERSION}#format"),
    ("format('%x %X %o', 255, 255, 8)", "ff FF 10", f"{CONVERSION}#format"),
    ("format('%+d %,d', 5, -1234567)", "+5 -1,234,567", f"{CONVERSION}#format"),
    ("format('%s and %s', NULL, 1)", "null and 1", f"{CONVERSION}#format"),  # Java prints null
    ("format('%b %b', true, NULL)", "true false", f"{CONVERSION}#format"),
    ("format('%S!%n', 'ok')", "OK!\n", f"{CONVERSION}#format"),
    ("format_number(123456)", "123K", f"{CONVERSION}#format_number"),
    ("format_number(1000000)", "1M", f"{CONVERSION}#format_number"),
    ("format_number(1234567)", "1.23M", f"{CONVERSION}#format_number"),
    ("format_number(999)", "999", f"{CONVERSION}#format_number"),
    ("format_number(DOUBLE '12345.9')", "12.3K", f"{CONVERSION}#format_number"),
    # --- conversion --------------------------------------------------------------------------
    ("CAST('12' AS INTEGER)", 12, f"{CONVERSION}#cast"),
    ("CAST(DOUBLE '2.5' AS INTEGER)", 3, f"{CONVERSION}#cast"),  # rounded half up, not to even
    ("CAST(DOUBLE '-2.5' AS BIGINT)", -3, f"{CONVERSION}#cast"),
    ("CAST(DOUBLE '3.5' AS SMALLINT)", 4, f"{CONVERSION}#cast"),
    ("CAST(12.5 AS INTEGER)", 13, f"{CONVERSION}#cast"),
    ("try_cast('x' AS INTEGER)", None, f"{CONVERSION}#try_cast"),
    ("try_cast(DOUBLE '0.5' AS INTEGER)", 1, f"{CONVERSION}#try_cast"),
    ("typeof(123)", "integer", f"{CONVERSION}#typeof"),
    ("typeof(cos(2) + 1.5)", "double", f"{CONVERSION}#typeof"),
    # --- mathematical ------------------------------------------------------------------------
    ("7 / 2", 3, f"{MATH}#mathematical-operators"),  # integer division truncates
    ("-7 / 2", -3, f"{MATH}#mathematical-operators"),
    # a decimal divided keeps the larger scale of the two, rounded half up
    ("7 / 2.0", 3.5, f"{DOCS}decimal.html#binary-arithmetic-decimal-operators"),
    ("1 / 3.0", 0.3, f"{DOCS}decimal.html#binary-arithmetic-decimal-operators"),
    ("2.00 / 3", 0.67, f"{DOCS}decimal.html#binary-arithmetic-decimal-operators"),
    ("100.0 * 1 / 3", 33.3, f"{DOCS}decimal.html#binary-arithmetic-decimal-operators"),
    ("DOUBLE '1.0' / 4", 0.25, f"{MATH}#mathematical-operators"),
    ("7 % 3", 1, f"{MATH}#mathematical-operators"),
    ("mod(-7, 3)", -1, f"{MATH}#mod"),
    ("abs(-3)", 3, f"{MATH}#abs"),
    ("cbrt(27)", near(3.0), f"{MATH}#cbrt"),
    ("ceil(2.1)", 3, f"{MATH}#ceil"),
    ("ceiling(-2.1)", -2, f"{MATH}#ceiling"),
    ("floor(-2.1)", -3, f"{MATH}#floor"),
    ("round(2.5)", 3, f"{MATH}#round"),
    ("round(DOUBLE '-2.5')", -3.0, f"{MATH}#round"),
    ("round(2.45, 1)", Decimal("2.5"), f"{MATH}#round"),
    ("truncate(DOUBLE '2.7')", 2.0, f"{MATH}#truncate"),
    ("truncate(-2.7)", -2, f"{MATH}#truncate"),
    ("power(2, 10)", 1024.0, f"{MATH}#power"),
    ("sqrt(16)", 4.0, f"{MATH}#sqrt"),
    ("exp(0)", 1.0, f"{MATH}#exp"),
    ("ln(e())", near(1.0), f"{MATH}#ln"),
    ("e()", near(math.e), f"{MATH}#e"),
    ("pi()", near(math.pi), f"{MATH}#pi"),
    ("log2(8)", near(3.0), f"{MATH}#log2"),
    ("log10(1000)", near(3.0), f"{MATH}#log10"),
    ("log(2, 8)", near(3.0), f"{MATH}#log"),
    ("sign(-5)", -1, f"{MATH}#sign"),
    ("sign(0)", 0, f"{MATH}#sign"),
    ("degrees(pi())", near(180.0), f"{MATH}#degrees"),
    ("radians(180)", near(math.pi), f"{MATH}#radians"),
    ("width_bucket(5.3, 0.2, 10.6, 5)", 3, f"{MATH}#width_bucket"),  # buckets 2.08 wide
    ("width_bucket(-1, 0, 10, 5)", 0, f"{MATH}#width_bucket"),  # below the first bound
    ("width_bucket(10, 0, 10, 5)", 6, f"{MATH}#width_bucket"),  # at or past the second
    ("is_nan(nan())", True, f"{MATH}#is_nan"),
    ("is_finite(1.0)", True, f"{MATH}#is_finite"),
    ("is_infinite(infinity())", True, f"{MATH}#is_infinite"),
    ("to_base(255, 16)", "ff", f"{MATH}#to_base"),
    ("from_base('ff', 16)", 255, f"{MATH}#from_base"),
    ("random(10) BETWEEN 0 AND 9", True, f"{MATH}#random"),
    ("greatest(1, 5, 3)", 5, f"{COMPARISON}#greatest"),
    ("least(1, 5, 3)", 1, f"{COMPARISON}#least"),
    # --- conditional -------------------------------------------------------------------------
    ("if(1 > 0, 'y', 'n')", "y", f"{CONDITIONAL}#if-expression"),
    ("if(1 < 0, 'y')", None, f"{CONDITIONAL}#if-expression"),
    ("coalesce(NULL, 2, 3)", 2, f"{CONDITIONAL}#coalesce-function"),
    ("nullif(1, 1)", None, f"{CONDITIONAL}#nullif-function"),
    ("nullif(1, 2)", 1, f"{CONDITIONAL}#nullif-function"),
    ("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "two",
     f"{CONDITIONAL}#case-expression"),
    ("try(1 / 0)", None, f"{CONDITIONAL}#try-function"),
    ("try(CAST('P332a' AS BIGINT))", None, f"{CONDITIONAL}#try-function"),
    (f"SELECT array_agg(COALESCE(TRY(total_cost / packages), 0) ORDER BY origin_zip) "
     f"FROM {SHIPPING}", [2, 0, 4, 14], f"{CONDITIONAL}#try-function"),  # 490/225 … 72/5
    # --- date and time -----------------------------------------------------------------------
    ("date '2012-08-08' + interval '2' day", date(2012, 8, 10), f"{DATETIME}#{OPERATORS}"),
    ("date '2012-08-08' - interval '2' day", date(2012, 8, 6), f"{DATETIME}#{OPERATORS}"),
    ("timestamp '2012-08-08 01:00' + interval '29' hour", datetime(2012, 8, 9, 6),
     f"{DATETIME}#{OPERATORS}"),
    ("timestamp '2012-10-31 01:00' + interval '1' month", datetime(2012, 11, 30, 1),
     f"{DATETIME}#{OPERATORS}"),
    ("date_trunc('day', TIMESTAMP '2022-10-20 05:10:00')", datetime(2022, 10, 20),
     f"{DATETIME}#date_trunc"),
    ("date_trunc('month', TIMESTAMP '2022-10-20 05:10:00')", datetime(2022, 10, 1),
     f"{DATETIME}#date_trunc"),
    ("date_trunc('year', TIMESTAMP '2022-10-20 05:10:00')", datetime(2022, 1, 1),
     f"{DATETIME}#date_trunc"),
    ("date_trunc('month', DATE '2022-10-20')", date(2022, 10, 1), f"{DATETIME}#date_trunc"),
    ("date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00')", datetime(2020, 3, 1, 0, 1, 26),
     f"{DATETIME}#date_add"),
    ("date_add('hour', 9, TIMESTAMP '2020-03-01 00:00:00')", datetime(2020, 3, 1, 9),
     f"{DATETIME}#date_add"),
    ("date_add('day', -1, DATE '2020-03-01')", date(2020, 2, 29), f"{DATETIME}#date_add"),
    ("date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00')",
     86400, f"{DATETIME}#date_diff"),
    ("date_diff('day', DATE '2020-03-01', DATE '2020-03-02')", 1, f"{DATETIME}#date_diff"),
    ("date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000000000', "
     "TIMESTAMP '2020-06-02 12:30:45.123456789')", 86400123, f"{DATETIME}#date_diff"),
    # whole units between the two: a day is no year, 1 month and 27 days is one month
    ("date_diff('year', DATE '2018-12-31', DATE '2019-01-01')", 0, f"{DATETIME}#date_diff"),
    ("date_diff('month', DATE '2019-01-15', DATE '2019-03-14')", 1, f"{DATETIME}#date_diff"),
    ("date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')", "10-20-2022 05",
     f"{DATETIME}#date_format"),
    ("date_parse('2022/10/20/05', '%Y/%m/%d/%H')", datetime(2022, 10, 20, 5),
     f"{DATETIME}#date_parse"),
    ("format_datetime(TIMESTAMP '2022-10-20 05:10:00', 'yyyy-MM-dd HH:mm')", "2022-10-20 05:10",
     f"{DATETIME}#format_datetime"),
    ("format_datetime(DATE '2019-11-03', 'dd/MM/yyyy')", "03/11/2019",
     f"{DATETIME}#format_datetime"),
    ("extract(YEAR FROM TIMESTAMP '2022-10-20 05:10:00')", 2022, f"{DATETIME}#extract"),
    ("extract(DOW FROM DATE '2019-11-03')", 7, f"{DATETIME}#extract"),  # a Sunday, ISO
    ("day_of_week(DATE '2019-11-03')", 7, f"{DATETIME}#day_of_week"),
    ("day_of_year(DATE '2019-11-03')", 307, f"{DATETIME}#day_of_year"),
    ("week(DATE '2019-11-03')", 44, f"{DATETIME}#week"),
    ("year_of_week(DATE '2019-12-30')", 2020, f"{DATETIME}#year_of_week"),
    ("quarter(DATE '2019-11-03')", 4, f"{DATETIME}#quarter"),
    ("last_day_of_month(DATE '2019-02-10')", date(2019, 2, 28),
     f"{DATETIME}#last_day_of_month"),
    ("hour(TIMESTAMP '2022-10-20 05:10:07')", 5, f"{DATETIME}#hour"),
    ("minute(TIMESTAMP '2022-10-20 05:10:07')", 10, f"{DATETIME}#minute"),
    ("second(TIMESTAMP '2022-10-20 05:10:07')", 7, f"{DATETIME}#second"),
    ("millisecond(TIMESTAMP '2022-10-20 05:10:07.321')", 321, f"{DATETIME}#millisecond"),
    ("from_iso8601_date('2020-05-11')", date(2020, 5, 11), f"{DATETIME}#from_iso8601_date"),
    ("to_iso8601(DATE '2020-05-11')", "2020-05-11", f"{DATETIME}#to_iso8601"),
    ("to_iso8601(TIMESTAMP '2020-05-11 11:15:05')", "2020-05-11T11:15:05.000",
     f"{DATETIME}#to_iso8601"),
    ("to_unixtime(TIMESTAMP '1970-01-02 00:00:00')", 86400.0, f"{DATETIME}#to_unixtime"),
    ("from_unixtime(86400)", datetime(1970, 1, 2, tzinfo=UTC), f"{DATETIME}#from_unixtime"),
    # --- regular expressions (every example of the page) ------------------------------------
    (r"regexp_count('1a 2b 14m', '\s*[a-z]+\s*')", 3, f"{REGEXP}#regexp_count"),
    (r"regexp_extract_all('1a 2b 14m', '\d+')", ["1", "2", "14"],
     f"{REGEXP}#regexp_extract_all"),
    (r"regexp_extract_all('1a 2b 14m', '(\d+)([a-z]+)', 2)", ["a", "b", "m"],
     f"{REGEXP}#regexp_extract_all"),
    (r"regexp_extract('1a 2b 14m', '\d+')", "1", f"{REGEXP}#regexp_extract"),
    (r"regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)", "a", f"{REGEXP}#regexp_extract"),
    (r"regexp_extract('abc', '\d+')", None, f"{REGEXP}#regexp_extract"),  # no match: null
    (r"regexp_like('1a 2b 14m', '\d+b')", True, f"{REGEXP}#regexp_like"),
    (r"regexp_position('I have 23 apples, 5 pears and 13 oranges', '\b\d+\b')", 8,
     f"{REGEXP}#regexp_position"),
    (r"regexp_position('I have 23 apples, 5 pears and 13 oranges', '\b\d+\b', 12)", 19,
     f"{REGEXP}#regexp_position"),
    (r"regexp_position('I have 23 apples, 5 pears and 13 oranges', '\b\d+\b', 12, 2)", 31,
     f"{REGEXP}#regexp_position"),
    (r"regexp_position('I have 23 apples, 5 pears and 13 oranges', '\b\d+\b', 12, 3)", -1,
     f"{REGEXP}#regexp_position"),
    (r"regexp_replace('1a 2b 14m', '\d+[ab] ')", "14m", f"{REGEXP}#regexp_replace"),
    (r"regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')", "3ca 3cb 14m",
     f"{REGEXP}#regexp_replace"),
    (r"regexp_replace('R$ 998', '(\d+)', '\$$1')", "R$ $998", f"{REGEXP}#regexp_replace"),
    (r"regexp_split('1a 2b 14m', '\s*[a-z]+\s*')", ["1", "2", "14", ""],
     f"{REGEXP}#regexp_split"),
    # --- aggregates --------------------------------------------------------------------------
    (f"SELECT count(*) FROM {ROWS}", 4, f"{AGGREGATE}#count"),
    (f"SELECT count(x) FROM {ROWS}", 3, f"{AGGREGATE}#count"),
    (f"SELECT count_if(x > 3) FROM {ROWS}", 2, f"{AGGREGATE}#count_if"),
    (f"SELECT sum(i) FROM {ROWS}", 10, f"{AGGREGATE}#sum"),
    (f"SELECT avg(i) FROM {ROWS}", 2.5, f"{AGGREGATE}#avg"),
    (f"SELECT sum(i) / count(*) FROM {ROWS}", 2, f"{MATH}#mathematical-operators"),
    (f"SELECT 100 * count_if(b) / count(*) FROM {ROWS}", 50, f"{AGGREGATE}#count_if"),
    (f"SELECT min(s) FROM {ROWS}", "a", f"{AGGREGATE}#min"),
    (f"SELECT max(x) FROM {ROWS}", 10.0, f"{AGGREGATE}#max"),
    (f"SELECT max_by(s, i) FROM {ROWS}", None, f"{AGGREGATE}#max_by"),  # s at i = 4 is null
    (f"SELECT min_by(s, i) FROM {ROWS}", "a", f"{AGGREGATE}#min_by"),
    (f"SELECT bool_and(b) FROM {ROWS}", False, f"{AGGREGATE}#bool_and"),
    (f"SELECT bool_or(b) FROM {ROWS}", True, f"{AGGREGATE}#bool_or"),
    (f"SELECT every(b) FROM {ROWS}", False, f"{AGGREGATE}#every"),
    (f"SELECT arbitrary(i) BETWEEN 1 AND 4 FROM {ROWS}", True, f"{AGGREGATE}#arbitrary"),
    (f"SELECT array_agg(i ORDER BY i DESC) FROM {ROWS}", [4, 3, 2, 1], f"{AGGREGATE}#array_agg"),
    (f"SELECT listagg(s, ',') WITHIN GROUP (ORDER BY s) FROM {ROWS}", "a,a,b",
     f"{AGGREGATE}#listagg"),
    (f"SELECT histogram(s) FROM {ROWS}", {"a": 2, "b": 1}, f"{AGGREGATE}#histogram"),
    (f"SELECT count(DISTINCT s) FROM {ROWS}", 2, f"{AGGREGATE}#count"),
    (f"SELECT approx_distinct(s) FROM {ROWS}", 2, f"{AGGREGATE}#approx_distinct"),
    (f"SELECT approx_distinct(s, 0.01) FROM {ROWS}", 2, f"{AGGREGATE}#approx_distinct"),
    ("SELECT approx_percentile(v, 0.5) FROM (VALUES 1, 2, 3, 4, 5) AS t(v)", 3,
     f"{AGGREGATE}#approx_percentile"),
    ("SELECT approx_percentile(v, ARRAY[0.0, 1.0]) FROM (VALUES 1, 2, 3, 4, 5) AS t(v)", [1, 5],
     f"{AGGREGATE}#approx_percentile"),
    # x = 2, 4, 10: mean 16/3, squares about it 104/3
    (f"SELECT stddev(x) FROM {ROWS}", near(math.sqrt(52 / 3)), f"{AGGREGATE}#stddev"),
    (f"SELECT stddev_pop(x) FROM {ROWS}", near(math.sqrt(104 / 9)), f"{AGGREGATE}#stddev_pop"),
    (f"SELECT variance(x) FROM {ROWS}", near(52 / 3), f"{AGGREGATE}#variance"),
    (f"SELECT var_pop(x) FROM {ROWS}", near(104 / 9), f"{AGGREGATE}#var_pop"),
    (f"SELECT geometric_mean(x) FROM {ROWS}", near(80 ** (1 / 3)), f"{AGGREGATE}#geometric_mean"),
    (f"SELECT sum(x) FILTER (WHERE i > 1) FROM {ROWS}", 14.0,
     f"{AGGREGATE}#filtering-during-aggregation"),
    # --- arrays --------------------------------------------------------------------------------
    ("ARRAY[1, 1.2, 4][2]", Decimal("1.2"), f"{ARRAY}#subscript-operator"),
    ("ARRAY[1] || ARRAY[2]", [1, 2], f"{ARRAY}#concatenation-operator"),
    ("concat(ARRAY[1], ARRAY[2, 3])", [1, 2, 3], f"{ARRAY}#concat"),
    ("cardinality(ARRAY[1, 2, 3])", 3, f"{ARRAY}#cardinality"),
    ("element_at(ARRAY[1, 2, 3], 2)", 2, f"{ARRAY}#element_at"),
    ("element_at(ARRAY[1, 2, 3], -1)", 3, f"{ARRAY}#element_at"),
    ("element_at(ARRAY[1, 2, 3], 5)", None, f"{ARRAY}#element_at"),
    ("contains(ARRAY[1, 2, 3], 2)", True, f"{ARRAY}#contains"),
    ("array_distinct(ARRAY[3, 1, 3, 2, 1])", [3, 1, 2], f"{ARRAY}#array_distinct"),
    ("array_sort(array_intersect(ARRAY[1, 2, 3], ARRAY[3, 1, 5]))", [1, 3],
     f"{ARRAY}#array_intersect"),
    ("array_union(ARRAY[2, 1, 2], ARRAY[3, 1])", [2, 1, 3], f"{ARRAY}#array_union"),
    ("array_except(ARRAY[3, 1, 2, 3], ARRAY[2])", [3, 1], f"{ARRAY}#array_except"),
    ("array_join(ARRAY['a', NULL, 'b'], ',')", "a,b", f"{ARRAY}#array_join"),
    ("array_join(ARRAY['a', NULL, 'b'], ',', 'x')", "a,x,b", f"{ARRAY}#array_join"),
    ("array_max(ARRAY[1, 5, 3])", 5, f"{ARRAY}#array_max"),
    ("array_min(ARRAY[1, 5, 3])", 1, f"{ARRAY}#array_min"),
    ("array_position(ARRAY[5, 6, 7], 7)", 3, f"{ARRAY}#array_position"),
    ("array_position(ARRAY[5, 6, 7], 9)", 0, f"{ARRAY}#array_position"),
    ("array_remove(ARRAY[1, 2, 1], 1)", [2], f"{ARRAY}#array_remove"),
    ("array_sort(ARRAY[3, NULL, 1])", [1, 3, None], f"{ARRAY}#array_sort"),  # nulls last
    ("arrays_overlap(ARRAY[1, 2], ARRAY[2, 3])", True, f"{ARRAY}#arrays_overlap"),
    ("filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", [5, 7], f"{ARRAY}#filter"),
    ("transform(ARRAY[5, NULL, 6], x -> coalesce(x, 0) + 1)", [6, 1, 7], f"{ARRAY}#transform"),
    ("reduce(ARRAY[5, 20, 50], 0, (s, x) -> s + x, s -> s)", 75, f"{ARRAY}#reduce"),
    ("reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> s + x, s -> s)", None, f"{ARRAY}#reduce"),
    ("reduce(ARRAY[5, 6, 10, 20], CAST(ROW(0.0, 0) AS ROW(sum DOUBLE, count INTEGER)), "
     "(s, x) -> CAST(ROW(x + s.sum, s.count + 1) AS ROW(sum DOUBLE, count INTEGER)), "
     "s -> IF(s.count = 0, NULL, s.sum / s.count))", 10.25, f"{ARRAY}#reduce"),
    ("reduce(ARRAY[2, 3], 1, (s, x) -> s * x, s -> s * 10)", 60, f"{ARRAY}#reduce"),
    ("sequence(1, 5)", [1, 2, 3, 4, 5], f"{ARRAY}#sequence"),
    ("sequence(5, 1)", [5, 4, 3, 2, 1], f"{ARRAY}#sequence"),  # start > stop: -1
    ("sequence(1, 10, 3)", [1, 4, 7, 10], f"{ARRAY}#sequence"),
    ("slice(ARRAY[1, 2, 3, 4], 2, 2)", [2, 3], f"{ARRAY}#slice"),
    ("slice(ARRAY[1, 2, 3, 4], -2, 2)", [3, 4], f"{ARRAY}#slice"),
    ("trim_array(ARRAY[1, 2, 3, 4], 1)", [1, 2, 3], f"{ARRAY}#trim_array"),
    ("flatten(ARRAY[ARRAY[1], ARRAY[2, 3]])", [1, 2, 3], f"{ARRAY}#flatten"),
    ("element_at(split('a,b,c', ','), 2)", "b", f"{ARRAY}#element_at"),
    ("element_at(split('a,b,c', ','), -1)", "c", f"{ARRAY}#element_at"),
    # --- maps and JSON -------------------------------------------------------------------------
    ("map(ARRAY['a', 'b'], ARRAY[1, 2])['b']", 2, f"{MAP}#subscript-operator"),
    ("element_at(map(ARRAY['a', 'b'], ARRAY[1, 2]), 'z')", None, f"{MAP}#element_at"),
    ("cardinality(map(ARRAY['a', 'b'], ARRAY[1, 2]))", 2, f"{MAP}#cardinality"),
    ("map_keys(map(ARRAY['a', 'b'], ARRAY[1, 2]))", ["a", "b"], f"{MAP}#map_keys"),
    ("map_values(map(ARRAY['a', 'b'], ARRAY[1, 2]))", [1, 2], f"{MAP}#map_values"),
    ("map_from_entries(ARRAY[ROW('a', 1), ROW('b', 2)])['b']", 2, f"{MAP}#map_from_entries"),
    ("""json_extract_scalar('{"a": {"b": 7}}', '$.a.b')""", "7", f"{JSON}#json_extract_scalar"),
    ("json_array_length('[1, 2, 3]')", 3, f"{JSON}#json_array_length"),
]


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    prepare(connection)
    yield connection
    connection.close()


def answer(con, athena_sql: str) -> object:
    sql = athena_sql if athena_sql.lstrip().upper().startswith("SELECT") else (
        f"SELECT {athena_sql}")
    [row] = con.execute(to_duckdb(sql)).fetchall()
    return row[0]


@pytest.mark.parametrize(("athena_sql", "expected", "doc"), FUNCTIONS,
                         ids=[row[0][:60] for row in FUNCTIONS])
def test_trino_functions_answer_as_trino_documents_them(con, athena_sql: str, expected: object,
                                                        doc: str) -> None:
    assert doc.startswith(DOCS) and "#" in doc
    got = answer(con, athena_sql)
    assert got == expected, f"{athena_sql} gave {got!r}; Trino gives {expected!r} ({doc})"
    if expected is not None and not isinstance(expected, type(pytest.approx(0))):
        # the type too, where it shows: 3 is not 3.0, a date is not a timestamp
        assert type(got) is type(expected) or isinstance(expected, (int, Decimal)) and \
            isinstance(got, (int, Decimal)), f"{athena_sql}: {type(got)}"


def test_the_table_covers_what_analysts_use() -> None:
    pages = {doc.split("#")[0] for _, _, doc in FUNCTIONS}
    assert pages >= {STRING, CONVERSION, MATH, CONDITIONAL, DATETIME, REGEXP, AGGREGATE, ARRAY,
                     MAP}
    assert len(FUNCTIONS) >= 150


@pytest.mark.parametrize(("athena_sql", "message"), [
    ("SELECT luhn_check('79927398713')", "function luhn_check"),
    ("SELECT map_agg(a, b) FROM t", "map_agg() is not supported on this machine"),
    ("SELECT max_by(a, b, 2) FROM t", "max_by(x, y, n) is not supported on this machine"),
    ("SELECT approx_percentile(x, 2, 0.5) FROM t", "approx_percentile() with weights"),
    ("SELECT regexp_replace('a', 'a', x -> x[1])", "regexp_replace() with a function"),
    ("SELECT format(f, 1) FROM t", "format(): give the format as a literal string"),
    ("SELECT format('%d %d', 1)", "format(): '%d' has no argument"),
    ("SELECT format('%q', 1)", "format(): '%q' is not supported on this machine"),
    ("SELECT format('%(d', -1)", "format(): the flags of '%(d' are not supported"),
    ("SELECT soundex('a')", "not supported on this machine: SOUNDEX"),
])
def test_what_this_machine_cannot_answer_as_athena_is_refused_in_one_line(
        con, athena_sql: str, message: str) -> None:
    """Refused, rather than answered otherwise than Athena would."""
    with pytest.raises((QueryError, duckdb.Error)) as caught:
        answer(con, athena_sql)
    text = str(caught.value)
    if isinstance(caught.value, QueryError):
        assert text.startswith(message) and "\n" not in text
    else:  # no DuckDB function of that name: the catalog says so in one line (test_cli_local)
        assert "luhn_check" in text


def test_unnamed_columns_are_named_as_athena_names_them() -> None:
    assert to_duckdb("SELECT count(*), t.a, b AS c, 1, sg_uf_prova FROM t") == (
        "SELECT COUNT(*) AS _col0, t.a, b AS c, 1 AS _col3, sg_uf_prova FROM t")
    assert to_duckdb("SELECT *, 1 FROM t") == "SELECT *, 1 FROM t"  # positions unknown: as is


def test_the_catalogs_own_database_may_name_its_tables() -> None:
    context = Context(database="datalake_dev_enem")
    assert to_duckdb('SELECT 1 FROM datalake_dev_enem.t JOIN "AwsDataCatalog".'
                     'datalake_dev_enem.u ON true', context) == (
        "SELECT 1 AS _col0 FROM t JOIN u ON TRUE")
    assert to_duckdb("SELECT 1 FROM datalake_dev_enem_restricted.t", context) == (
        "SELECT 1 AS _col0 FROM datalake_dev_enem_restricted.t")


# --- SHOW and DESCRIBE ---------------------------------------------------------------------------

@pytest.mark.parametrize(("athena_sql", "statement"), [
    ("SHOW TABLES", ShowTables()),
    ("show tables in datalake_dev_enem_restricted", ShowTables("datalake_dev_enem_restricted")),
    ("SHOW TABLES '*_2019|gold_*';", ShowTables(None, "*_2019|gold_*")),
    ("SHOW TABLES FROM x LIKE 'label*'", ShowTables("x", "label*")),
    ("SHOW DATABASES", ShowDatabases()),
    ("SHOW SCHEMAS", ShowDatabases()),
    ("SHOW COLUMNS FROM microdados_enem_2019", ShowColumns("microdados_enem_2019")),
    ("SHOW COLUMNS IN Microdados_Enem_2019 IN datalake_dev_enem",
     ShowColumns("datalake_dev_enem.microdados_enem_2019")),
    ("SHOW COLUMNS FROM `datalake_dev_enem_restricted`.`microdados_enem_2019`",
     ShowColumns("datalake_dev_enem_restricted.microdados_enem_2019")),
    ("DESCRIBE gold_essay_status", Describe("gold_essay_status")),
    ('DESC "awsdatacatalog".datalake_dev_enem.label_q006;',
     Describe("datalake_dev_enem.label_q006")),
])
def test_show_and_describe_are_read_as_athena_reads_them(athena_sql: str, statement) -> None:
    assert translate(athena_sql) == statement


def test_a_query_is_a_query() -> None:
    assert translate("SELECT 1") == Query("SELECT 1 AS _col0")
    with pytest.raises(QueryError, match=r"^give a query \(SELECT, WITH or VALUES\)"):
        to_duckdb("SHOW TABLES")


# --- errors read like a person wrote them -------------------------------------------------------

@pytest.mark.parametrize(("athena_sql", "message"), [
    ("SELEC * FROM t", "bad SQL at line 1, column 1: unexpected SELEC (a statement starts with "
                       "SELECT, WITH, VALUES, SHOW or DESCRIBE)"),
    ("SELECT * FROM", "bad SQL at line 1, column 14: unexpected end of the statement (expected a "
                      "table name)"),
    ("SELECT a FROM t WHERE", "bad SQL at line 1, column 22: unexpected end of the statement "
                              "(WHERE is incomplete)"),
    ("SELECT (a FROM t", "bad SQL at line 1, column 11: unexpected FROM (expected ))"),
    ("SELECT a b c FROM t", "bad SQL at line 1, column 12: unexpected c"),
    ("SELECT a FROM t WHERE a = = 1", "bad SQL at line 1, column 27: unexpected ="),
    ("SELECT CASE WHEN a THEN 1 FROM t", "bad SQL at line 1, column 25: unexpected 1 (expected "
                                         "END to close the CASE)"),
    ("SELECT a\nFROM t\nWHERE (b = 1", "bad SQL at line 3, column 13: unexpected end of the "
                                       "statement (expected ))"),
    ("SELECT 'abc FROM t", "bad SQL at line 1, column 8: unexpected 'abc FROM t (a string that "
                           "never ends: close it with ')"),
    ("FROM t SELECT a", "bad SQL at line 1, column 1: unexpected FROM"),
    ("PRAGMA version", "bad SQL at line 1, column 1: unexpected PRAGMA"),
    ("SHOW PARTITIONS t", "bad SQL at line 1, column 6: unexpected PARTITIONS"),
    ("SHOW COLUMNS t", "bad SQL at line 1, column 14: unexpected t (SHOW COLUMNS FROM table)"),
    ("DESCRIBE a b", "bad SQL at line 1, column 12: unexpected b (DESCRIBE takes one table)"),
    ("DROP TABLE t", "lake query only reads: DROP is not a read statement (give SELECT, WITH, "
                     "VALUES, SHOW or DESCRIBE)"),
    ("SELECT 1; SELECT 2", "give one SQL statement (got 2)"),
    ("-- nothing but a comment", "give one SQL statement (got 0)"),
])
def test_syntax_errors_say_where_and_which_token(athena_sql: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        translate(athena_sql)
    text = str(caught.value)
    assert text.startswith(message), text
    assert "\n" not in text and "<class" not in text and "Token" not in text
