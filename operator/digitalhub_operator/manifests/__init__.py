"""Pure functions: a run, its task and function -> the Kubernetes objects that execute it."""
