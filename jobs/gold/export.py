"""The gold job: each saved query (`queries/<name>.sql`) runs in Athena into the gold zone.

    python jobs/gold/export.py --workgroup WG --database DB --gold s3://BUCKET[/PREFIX] \\
        --queries s3://ARTIFACTS/queries/<digest>/ [--poll-seconds 2] \\
        [--query-timeout-minutes 20] [--min-group-size 10]

This file is the script of a Glue Python shell job, so it runs on Python 3.9 with the standard
library, boto3 and `jobs.contract` (shipped to the job as a wheel, `--extra-py-files`). A run
has one run id, the UTC stamp `20261125T101253Z`. For each
`<name>.sql` under `--queries`, in name order:

0. the query must name its group-size column(s) (`candidates`, or a `-- group size:` header
   line; jobs/gold/privacy.py): one that does not fails here, before Athena runs anything;
1. a CTAS in the workgroup writes the result, less every row whose group has fewer than
   `--min-group-size` candidates (small groups are never published), as Parquet (zstd) to a
   new folder `<gold>/<name>/run=<run id>/` and registers it as the temporary table
   `gold_<name>__<run id, lower case>`; the job waits for it (at most `--query-timeout-minutes`;
   a query still running then is stopped and counts as failed);
2. on success, its rows are counted (a `SELECT COUNT(*)` of the temporary table), and so are
   the groups it withheld (the query once more, counted, never written). An empty result where
   `gold_<name>` has rows and nothing was withheld fails the query (step 3): its inputs are
   empty or gone, and answers are never replaced by nothing. Otherwise `_gold.json` (rows,
   groups withheld, threshold, group-size columns) is written beside the data, then the
   switch: `gold_<name>` is created, or updated to the temporary table's columns and new
   location. That one catalog update is atomic, so readers see the old result or the new one,
   never a mix; its parameters `gold.rows`, `gold.groups`, `gold.withheld`,
   `gold.min_group_size` and `gold.group_size_columns` record the counts. Then the temporary
   table is dropped (its data is now `gold_<name>`'s) and the objects under `<gold>/<name>/`
   outside the new `run=` folder are deleted;
3. on failure, the temporary table and whatever the query wrote under its new folder are
   deleted; `gold_<name>` and its data stay as they were; the other queries still run.

The run ends with one line per query saying how many small groups it withheld and why, one
line per failed query (its name and Athena's reason), and exit code 1 if any failed. `main()`
is thin: the SQL text, the names, what to delete and the arguments are plain functions that
tests call directly.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from jobs.gold.exporter import Exporter, aws_clients
from jobs.gold.names import GoldError, run_id
from jobs.gold.outcomes import exit_code, summary_lines, withheld_lines
from jobs.gold.settings import resolve_arguments

log = logging.getLogger("lake.gold")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = resolve_arguments(sys.argv[1:] if argv is None else argv)
    athena, glue, s3 = aws_clients()
    exporter = Exporter(settings, athena, glue, s3, run_id(datetime.now(timezone.utc)))
    try:
        outcomes = exporter.export_all()
    except GoldError as error:
        log.error("%s", error)
        return 1
    lines = summary_lines(outcomes)
    log.info("run %s: %s", exporter.run, lines[0])
    for line in withheld_lines(outcomes):
        log.info("withheld: %s", line)
    for line in lines[1:]:
        log.error("%s", line)
    return exit_code(outcomes)


if __name__ == "__main__":
    sys.exit(main())
