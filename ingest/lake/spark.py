"""Canned reports on Apache Spark, over a lake `cyberlog export --lake` wrote.

There is one copy of each report and view: the DuckDB SQL in `sql/`. sqlglot translates it
to Spark SQL when it runs; the report's `$params` become typed literals first (Spark SQL
has no named parameters in views and sqlglot keeps them as text). The lake's tables are
temporary views over the files its manifest lists, with the store's columns in the
store's order; `sql/views.sql` is translated into temporary views over them, so a
report reads the same names on both engines.

What does not carry over is named in `DUCKDB_ONLY` (with why) and refused before Spark
starts. pyspark (and a Java 17+ runtime) are needed only here: `pip install
'cyberlog[spark]'`.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from ingest.errors import UsageError
from ingest.lake import parquet as lakes
from ingest.lake.remote import DUCKDB_ONLY
from ingest.store import sql_dir, statements

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG_CONFIG = Path(__file__).parent.parent / "data" / "log4j2-spark.properties"


# Spark settings for results equal to DuckDB's: times in UTC, ANSI SQL (errors, not NULLs,
# on bad casts, as DuckDB), a small local job's shuffle, no UI port to collide on.
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.log.level": "OFF",
    "spark.ui.showConsoleProgress": "false",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
}


class SparkUnavailable(UsageError):
    """pyspark or Java missing: a usage error that says what to install."""


def check_available() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "--engine spark needs pyspark: pip install 'cyberlog[spark]' (and a Java 17+ runtime)"
        ) from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise SparkUnavailable("--engine spark needs a Java 17+ runtime: install one or set JAVA_HOME")


def session(master: str | None = None, app: str = "cyberlog") -> SparkSession:
    """A Spark session: local mode on every core by default, or the cluster `master` names."""
    check_available()
    from pyspark.sql import SparkSession

    settings = dict(SETTINGS)
    if master is None or master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # a local job listens on loopback only
        # a lake's hundreds of partition files are listed by the driver, not by a Spark job
        settings["spark.sql.sources.parallelPartitionDiscovery.threshold"] = "100000"
    quiet = f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
    builder = SparkSession.builder.appName(app).master(master or "local[*]")
    for key, value in {**settings, "spark.driver.extraJavaOptions": quiet}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")  # failures arrive as exceptions
    return spark


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("TIMESTAMP"))
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("DATE"))
    return exp.Literal.string(str(value))


def _spark(text: str) -> exp.Expression:
    return cast(exp.Expression, sqlglot.parse_one(text, read="spark"))


def _s(node: exp.Expression) -> str:
    return node.sql(dialect="spark")


_STRFTIME = {"%Y": "yyyy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%j": "DDD"}


def _java_pattern(fmt: str) -> str:
    """A strftime format as a Java DateTimeFormatter pattern, literal text quoted."""
    out = []
    for part in re.split(r"(%[A-Za-z])", fmt):
        if part in _STRFTIME:
            out.append(_STRFTIME[part])
        elif part.startswith("%") and len(part) == 2:
            raise UsageError(f"strftime format {part} has no Spark equivalent here")
        else:  # letters are pattern letters to Java: quote them
            out.append(re.sub(r"([A-Za-z']+)", lambda m: "'" + m[1].replace("'", "''") + "'", part))
    return "".join(out)


def _rewrite(node: exp.Expression) -> exp.Expression:
    """DuckDB functions sqlglot leaves as they are, or translates to something that means
    another thing on Spark, as their Spark equivalents (same results, tested)."""
    if isinstance(node, exp.Anonymous):
        name, args = node.name.lower(), node.expressions
        if name == "list_position":  # DuckDB: NULL when absent; Spark: 0
            return _spark(f"NULLIF(ARRAY_POSITION({_s(args[0])}, {_s(args[1])}), 0)")
        if name == "list_slice":  # DuckDB: begin and end, inclusive; Spark: start and length
            return _spark(f"SLICE({_s(args[0])}, {_s(args[1])}, ({_s(args[2])}) - ({_s(args[1])}) + 1)")
        if name == "epoch_us":  # microseconds since 1970 of an instant
            return _spark(f"UNIX_MICROS(CAST({_s(args[0])} AS TIMESTAMP))")
        if name == "timezone":  # DuckDB: the wall-clock time in the zone, a TIMESTAMP without zone
            return _spark(f"CAST(FROM_UTC_TIMESTAMP({_s(args[1])}, {_s(args[0])}) AS TIMESTAMP_NTZ)")
        if name == "portable_hash":  # sql/schema.sql: the same 60-bit number on both engines
            text = ", ':', ".join(f"CAST({_s(a)} AS STRING)" for a in args)
            return _spark(f"CAST(CONV(LEFT(MD5(CONCAT({text})), 15), 16, 10) AS BIGINT)")
        if name == "hash":
            raise UsageError("hash() differs between DuckDB and Spark: use portable_hash()")
    if isinstance(node, exp.Round) and isinstance(node.args.get("decimals"), exp.Literal):
        return _round(node.this, int(node.args["decimals"].this))
    if isinstance(node, exp.TimeToUnix):  # DuckDB epoch(): seconds as a DOUBLE, microseconds kept
        return _spark(f"CAST(UNIX_MICROS(CAST({_s(node.this)} AS TIMESTAMP)) AS DOUBLE) / 1000000")
    if isinstance(node, exp.TimeToStr):
        fmt = node.args["format"]
        if not isinstance(fmt, exp.Literal):
            raise UsageError("strftime with a format that is not a literal cannot be translated")
        return exp.Anonymous(this="DATE_FORMAT", expressions=[node.this, exp.Literal.string(_java_pattern(fmt.this))])
    if isinstance(node, exp.DayOfWeekIso):  # Monday 1 .. Sunday 7; Spark's DAYOFWEEK is Sunday 1
        return _spark(f"((DAYOFWEEK({_s(node.this)}) + 5) % 7) + 1")
    if isinstance(node, exp.Bracket):  # DuckDB list[i] counts from 1 and is NULL past the end
        if len(node.expressions) != 1 or isinstance(node.expressions[0], exp.Slice):
            raise UsageError("list slices (l[a:b]) are not translated to Spark: use list_slice()")
        return _spark(f"TRY_ELEMENT_AT({_s(node.this)}, CAST({_s(node.expressions[0])} AS INT))")
    if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
        return _series(node)
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and isinstance(node.this.this, exp.Order):
        return _ordered_list(node.this, node.expression.this)
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        return _ordered_list(node, None)
    if isinstance(node, exp.Array) and [type(e) for e in node.expressions] == [exp.Comprehension]:
        return _comprehension(node.expressions[0])
    return node


def _round(value: exp.Expression, digits: int) -> exp.Expression:
    """round(x, n) of a DOUBLE as DuckDB gives it: the double's exact binary value rounded
    half away from zero. Spark rounds the double's shortest decimal instead, so 0.4875
    (0.48749999... in binary) is 0.488 on Spark and 0.487 on DuckDB. Here k = floor(|x|·P)
    and whether |x|·P reaches k + 0.5 is decided exactly: |x| split in two 26-bit halves
    (Veltkamp) makes every product with P = 10^n exact."""
    if not 0 <= digits <= 8:
        raise UsageError(f"round(x, {digits}) is translated to Spark for 0 to 8 digits only")
    p = f"{10**digits}D"
    a = "ABS(v)"
    hi = f"({a} * 134217729D - ({a} * 134217729D - {a}))"
    k = f"FLOOR({a} * {p})"
    up = f"CASE WHEN ({hi} * {p} - ({k} + 0.5D)) + ({a} - {hi}) * {p} >= 0 THEN 1 ELSE 0 END"
    return _spark(f"ELEMENT_AT(TRANSFORM(ARRAY(CAST({_s(value)} AS DOUBLE)), v -> SIGN(v) * ({k} + {up}) / {p}), 1)")


def _comprehension(node: exp.Comprehension) -> exp.Expression:
    """[f(x) FOR x IN list IF p(x)]: TRANSFORM(FILTER(list, x -> p(x)), x -> f(x))."""
    var, items = node.expression.name, _s(node.args["iterator"])
    if node.args.get("condition") is not None:
        items = f"FILTER({items}, {var} -> {_s(node.args['condition'])})"
    return _spark(f"TRANSFORM({items}, {var} -> {_s(node.this)})")


def _series(node: exp.Table) -> exp.Expression:
    """range()/generate_series() AS t(c) in FROM: a lateral subquery exploding a sequence."""
    series = node.this
    alias = node.args.get("alias")
    if not alias or len(alias.columns) != 1:
        raise UsageError("range() and generate_series() in FROM need an alias naming their column: AS t(x)")
    start, end = _s(series.args["start"]), _s(series.args["end"])
    if series.args.get("is_end_exclusive"):
        end = f"({end}) - 1"
    step = f", {_s(series.args['step'])}" if series.args.get("step") else ""
    query = _spark(
        f"SELECT * FROM LATERAL (SELECT EXPLODE(SEQUENCE({start}, {end}{step})) AS {alias.columns[0].name}) "
        f"AS {alias.name}"
    )
    return cast(exp.Expression, query.find(exp.From).this)  # type: ignore[union-attr]


def _ordered_list(node: exp.ArrayAgg, where: exp.Expression | None) -> exp.Expression:
    """list(x ORDER BY k1, k2) [FILTER (WHERE c)]: Spark's COLLECT_LIST keeps no order, so
    collect (k1, k2, x) structs, sort them and keep x. list(DISTINCT x ORDER BY x): the
    distinct values, sorted. Spark's COLLECT_LIST leaves out NULLs, which DuckDB's list()
    keeps: the reports filter them out, or list columns that are never NULL."""
    order = node.this
    keys = order.expressions
    if any(k.args.get("desc") for k in keys):
        raise UsageError("list(... ORDER BY ... DESC) is not translated to Spark")
    value = order.this
    filtered = f" FILTER (WHERE {_s(where)})" if where is not None else ""
    if isinstance(value, exp.Distinct):
        [item] = value.expressions
        if [_s(k.this) for k in keys] != [_s(item)]:
            raise UsageError("list(DISTINCT x ORDER BY y) is translated to Spark only when y is x")
        found = f"ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST({_s(item)}){filtered}))"
    else:
        fields = ", ".join(f"'k{i}', {_s(k.this)}" for i, k in enumerate(keys))
        found = f"TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT({fields}, 'v', {_s(value)})){filtered}), e -> e.v)"
    if filtered:  # no row passed the filter: DuckDB's list() is NULL, COLLECT_LIST's empty
        found = f"CASE WHEN SIZE({found}) > 0 THEN {found} END"
    return _spark(found)


class _DuckDBAsWritten(DuckDB):
    """DuckDB's dialect, list indexes kept as written: sqlglot moves an index to 0-based
    only where it can type it (l[2] becomes l[1], l[1 + i] stays), and _rewrite turns
    every one into Spark's 1-based TRY_ELEMENT_AT."""

    INDEX_OFFSET = 0


