"""Training data from ratings: SFT, DPO and KTO lines.

* ``sft`` — OpenAI chat fine-tuning lines ``{"messages": [...]}`` from thumbs-up answers.
* ``dpo`` — TRL conversational ``{"prompt", "chosen", "rejected"}`` from A/B preferences and
  up/down pairs on one prompt; ``openai=True`` gives OpenAI's preference fine-tuning shape.
* ``kto`` — TRL conversational ``{"prompt", "completion", "label"}`` from thumbs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from genaicompare.exports.answers import _Answer


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _dpo_pairs(answers: list[_Answer]) -> Iterator[tuple[_Answer, _Answer, str]]:
    """(chosen, rejected, source) once per ordered pair: A/B votes first, then up/down pairs."""
    by_hash = {a.row["content_hash"]: a for a in answers}
    seen: set[tuple[str, str]] = set()
    for a in answers:
        for p in a.prefs:
            if p["content_hash"] != a.row["content_hash"] or p["value"] not in ("a", "b"):
                continue
            other = by_hash.get(p["other_content_hash"])
            if other is None or not (a.ok and other.ok):
                continue
            chosen, rejected = (a, other) if p["value"] == "a" else (other, a)
            key = (chosen.row["content_hash"], rejected.row["content_hash"])
            if key not in seen and key[::-1] not in seen:
                seen.add(key)
                yield chosen, rejected, "preference"
    by_prompt: dict[str, list[_Answer]] = {}
    for a in answers:
        if a.ok:
            by_prompt.setdefault(a.row["prompt_id"], []).append(a)
    for group in by_prompt.values():
        good = [a for a in group if a.label == "positive"]
        bad = [a for a in group if a.label == "negative"]
        for g in good:
            for b in bad:
                key = (g.row["content_hash"], b.row["content_hash"])
                if key not in seen and key[::-1] not in seen:
                    seen.add(key)
                    yield g, b, "thumbs"


def _training_lines(
    fmt: str, answers: list[_Answer], openai: bool
) -> Iterator[tuple[dict[str, Any], list[_Answer]]]:
    """``sft``, ``kto`` or ``dpo`` lines, each with the answers it was made from."""
    if fmt == "sft":
        for a in answers:
            if a.ok and a.label == "positive":
                yield {"messages": a.messages + _assistant(a.row["text"])}, [a]
    elif fmt == "kto":
        for a in answers:
            if a.ok and a.label in ("positive", "negative"):
                yield (
                    {
                        "prompt": a.messages,
                        "completion": _assistant(a.row["text"]),
                        "label": a.label == "positive",
                    },
                    [a],
                )
    elif fmt == "dpo":
        for chosen, rejected, _source in _dpo_pairs(answers):
            if openai:
                yield (
                    {
                        "input": {"messages": chosen.messages},
                        "preferred_output": _assistant(chosen.row["text"]),
                        "non_preferred_output": _assistant(rejected.row["text"]),
                    },
                    [chosen, rejected],
                )
            else:
                yield (
                    {
                        "prompt": chosen.messages,
                        "chosen": _assistant(chosen.row["text"]),
                        "rejected": _assistant(rejected.row["text"]),
                    },
                    [chosen, rejected],
                )
