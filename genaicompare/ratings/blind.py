"""Blind rating: a per-prompt shuffle of the panes, recorded with each rating it shaped."""

from __future__ import annotations

import hashlib
import random


def blind_order(prompt_id: str, count: int, salt: str = "") -> tuple[list[int], int]:
    """A per-prompt shuffle of ``range(count)`` and the seed that made it (recorded with ratings).

    Seeded from the prompt id (and a salt) so reopening a prompt shows the same order.
    """
    seed = int(hashlib.sha256(f"{salt}\x00{prompt_id}".encode()).hexdigest()[:8], 16)
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return order, seed
