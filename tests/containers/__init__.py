"""podman for the tests: configuration, the local base image, the wheel folder for offline builds, fixtures."""
