"""The local lake: the AWS steps on this machine, with folders for zones and DuckDB for the
Glue catalog + Athena."""
