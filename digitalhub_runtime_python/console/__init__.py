"""The web console (``dhrun ui``): projects, functions and runs of the configured backend, live, in a browser."""
