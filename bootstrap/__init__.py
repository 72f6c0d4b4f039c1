"""The bootstrap Pulumi project (run from this directory); a package so tests can import it."""
