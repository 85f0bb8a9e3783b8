#!/bin/sh
# pip install into the image's environment, from where PACKAGES_FROM says:
#   index   the package index (the build needs a network: `podman build --network=host`);
#   wheels  only the wheels mounted at /wheels (`--build-context wheels=DIR`): no network needed.
set -eu
case "${PACKAGES_FROM:-index}" in
    index) ;;
    wheels) set -- --no-index --find-links /wheels "$@" ;;
    *) echo "PACKAGES_FROM=${PACKAGES_FROM}: use index or wheels" >&2; exit 2 ;;
esac
exec python -m pip install "$@"
