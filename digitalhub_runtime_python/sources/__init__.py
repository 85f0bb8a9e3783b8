"""Fetching a function's code: local paths, inline code, git, S3 and http(s) sources, cached by content."""
