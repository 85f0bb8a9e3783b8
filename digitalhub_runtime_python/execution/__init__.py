"""Running a handler in this process: loading code, composing arguments, capturing logs, recording outputs."""
