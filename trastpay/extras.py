"""Which extra a command needs, said clearly when it is missing.

The distribution installs every package but each runtime's libraries only with its extra
(docs/packaging.md): ``tap-trastpay`` in an environment made with ``[airbyte]`` would otherwise stop
with a bare ``No module named 'singer_sdk'``. The adapter and sandbox packages call
:func:`require_extra` first, so the error names the extra and the command that installs it.
"""

from __future__ import annotations

from importlib.util import find_spec


def require_extra(extra: str, *modules: str, command: str) -> None:
    """Raise ``ModuleNotFoundError`` naming ``extra`` when any of ``modules`` is not installed."""
    missing = [module for module in modules if find_spec(module) is None]
    if missing:
        raise ModuleNotFoundError(
            f"{command} needs the '{extra}' extra, which is not installed here (missing: "
            f"{', '.join(missing)}); install it with: pip install 'trastpay-connectors[{extra}]'",
            name=missing[0],
        )
