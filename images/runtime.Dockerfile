# Runtime image for run pods: the digitalhub runtime and its extras on one Python version.
#   docker build -f images/runtime.Dockerfile --build-arg PYTHON_VERSION=3.12 -t digitalhub-runtime-python:py3.12 .
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Run pods run as uid 1000 with a read-only root filesystem; /workspace and /tmp are emptyDir volumes.
RUN groupadd --gid 1000 digitalhub \
 && useradd --uid 1000 --gid 1000 --home-dir /workspace --no-create-home digitalhub \
 && apt-get update && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY . /src
RUN pip install "/src[data,s3,kubernetes,serve,session]" && rm -rf /src

USER 1000:1000
WORKDIR /workspace
CMD ["python", "-m", "digitalhub_runtime_python.runner"]
