"""Rules: loading and validating rule files, C patterns, conditions, the shared YAML/schema I/O."""
