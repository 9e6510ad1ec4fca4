"""``python -m trastpay.cli``: the same as the ``trastpay`` console script."""

from __future__ import annotations

from trastpay.cli import main

raise SystemExit(main())
