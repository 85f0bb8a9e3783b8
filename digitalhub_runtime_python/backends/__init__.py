"""One backend per place entities live: the embedded store on this machine, or a Kubernetes namespace."""