def translate(sql: str, params: dict[str, Any] | None = None) -> str:
    """DuckDB SQL as Spark SQL, `$name` parameters replaced by their values as literals."""
    return _spark_sql(_parsed(sql, params))


def _parsed(sql: str, params: dict[str, Any] | None) -> exp.Expression:
    tree = cast(exp.Expression, sqlglot.parse_one(sql, read=_DuckDBAsWritten))
    if params is not None:

        def bind(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Placeholder) and node.name:
                if node.name not in params:
                    raise UsageError(f"the SQL uses ${node.name}, which has no value")
                return _literal(params[node.name])
            return node

        tree = tree.transform(bind)
    return _inline_macros(tree)


def _inline_macros(tree: exp.Expression) -> exp.Expression:
    """Calls of the store's scalar macros (sql/schema.sql) replaced by their bodies, their
    arguments put in, and the macros those bodies call in turn: Spark has no macros, and one
    DuckDB copy of each stays the only one."""
    macros = _macros()

    def expand(node: exp.Expression) -> exp.Expression:
        if not (isinstance(node, exp.Anonymous) and node.name.lower() in macros):
            return node
        params, body = macros[node.name.lower()]
        values = dict(zip(params, node.expressions, strict=True))

        def put(n: exp.Expression) -> exp.Expression:
            return values[n.name].copy() if isinstance(n, exp.Column) and not n.table and n.name in values else n

        return body.copy().transform(put).transform(expand)  # a transform skips what it put in

    return tree.transform(expand)


