"""A function's own Python environment: its requirements installed with uv in a virtualenv keyed by content."""
