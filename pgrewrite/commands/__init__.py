"""The click commands, one module each (scan, apply, series, check, explain,
decide, coverage, verify, test, score); common.py holds what they share.
cli.py assembles them into the group."""
