# Airbyte image of the Trastpay source, on Airbyte's Python connector base image
# (the same image and digest as connectorBuildOptions.baseImage in metadata.yaml).
# It installs the released artifacts, not the source tree: the built wheel with its [airbyte] extra
# only (no singer-sdk, no sandbox or CLI libraries), every dependency pinned by the constraints
# exported from uv.lock. Build from the repository root:
#   make dist
#   docker build -t trastpay-connectors/source-trastpay:0.1.0 .
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

COPY dist/trastpay_connectors-*-py3-none-any.whl dist/constraints-airbyte.txt /tmp/dist/

# --constraint pins every dependency (and its dependencies) to the locked version: nothing is
# resolved freshly at build time. The wheel is the one `make dist` built; there must be exactly one.
RUN set -eu; \
    wheel="$(ls /tmp/dist/trastpay_connectors-*-py3-none-any.whl)"; \
    pip install --no-cache-dir --constraint /tmp/dist/constraints-airbyte.txt "${wheel}[airbyte]"; \
    rm -rf /tmp/dist

ENV AIRBYTE_ENTRYPOINT="source-trastpay"
ENTRYPOINT ["source-trastpay"]

LABEL io.airbyte.name=trastpay-connectors/source-trastpay
LABEL io.airbyte.version=0.1.0

USER airbyte
