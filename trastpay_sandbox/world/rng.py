"""Stable randomness: every random stream is seeded from a blake2b hash of named parts.

Python's ``hash()`` is salted per process, so it is never used; ``random.Random`` seeded with an
``int`` produces the same sequence on every CPython version we support.
"""

from __future__ import annotations

import gc
import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager


def stable_bytes(*parts: object, size: int = 8) -> bytes:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).digest()


def stable_int(*parts: object) -> int:
    """A 64-bit integer that depends only on ``parts``."""
    return int.from_bytes(stable_bytes(*parts), "big")


def rng_for(*parts: object) -> random.Random:
    """An independent generator for one named purpose (e.g. seed, "card-day", token, day)."""
    return random.Random(stable_int(*parts))


_TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def stable_token(prefix: str, *parts: object, length: int = 16) -> str:
    """An opaque alphanumeric id such as ``crd_k3vq...`` from the hashed parts.

    Mostly letters, so an id never holds a long run of digits that a PAN scanner would flag."""
    value = int.from_bytes(stable_bytes(*parts, size=16), "big")
    chars = []
    for _ in range(length):
        value, index = divmod(value, len(_TOKEN_ALPHABET))
        chars.append(_TOKEN_ALPHABET[index])
    return prefix + "".join(chars)


def digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC around bulk generation: it allocates many acyclic tuples that survive
    (and would trigger repeated full collections) and creates no cycles, so nothing is lost."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
