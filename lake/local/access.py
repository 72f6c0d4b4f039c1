"""Who sees what, on one machine (README: Who sees what), enforced by what a connection can open.

Each audience has a catalog of its own under `<root>/<stack>/`: the business users' holds the
gold tables, the analysts' also the public microdata and the label tables, the researchers' also
the restricted tables, in the schema named as their Glue database is in AWS
(`<database>_restricted`). A statement runs on an in-memory DuckDB connection that attaches the
role's catalog read-only and may then open only the files of the role's zones
(`jobs.contract.ROLE_ZONES`): DuckDB's `allowed_directories` with external access otherwise
disabled, and the configuration locked, so no statement can read anything else (an analyst's
`read_parquet('…/restricted/…')` is refused like any other file outside its zones).
"""

from __future__ import annotations

import re
from pathlib import Path

from jobs.contract import CATALOG_FILE, DEFAULT_ROLE, ROLE_ZONES, ROLES, restricted_database
from jobs.errors import UsageError
from lake.local.sql import QueryError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DATASET = "enem"  # the DataLake the program declares (__main__.py): its names carry it
# The analysts' catalog keeps the name the lake's catalog always had: analyst is the default.
CATALOG_FILES = {"business": "catalog-business.duckdb", "analyst": CATALOG_FILE,
                 "researcher": "catalog-researcher.duckdb"}
WHAT_EACH_READS = {
    "business": "the gold tables",
    "analyst": "the gold tables, the public microdata and the label tables",
    "researcher": "the gold tables, the public microdata, the label tables and the restricted "
                  "tables",
}


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"--role {role!r}: use one of {', '.join(ROLES)}")
    return role


def catalog_file(base: Path, role: str = DEFAULT_ROLE) -> Path:
    """The catalog of `role` in a stack's folder `base`."""
    return base / CATALOG_FILES[check_role(role)]


def project_name() -> str:
    """The Pulumi project's name (Pulumi.yaml), which starts the Glue database's name."""
    text = (PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    found = re.search(r"^name:\s*([A-Za-z0-9_.-]+)\s*$", text, re.MULTILINE)
    return found.group(1) if found else "datalake"


def database(stack: str) -> str:
    """The Glue database the stack would have in AWS (`<project>_<stack>_<dataset>`), as the
    local catalog names the same tables."""
    return re.sub(r"[^a-z0-9_]", "_", f"{project_name()}_{stack}_{DATASET}".lower())


def restricted_schema(stack: str) -> str:
    """Where a researcher finds the restricted tables: the restricted database's name."""
    return restricted_database(database(stack))


def zone_folders(base: Path, role: str) -> list[Path]:
    return [base / zone for zone in ROLE_ZONES[check_role(role)]]


def refused(role: str, what: str) -> QueryError:
    return QueryError(f"role {role} may not read {what}; role {role} reads "
                      f"{WHAT_EACH_READS[role]}")


def open_as(role: str, base: Path):
    """A DuckDB connection for `role` on the stack in `base`: its catalog, read-only, and the
    files of its zones, nothing else. The catalog's views name their files relative to `base`
    (`file_search_path`), so a moved or copied stack reads its own files; Athena SQL translated
    for it runs as Athena runs it (`lake.local.sql.prepare`); a result streams as it is read
    (no insertion order to keep: Athena keeps none without ORDER BY either)."""
    import duckdb

    from lake.local.catalog import check_location, search_path
    from lake.local.sql import prepare

    catalog = catalog_file(base, role)
    if not catalog.exists():
        raise QueryError(f"no catalog at {catalog}; run `lake crawl` (or `lake run`) first")
    con = duckdb.connect(":memory:")
    try:
        # Each zone by its full path, and as the views name it, relative to the stack's folder
        # (`processed/`): DuckDB checks a path as written, then looks for it in
        # file_search_path. It refuses `..` in either.
        folders = [str(folder.resolve()) + "/" for folder in zone_folders(base, role)]
        folders += [zone + "/" for zone in ROLE_ZONES[role]]
        con.execute("SET allowed_directories = " + "[" + ", ".join(
            "'" + folder.replace("'", "''") + "'" for folder in folders) + "]")
        con.execute(search_path(base))
        con.execute(f"ATTACH '{str(catalog).replace(chr(39), chr(39) * 2)}' AS lake "
                    "(READ_ONLY)")
        con.execute("USE lake")
        check_location(con, base, catalog)
        prepare(con)
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except QueryError:
        con.close()
        raise
    except duckdb.Error as error:
        con.close()
        lines = [line for line in str(error).splitlines() if line.strip()]
        raise QueryError(f"cannot open {catalog}: {lines[0] if lines else error}") from None
    return con