@cache
def _macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """The store's macros by name: parameters and body (portable_hash has a rewrite of its own)."""
    found = {}
    for statement in statements((sql_dir() / "schema.sql").read_text("utf-8")):
        head = re.search(r"CREATE OR REPLACE MACRO (\w+)\(([^)]*)\) AS", statement)
        if head and head[1] != "portable_hash":
            body = cast(exp.Expression, sqlglot.parse_one(statement[head.end() :], read=_DuckDBAsWritten))
            found[head[1]] = ([p.strip() for p in head[2].split(",")], body)
    return found


def _spark_sql(tree: exp.Expression) -> str:
    return _bottom_up(tree).sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


_STEP_RUNS = count(1)  # names each report run's step tables apart


def steps(sql: str, params: dict[str, Any]) -> list[tuple[str | None, str]]:
    """A report as Spark statements: (name, SELECT) for each step of its WITH that later
    steps read more than once, computed once and kept as a table of that name, then
    (None, the final SELECT). Steps read once stay CTEs of the statement that reads them.

    Spark inlines a CTE at every reference, and expands a view or a cached table's plan
    again wherever it is read, so a report whose steps are reused by steps that are reused
    again (event_study: the draws, their ranks, the smallest p and the tests all read one
    table of sums) grew past the driver's memory while being planned. `run_report` cuts
    each such step's lineage (localCheckpoint), so every plan stays the size of its SQL.
    """
    tree = _parsed(sql, params)
    key = "with_" if "with_" in tree.args else "with"  # sqlglot renamed the arg in 2025
    ctes = tree.args.get(key)
    if ctes is None:
        return [(None, _spark_sql(tree))]
    tree.set(key, None)
    defined = [(cte.alias, cte.this) for cte in ctes.expressions]
    readers = [body for _, body in defined] + [tree]
    reads = {name: sum(_reads(r, name) for r in readers) for name, _ in defined}
    run = next(_STEP_RUNS)
    kept: dict[str, str] = {}
    inline: list[tuple[str, exp.Expression]] = []
    found: list[tuple[str | None, str]] = []
    for name, body in defined:
        body = _renamed(body, kept)
        if reads[name] > 1:
            kept[name] = f"cyberlog_step_{run}_{name}"
            found.append((kept[name], _spark_sql(_with(body, inline, key))))
        else:
            inline.append((name, body))
    found.append((None, _spark_sql(_with(_renamed(tree, kept), inline, key))))
    return found


