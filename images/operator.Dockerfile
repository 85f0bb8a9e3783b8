# The digitalhub operator (kopf) (docs/images.md).
#   docker build -f images/operator.Dockerfile -t digitalhub-operator .
ARG PYTHON_VERSION=3.11
# Any Debian-based image with python3 and its venv module; pin it by digest (...-slim-bookworm@sha256:...).
ARG BASE_IMAGE=docker.io/library/python:${PYTHON_VERSION}-slim-bookworm

# Wheels for offline builds (PACKAGES_FROM=wheels): `--build-context wheels=DIR` replaces this empty stage.
FROM scratch AS wheels

FROM ${BASE_IMAGE}
# Extras of digitalhub-runtime-python; where Python packages come from: index or wheels.
ARG EXTRAS=kubernetes
ARG PACKAGES_FROM=index

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/digitalhub \
    PATH=/opt/digitalhub/bin:$PATH

# Not "operator": Debian's base-passwd already has that group (gid 37).
RUN groupadd --gid 1000 digitalhub \
 && useradd --uid 1000 --gid 1000 --home-dir /workspace --no-create-home --shell /usr/sbin/nologin digitalhub \
 && install -d -o 1000 -g 1000 /workspace \
 && python3 -m venv /opt/digitalhub

# Dependencies (and the build backend) before code: rebuilt only when a pyproject.toml or the build arguments change.
COPY pyproject.toml /src/
COPY operator/pyproject.toml /src/operator/
COPY images/requirements.py images/pip-install.sh /src/images/
RUN --mount=type=bind,from=wheels,target=/wheels \
    python /src/images/requirements.py --build-system "/src/pyproject.toml[$EXTRAS]" /src/operator/pyproject.toml \
        > /src/requirements.txt \
 && /src/images/pip-install.sh -r /src/requirements.txt

COPY README.md /src/
COPY digitalhub_runtime_python /src/digitalhub_runtime_python
COPY operator/digitalhub_operator /src/operator/digitalhub_operator
# Nothing to fetch: the dependencies and the build backend are installed above.
RUN python -m pip install --no-index --no-deps --no-build-isolation /src /src/operator && rm -rf /src

USER 1000:1000
WORKDIR /workspace
EXPOSE 8080
CMD ["python", "-m", "digitalhub_operator"]
