"""Pulumi components of the data lake: infrastructure only (no boto3, no I/O at import)."""