def _reads(tree: exp.Expression, name: str) -> int:
    return sum(1 for t in tree.find_all(exp.Table) if not t.db and t.name == name)


def _with(body: exp.Expression, inline: list[tuple[str, exp.Expression]], key: str) -> exp.Expression:
    """The statement with the steps read once that it needs, as its own WITH."""
    needed = [(n, b) for n, b in inline if _reads(body, n) or any(_reads(o, n) for _, o in inline)]
    if not needed:
        return body
    ctes = [exp.CTE(this=b.copy(), alias=exp.TableAlias(this=exp.to_identifier(n))) for n, b in needed]
    statement = body.copy()
    statement.set(key, exp.With(expressions=ctes))
    return statement


def _renamed(tree: exp.Expression, kept: dict[str, str]) -> exp.Expression:
    """References to kept steps point at their tables, under the step's own name."""
    for table in list(tree.find_all(exp.Table)):
        if not table.db and table.name in kept:
            original = table.name
            table.set("this", exp.to_identifier(kept[original]))
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(original)))
    return tree


def _bottom_up(node: exp.Expression) -> exp.Expression:
    """_rewrite applied children first, so a rewrite embeds children already translated.
    An ordered list() under FILTER is rewritten with its filter, so its parts go first."""
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg) and isinstance(node.this.this, exp.Order):
        _children_first(node.this.this)
        _children_first(node.expression)
        return _rewrite(node)
    _children_first(node)
    return _rewrite(node)


