"""The lake on one machine and its `lake` command: the AWS workflow's steps run here, with folders
for zones and DuckDB for the Glue catalog and Athena. Not deployed: AWS runs `jobs/` only."""
