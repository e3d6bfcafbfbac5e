"""Training data from ratings: SFT, DPO and KTO lines.

* ``sft`` — OpenAI chat fine-tuning lines ``{"messages": [...]}`` from thumbs-up answers.
* ``dpo`` — TRL conversational ``{"prompt", "chosen", "rejected"}`` from A/B preferences,
  best-of-N picks (the pick against each other answer) and up/down pairs on one prompt; a line
  from a graded A/B vote carries ``"margin"``: 2 for A≫B, 1 for A>B (TRL's optional margin
  column); ``openai=True`` gives OpenAI's preference fine-tuning shape (no margin there).
* ``kto`` — TRL conversational ``{"prompt", "completion", "label"}`` from thumbs.

A rater's correction of an answer (``e`` in the TUI) is an SFT line of its own (the answer's
messages + the corrected text) and a DPO line ``chosen`` = corrected, ``rejected`` = the original.

Every record carries the messages its answer was generated from (system prompt, few-shot, user
turn), never another model's. A DPO pair is two answers to one conversation: a pair whose answers
were generated from different messages (e.g. two system prompts) cannot share a ``prompt`` and is
skipped, as is a pair whose chosen and rejected texts are identical (no preference to learn).
Skipped pairs are counted by reason (:data:`SKIP_IDENTICAL`, :data:`SKIP_OTHER_CONVERSATION`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from genaicompare.exports.answers import Selection, _Answer

SKIP_IDENTICAL = "chosen and rejected texts are identical"
SKIP_OTHER_CONVERSATION = (
    "chosen and rejected were generated from different messages (system prompt or turns differ)"
)


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _why_not(chosen: _Answer, rejected: _Answer) -> str | None:
    """Why two answers make no DPO pair (None: they do)."""
    if chosen.row["text"] == rejected.row["text"]:
        return SKIP_IDENTICAL
    if chosen.messages != rejected.messages:
        return SKIP_OTHER_CONVERSATION
    return None


def _dpo_pairs(
    answers: list[_Answer], skipped: Counter[str] | None = None
) -> Iterator[tuple[_Answer, _Answer, str, int | None]]:
    """(chosen, rejected, source, margin) once per pair of ``answers`` (one prompt's): A/B votes
    first, then best-of-N picks, then up/down pairs. A pair that cannot be a DPO record is counted in
    ``skipped`` under its reason, once."""
    by_hash = {a.row["content_hash"]: a for a in answers}
    seen: set[tuple[str, str]] = set()
    skipped = skipped if skipped is not None else Counter()

    def fresh(chosen: _Answer, rejected: _Answer) -> bool:
        key = (chosen.row["content_hash"], rejected.row["content_hash"])
        if key in seen or key[::-1] in seen:
            return False
        seen.add(key)
        reason = _why_not(chosen, rejected)
        if reason is not None:
            skipped[reason] += 1
            return False
        return True

    for a in answers:
        for p in a.prefs:
            if p["content_hash"] != a.row["content_hash"] or p["value"] not in ("a", "b"):
                continue
            other = by_hash.get(p["other_content_hash"])
            if other is None or not (a.ok and other.ok):
                continue
            chosen, rejected = (a, other) if p["value"] == "a" else (other, a)
            if fresh(chosen, rejected):
                yield chosen, rejected, "preference", p.get("strength")
    for a in answers:
        for p in a.prefs:
            if p.get("kind") != "best" or p["content_hash"] != a.row["content_hash"] or not a.ok:
                continue
            for beaten in p.get("others") or []:
                other = by_hash.get(beaten.get("content_hash"))
                if other is not None and other.ok and fresh(a, other):
                    yield a, other, "best_of_n", None
    by_prompt: dict[str, list[_Answer]] = {}
    for a in answers:
        if a.ok:
            by_prompt.setdefault(a.row["prompt_id"], []).append(a)
    for group in by_prompt.values():
        good = [a for a in group if a.label == "positive"]
        bad = [a for a in group if a.label == "negative"]
        for g in good:
            for b in bad:
                if fresh(g, b):
                    yield g, b, "thumbs", None


def _training_lines(
    fmt: str, selection: Selection, openai: bool, skipped: Counter[str] | None = None
) -> Iterator[tuple[dict[str, Any], list[_Answer]]]:
    """``sft``, ``kto`` or ``dpo`` lines, each with the answers it was made from; what could not
    become a line is counted by reason in ``skipped``. Answers are read in batches (a second
    pass for the corrections); DPO pairs a prompt at a time, the prompts in the order of their
    first answer."""
    if fmt == "sft":
        for a in selection.answers(rated="thumb"):
            if a.ok and a.label == "positive":
                yield {"messages": a.messages + _assistant(a.row["text"])}, [a]
        for a, text in _corrected(selection.answers(rated="correction")):
            yield {"messages": a.messages + _assistant(text)}, [a]
    elif fmt == "kto":
        for a in selection.answers(rated="thumb"):
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
        pairs = (pair for group in selection.groups() for pair in _dpo_pairs(group, skipped))
        for chosen, rejected, _source, margin in pairs:
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
                line: dict[str, Any] = {
                    "prompt": chosen.messages,
                    "chosen": _assistant(chosen.row["text"]),
                    "rejected": _assistant(rejected.row["text"]),
                }
                if margin is not None:
                    line["margin"] = margin
                yield line, [chosen, rejected]
        for a, text in _corrected(selection.answers(rated="correction")):
            if openai:
                yield (
                    {
                        "input": {"messages": a.messages},
                        "preferred_output": _assistant(text),
                        "non_preferred_output": _assistant(a.row["text"]),
                    },
                    [a],
                )
            else:
                yield (
                    {
                        "prompt": a.messages,
                        "chosen": _assistant(text),
                        "rejected": _assistant(a.row["text"]),
                    },
                    [a],
                )


def _corrected(answers: Iterable[_Answer]) -> Iterator[tuple[_Answer, str]]:
    """(answer, corrected text) for every correction in force, once per distinct text."""
    for a in answers:
        seen: set[str] = set()
        for c in a.corrections:
            text = str(c["value"])
            if text and text != a.row["text"] and text not in seen:
                seen.add(text)
                yield a, text
