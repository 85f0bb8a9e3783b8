"""The session runtime: a live Python kernel (Jupyter protocol) behind a small authenticated HTTP API."""
