# The digitalhub operator (kopf).
#   docker build -f images/operator.Dockerfile -t digitalhub-operator .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --gid 1000 operator && useradd --uid 1000 --gid 1000 --no-create-home operator

COPY . /src
RUN pip install "/src[kubernetes]" /src/operator && rm -rf /src

USER 1000:1000
EXPOSE 8080
CMD ["python", "-m", "digitalhub_operator"]
