# syntax=docker/dockerfile:1
# bws-gateway: build with `make docker` (docker build -t bws-gateway .).
# Every dependency is a prebuilt wheel (dlib-bin, onnxruntime, av, grpcio), so
# neither stage needs a compiler; the dlib models come inside the
# face-recognition-models wheel, so nothing is downloaded at start.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/bws
ENV PATH=/opt/bws/bin:$PATH
COPY pyproject.toml README.md LICENSE ./
COPY bws_proto ./bws_proto
COPY gateway ./gateway
COPY templates_store ./templates_store
COPY bws_cli ./bws_cli
RUN pip install --no-cache-dir . \
 && python -c "from gateway.engine.models import models_dir; print(models_dir())"

FROM python:3.11-slim-bookworm
RUN groupadd --gid 10001 bws \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bws \
 && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/bws /opt/bws
ENV PATH=/opt/bws/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BWS_GRPC_PORT=50051 \
    BWS_HTTP_PORT=8080 \
    BWS_DATA_DIR=/data
WORKDIR /data
USER 10001:10001
EXPOSE 50051 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bws", "--rest", "--host", "http://127.0.0.1:8080", "healthcheck"]
ENTRYPOINT ["bws-gateway"]
