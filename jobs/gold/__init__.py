"""The gold job: the saved queries (`queries/*.sql`) into the gold zone."""
