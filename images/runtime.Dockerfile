# Runtime image for run pods: the digitalhub runtime and its extras on one Python version (docs/images.md).
#   docker build -f images/runtime.Dockerfile --build-arg PYTHON_VERSION=3.12 -t digitalhub-runtime-python:py3.12 .
ARG PYTHON_VERSION=3.11
# Any Debian-based image with python3 (3.11+) and its venv module; pin it by digest (...-slim-bookworm@sha256:...).
ARG BASE_IMAGE=docker.io/library/python:${PYTHON_VERSION}-slim-bookworm

# Wheels for offline builds (PACKAGES_FROM=wheels): `--build-context wheels=DIR` replaces this empty stage.
FROM scratch AS wheels

# The third-party requirements (and the build backend) of the extras: the dependency layer below is keyed on this
# list, so an edit elsewhere in pyproject.toml does not reinstall the dependencies.
FROM ${BASE_IMAGE} AS requirements
ARG EXTRAS=data,s3,kubernetes,serve,ui,session
COPY pyproject.toml /src/
COPY images/requirements.py /src/images/
RUN python3 /src/images/requirements.py --build-system "/src/pyproject.toml[$EXTRAS]" > /requirements.txt

FROM ${BASE_IMAGE}
# Debian packages to add (git: git+https code sources); where Python packages come from: index or wheels.
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

# Dependencies before code.
COPY images/pip-install.sh /src/images/
COPY --from=requirements /requirements.txt /src/
RUN --mount=type=bind,from=wheels,target=/wheels /src/images/pip-install.sh -r /src/requirements.txt

COPY pyproject.toml README.md /src/
COPY digitalhub_runtime_python /src/digitalhub_runtime_python
# Nothing to fetch: the dependencies and the build backend are installed above.
RUN python -m pip install --no-index --no-deps --no-build-isolation /src && rm -rf /src

USER 1000:1000
WORKDIR /workspace
CMD ["python", "-m", "digitalhub_runtime_python.runner"]
