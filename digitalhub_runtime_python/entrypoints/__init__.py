"""What a run's process runs: the job runner and the server, as a pod or a local child starts them."""
