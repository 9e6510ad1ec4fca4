"""The sandbox's data engine: deterministic synthetic Trastpay data as a pure function of
(seed, settings, sandbox clock). The HTTP layer calls :class:`World` and nothing else.

Promises the server and the tests rely on:

- Same seed and settings, same clock: byte-identical records. The clock moves only through
  ``advance``/``set_clock`` and never backwards; a record exists once it was created at or
  before ``now`` and shows the state of its last transition at or before ``now``.
- Every record carries every property of ``schemas/<stream>.json``; timestamps are RFC 3339
  with ``+05:00`` at second precision; money is integer minor units (never a float).
- Rounding everywhere: half-up (away from zero) to the minor unit, with integer arithmetic.
  Transfer commission = amount x tier rate (152,000.00 UZS at 0.25 % = 380.00 UZS); transfers
  from Trastbank cards are free while the month's running total stays within 10,000,000 UZS.
- Card PANs never leave the world unmasked (first 6 + ``******`` + last 4); ids never contain
  a 13+ digit run.
- The ledger: a posted operation books ``amount_minor - commission_minor`` at ``posted_at``; a
  posted-then-reversed one books the opposite at ``reversed_at``; statements chain
  (next opening = this closing) and ``cards.balance_minor`` is the ledger balance at ``now``.
- Events: one per transition of every record of the list streams and card transactions
  (cards and statements are derived views and emit none), ids ``evt_<epoch>_...`` sort in
  event order.
- Not thread-safe: call it from one thread (the server's event loop).
"""

from __future__ import annotations

from trastpay_sandbox.world.clock import TASHKENT
from trastpay_sandbox.world.facade import Customer, World
from trastpay_sandbox.world.settings import SandboxSettings
from trastpay_sandbox.world.statements import StatementExport

__all__ = ["TASHKENT", "Customer", "SandboxSettings", "StatementExport", "World"]
