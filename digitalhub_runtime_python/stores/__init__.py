"""Entity persistence: the Store interface, the embedded SQLite and Kubernetes backends, and file stores."""
