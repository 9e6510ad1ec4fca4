"""Console entry point ``source-trastpay``: the Airbyte protocol commands spec, check, discover, read.

:class:`TrastpayEntrypoint` differs from the CDK's in one place: a config is validated by the core
first, so an invalid setting is reported as "Invalid config field '<name>': <what is wrong>" (the
CDK's own schema check names the offending value, not the setting, and may quote it).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER
from airbyte_cdk.models import ConnectorSpecification  # type: ignore[attr-defined]  # implicit re-exports

from source_trastpay.errors import to_traced_exception
from source_trastpay.source import SourceTrastpay
from trastpay.config import parse_config
from trastpay.errors import ConfigError


class TrastpayEntrypoint(AirbyteEntrypoint):
    """The CDK entrypoint with the core's config validation in front of the schema check."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        try:
            parse_config(config)
        except ConfigError as error:
            raise to_traced_exception(error) from None
        AirbyteEntrypoint.validate_connection(source_spec, config)


def run(args: list[str] | None = None) -> None:
    """Run one Airbyte command (``sys.argv`` by default) and write its messages to stdout."""
    entrypoint = TrastpayEntrypoint(SourceTrastpay())
    parsed = entrypoint.parse_args(sys.argv[1:] if args is None else args)
    with PRINT_BUFFER:
        for message in entrypoint.run(parsed):
            sys.stdout.write(f"{message}\n")


if __name__ == "__main__":
    run()
