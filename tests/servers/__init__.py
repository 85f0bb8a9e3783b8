"""Real servers on loopback for integration tests: git over HTTPS, static HTTP, S3 (moto), Redis."""
