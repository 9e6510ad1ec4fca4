"""``python -m trastpay_sandbox``: the same as the ``trastpay-sandbox`` command."""

from __future__ import annotations

from trastpay_sandbox.cli import main

raise SystemExit(main())