def _children_first(node: exp.Expression) -> None:
    for child in list(node.iter_expressions()):
        new = _bottom_up(child)
        if new is not child:
            child.replace(new)


def _view(statement: str) -> str:
    """A CREATE VIEW of sql/views.sql as a Spark temporary view."""
    spark_sql = translate(statement)
    return re.sub(r"\bCREATE OR REPLACE VIEW\b", "CREATE OR REPLACE TEMPORARY VIEW", spark_sql, count=1)


def register_lake(spark: SparkSession, lake: Path) -> None:
    """The lake's tables and the store's views as Spark temporary views."""
    manifest = lakes.read_lake(lake)
    if not manifest.tables:
        raise UsageError(f"{lake} holds no cyberlog lake: write one with `cyberlog export --lake {lake}`")
    for table in lakes.TABLES:
        if table.name not in manifest.tables:
            continue
        columns = manifest.columns(table.name)
        files = [str(lake / f) for f in manifest.files(table.name)]
        schema = ", ".join(f"`{n}` {_spark_type(t)}" for n, t in columns)
        if files:
            frame = spark.read.option("recursiveFileLookup", "true").parquet(*files)
            frame = frame.select(*[f"`{n}`" for n, _ in columns])
        else:
            frame = spark.createDataFrame([], schema)
        frame.createOrReplaceTempView(table.name)
    for statement in statements((sql_dir() / "views.sql").read_text("utf-8")):
        spark.sql(_view(statement))


def _spark_type(duckdb_type: str) -> str:
    """The Spark type a lake column of this store type reads as (only for empty tables)."""
    simple = {
        "VARCHAR": "STRING",
        "BIGINT": "BIGINT",
        "INTEGER": "INT",
        "TINYINT": "TINYINT",
        "DOUBLE": "DOUBLE",
        "BOOLEAN": "BOOLEAN",
        "DATE": "DATE",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
        "VARCHAR[]": "ARRAY<STRING>",
    }
    return simple.get(duckdb_type, "STRING")


Rows = tuple[list[str], list[tuple[Any, ...]]]


def run_report(spark: SparkSession, name: str, sql: str, params: dict[str, Any]) -> Rows:
    """A canned report's columns and rows, as Spark computes them."""
    if name in DUCKDB_ONLY:
        raise UsageError(f"report {name} runs on DuckDB only: {DUCKDB_ONLY[name]}")
    statements = steps(sql, params)
    try:
        for step, statement in statements[:-1]:
            spark.sql(statement).localCheckpoint(eager=True).createOrReplaceTempView(str(step))
        frame = spark.sql(statements[-1][1])
        columns = list(frame.columns)
        return columns, [tuple(_python(v) for v in row) for row in frame.collect()]
    finally:
        for step, _ in statements[:-1]:
            spark.catalog.dropTempView(str(step))


def _python(value: Any) -> Any:
    """A Spark value as DuckDB's Python client gives it: lists for arrays, aware UTC times."""
    if isinstance(value, list):
        return [_python(v) for v in value]
    if isinstance(value, Decimal):  # Spark keeps DECIMAL where DuckDB's arithmetic gives DOUBLE
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        from datetime import UTC

        return value.replace(tzinfo=UTC)
    return value


def message(exc: BaseException) -> str:
    """The first line of a Spark error, without the JVM's stack."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
