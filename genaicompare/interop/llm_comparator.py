"""LLM Comparator JSON (PAIR's side-by-side viewer): two models' answers per prompt.

The file is ``{"metadata": {"source_path", "custom_fields_schema"}, "models": [{"name"}, {"name"}],
"examples": [...]}`` as the viewer loads it. Each example's ``individual_rater_scores`` holds one
entry per judgement on the pair — human pair votes (rater name in the rationale) and the judge's
pairwise verdict — scored as LLM Comparator does: positive when A is better (1.0 better, 0 tie,
-1.0 B better); ``score`` is their mean (null without any). Thumbs and metric values per model are
``per_model_numbers`` custom fields.
"""

from __future__ import annotations

from typing import Any

from genaicompare.interop.annotation import pairs_from_rated

_SCORE = {"a": 1.0, "b": -1.0, "tie": 0.0, "both_bad": 0.0}
_LABEL = {"a": "A is better", "b": "B is better", "tie": "same", "both_bad": "both bad"}
NUMBER_FIELDS = ("judge_score", "similarity", "rougeL", "latency_ms")


def _value(metric: Any) -> float | None:
    if isinstance(metric, dict):
        metric = metric.get("value")
    return (
        float(metric) if isinstance(metric, (int, float)) and not isinstance(metric, bool) else None
    )


def to_llm_comparator(lines: list[dict[str, Any]], source: str) -> tuple[dict[str, Any], int]:
    """The LLM Comparator document for a rated export's lines, and how many prompts had no two
    models' answers (left out)."""
    pairs = pairs_from_rated(lines)
    prompts = {str(line["id"]) for line in lines if "rated" in line}
    if not pairs:
        return {}, len(prompts)
    ma, mb = pairs[0]["alias_a"], pairs[0]["alias_b"]
    pairs = [p for p in pairs if (p["alias_a"], p["alias_b"]) == (ma, mb)]
    examples = []
    for p in pairs:
        raters: list[dict[str, Any]] = [
            {
                "score": _SCORE[v["value"]],
                "rating_label": _LABEL[v["value"]],
                "is_flipped": False,
                "rationale": f"{v['rater']}" + (f": {v['comment']}" if v.get("comment") else ""),
                "custom_fields": {"kind": "human"},
            }
            for v in p["votes"]
        ]
        verdict = _value(p["metrics_a"].get(f"judge_pairwise:{mb}"))
        if verdict is not None:
            raters.append(
                {
                    "score": verdict,
                    "rating_label": "A is better"
                    if verdict > 0
                    else "B is better"
                    if verdict < 0
                    else "same",
                    "is_flipped": False,
                    "rationale": "judge (both orders)",
                    "custom_fields": {"kind": "judge"},
                }
            )
        score = sum(r["score"] for r in raters) / len(raters) if raters else None
        custom = {
            name: [_value(p["metrics_a"].get(name)), _value(p["metrics_b"].get(name))]
            for name in NUMBER_FIELDS
            if name in p["metrics_a"] or name in p["metrics_b"]
        }
        custom["prompt_id"] = p["prompt_id"]
        examples.append(
            {
                "input_text": p["prompt"],
                "tags": p["tags"],
                "output_text_a": p["text_a"],
                "output_text_b": p["text_b"],
                "score": score,
                "individual_rater_scores": raters,
                "rationale_list": [],
                "custom_fields": custom,
            }
        )
    schema = [
        {"name": n, "type": "per_model_number"}
        for n in NUMBER_FIELDS
        if any(n in e["custom_fields"] for e in examples)
    ]
    schema.append({"name": "prompt_id", "type": "string"})
    doc = {
        "metadata": {"source_path": source, "custom_fields_schema": schema},
        "models": [{"name": ma}, {"name": mb}],
        "examples": examples,
    }
    return doc, len(prompts) - len(examples)
