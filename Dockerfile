# Airbyte image of the Trastpay source, on Airbyte's Python connector base image
# (the same image and digest as connectorBuildOptions.baseImage in metadata.yaml).
# Build from the repository root:  docker build -t airbyte/source-trastpay:dev .
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

# Only what the wheel build needs (see [tool.hatch.build] in pyproject.toml).
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY trastpay ./trastpay
COPY trastpay_sandbox ./trastpay_sandbox
COPY source_trastpay ./source_trastpay
COPY tap_trastpay ./tap_trastpay

RUN pip install --no-cache-dir . && rm -rf /airbyte/integration_code/*

ENV AIRBYTE_ENTRYPOINT="source-trastpay"
ENTRYPOINT ["source-trastpay"]

LABEL io.airbyte.name=airbyte/source-trastpay
LABEL io.airbyte.version=0.1.0

USER airbyte
