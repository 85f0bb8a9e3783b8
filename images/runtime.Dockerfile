# Runtime image for run pods: the digitalhub runtime and its extras on one Python version (docs/images.md).
#   docker build -f images/runtime.Dockerfile --build-arg PYTHON_VERSION=3.12 -t digitalhub-runtime-python:py3.12 .
ARG PYTHON_VERSION=3.11
# Any Debian-based image with python3 and its venv module; pin it by digest (...-slim-bookworm@sha256:...).
ARG BASE_IMAGE=docker.io/library/python:${PYTHON_VERSION}-slim-bookworm

# Wheels for offline builds (PACKAGES_FROM=wheels): `--build-context wheels=DIR` replaces this empty stage.
FROM scratch AS wheels

FROM ${BASE_IMAGE}
# Extras of digitalhub-runtime-python; Debian packages to add; where Python packages come from: index or wheels.
ARG EXTRAS=data,s3,kubernetes,serve
ARG SYSTEM_PACKAGES=git
ARG PACKAGES_FROM=index

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/digitalhub \
    PATH=/opt/digitalhub/bin:$PATH

# Run pods run as uid 1000 with a read-only root filesystem; /workspace and /tmp are emptyDir volumes.
RUN set -eu; \
    if [ -n "$SYSTEM_PACKAGES" ]; then \
        apt-get update; apt-get install -y --no-install-recommends $SYSTEM_PACKAGES; rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --gid 1000 digitalhub; \
    useradd --uid 1000 --gid 1000 --home-dir /workspace --no-create-home --shell /usr/sbin/nologin digitalhub; \
    install -d -o 1000 -g 1000 /workspace; \
    python3 -m venv /opt/digitalhub

# Dependencies (and the build backend) before code: rebuilt only when pyproject.toml or the build arguments change.
COPY pyproject.toml /src/
COPY images/requirements.py images/pip-install.sh /src/images/
RUN --mount=type=bind,from=wheels,target=/wheels \
    python /src/images/requirements.py --build-system "/src/pyproject.toml[$EXTRAS]" > /src/requirements.txt \
 && /src/images/pip-install.sh -r /src/requirements.txt

COPY README.md /src/
COPY digitalhub_runtime_python /src/digitalhub_runtime_python
# Nothing to fetch: the dependencies and the build backend are installed above.
RUN python -m pip install --no-index --no-deps --no-build-isolation /src && rm -rf /src

USER 1000:1000
WORKDIR /workspace
CMD ["python", "-m", "digitalhub_runtime_python.runner"]
