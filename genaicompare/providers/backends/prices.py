"""litellm's bundled price map, read without importing litellm (≈4 s): cost and output limits for
the lean native clients' models. The numbers are litellm's own (its
``model_prices_and_context_window_backup.json``, the file ``LITELLM_LOCAL_MODEL_COST_MAP=True``
makes litellm use), so a response costs the same whichever backend streamed it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

# litellm prices the whole request at the higher rate once the prompt passes a tier.
_TIERS = (200_000, 128_000)


@functools.cache
def _table() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")  # finds the package without executing it
    if spec is None or spec.origin is None:
        return {}
    path = Path(spec.origin).parent / "model_prices_and_context_window_backup.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def entry(model: str) -> dict[str, Any] | None:
    """The map's entry for ``anthropic/claude-…`` or ``gemini/gemini-…`` (as litellm looks it up:
    the full string, then the name without its provider prefix)."""
    table = _table()
    for key in (model, model.split("/", 1)[-1]):
        found = table.get(key)
        if isinstance(found, dict) and found.get("input_cost_per_token") is not None:
            return found
    return None


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> float | None:
    """USD for one response, or None when the map does not price ``model``."""
    found = entry(model)
    if found is None or found.get("output_cost_per_token") is None:
        return None
    rate_in = float(found["input_cost_per_token"])
    rate_out = float(found["output_cost_per_token"])
    for tier in _TIERS:
        suffix = f"_above_{tier // 1000}k_tokens"
        if tokens_in > tier and f"input_cost_per_token{suffix}" in found:
            rate_in = float(found[f"input_cost_per_token{suffix}"])
            rate_out = float(found.get(f"output_cost_per_token{suffix}", rate_out))
            break
    return tokens_in * rate_in + tokens_out * rate_out


def max_output_tokens(model: str) -> int | None:
    found = entry(model)
    if found is None:
        return None
    value = found.get("max_output_tokens") or found.get("max_tokens")
    return int(value) if isinstance(value, int) else None
