"""Click commands that are big enough to live in a module of their own."""
