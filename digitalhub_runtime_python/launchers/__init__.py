"""Where runs execute: in this process, in a local child process, or on a cluster through the operator."""
