"""P4: the lexical suite vs rouge-score + sacrebleu, latency after a pane finishes, embeddings.

    python benchmarks/bench_lexical.py [--pairs 10000] [--json]

1. ROUGE-1/2/L F1, BLEU and chrF on N pairs of ~100-word texts: genaicompare's lexical suite vs
   rouge-score (``RougeScorer`` built once) + sacrebleu (``BLEU(effective_order=True)`` and
   ``CHRF()`` built once, ``sentence_score`` per pair), in alternating chunks of 250 pairs. Times
   are this process's CPU time (``time.process_time``), so other work on the machine does not
   skew the ratio. Prints both, the ratio (goal ≥ 15×) and the largest absolute difference
   (goal ≤ 1e-9).
2. Latency after a pane finishes, models already loaded, 300-word answer vs a reference:
   every lexical metric (goal < 20 ms) and ``MetricsEngine.full`` (goal < 500 ms).
3. Embedding throughput (sentences/s) of the similarity model, when it is installed.
Needs the ``test`` extra (rouge-score, sacrebleu). Prints a table; ``--json`` prints one object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from typing import Any

VOCAB_SEED = 20251125


def make_pairs(n: int, words: int = 100, seed: int = VOCAB_SEED) -> list[tuple[str, str]]:
    """Related output/reference pairs: a shared Zipf-ish vocabulary, ~30% words edited."""
    r = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(r.choice(letters) for _ in range(r.randint(2, 9))) for _ in range(5000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]

    def sentence(k: int) -> list[str]:
        return r.choices(vocab, weights, k=k)

    pairs = []
    for _ in range(n):
        ref = sentence(words)
        out = list(ref)
        for i in range(len(out)):
            if r.random() < 0.3:
                out[i] = r.choice(vocab)
        text_ref = " ".join(w + ("," if r.random() < 0.05 else "") for w in ref) + "."
        text_out = " ".join(w + ("." if r.random() < 0.05 else "") for w in out) + "."
        pairs.append((text_out, text_ref))
    return pairs


def bench_reference(pairs: list[tuple[str, str]]) -> tuple[float, list[dict[str, float]]]:
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU, CHRF

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    bleu, chrf = BLEU(effective_order=True), CHRF()
    results = []
    t0 = time.process_time()
    for out, ref in pairs:
        rs = scorer.score(ref, out)
        results.append(
            {
                "rouge1": rs["rouge1"].fmeasure,
                "rouge2": rs["rouge2"].fmeasure,
                "rougeL": rs["rougeL"].fmeasure,
                "bleu": bleu.sentence_score(out, [ref]).score,
                "chrf": chrf.sentence_score(out, [ref]).score,
            }
        )
    return time.process_time() - t0, results


def bench_ours(pairs: list[tuple[str, str]]) -> tuple[float, list[dict[str, float]]]:
    from genaicompare.metrics import lexical

    names = frozenset({"rouge1", "rouge2", "rougeL", "bleu", "chrf"})
    results = []
    t0 = time.process_time()
    for out, ref in pairs:
        # Fresh preparation of both sides: no cache helps us here.
        results.append(
            lexical.lexical_scores(lexical.prepare(out), lexical.prepare(ref), names=names)
        )
    return time.process_time() - t0, results


def bench_pane_latency(repeats: int = 20) -> dict[str, Any]:
    from genaicompare.catalog import Prompt
    from genaicompare.metrics import MetricsConfig, MetricsEngine, lexical, wordnet
    from genaicompare.providers.events import FinishState
    from genaicompare.records import ResponseRecord

    out, ref = make_pairs(1, words=300, seed=1)[0]
    syns = wordnet.synonyms_fn()
    lexical.lexical_scores(out, ref, synonyms=syns)  # warm: WordNet loaded, caches as after use
    lex_times = []
    for i in range(repeats):
        o = out + f" variant{i}"  # a new answer each time: no output-side caching
        t0 = time.perf_counter()
        lexical.lexical_scores(o, ref, synonyms=syns)
        lex_times.append((time.perf_counter() - t0) * 1000)

    engine = MetricsEngine(MetricsConfig())
    prompt = Prompt(id="p", prompt="Summarise the text in 300 words.", reference=ref)
    record = ResponseRecord(
        prompt_id="p",
        model_alias="a",
        model="m",
        params={},
        messages=[],
        text=out,
        state=FinishState.complete,
        latency_ms=1000.0,
        ttft_ms=100.0,
        tokens_in=10,
        tokens_out=400,
    )
    engine.full(record, prompt, {"b": ref})  # load every model once
    full_times = []
    for i in range(max(3, repeats // 4)):
        record.text = out + f" variant{i}"
        t0 = time.perf_counter()
        values = engine.full(record, prompt, {"b": ref})
        full_times.append((time.perf_counter() - t0) * 1000)
    return {
        "lexical_ms_median": statistics.median(lex_times),
        "lexical_ms_max": max(lex_times),
        "full_ms_median": statistics.median(full_times),
        "full_ms_max": max(full_times),
        "full_metric_count": len(values),
        "meteor_kind": "meteor" if syns is not None else "meteor_nosyn",
        "engine_notices": list(engine.notices),
    }


def bench_embeddings(n: int = 512) -> dict[str, Any]:
    from genaicompare.metrics import semantic

    emb = semantic.Embedder()
    if not emb.available():
        return {"embedding": f"unavailable: {emb.unavailable_reason()}"}
    sentences = [" ".join(p[0].split()[:20]) for p in make_pairs(n, words=20, seed=3)]
    emb.encode(sentences[:32])  # load + warm
    t0 = time.perf_counter()
    emb.encode(sentences)
    dt = time.perf_counter() - t0
    return {
        "embedding_model": emb.model_name,
        "embedding_sentences_per_s": n / dt,
        "embedding_batch": n,
        "embedding_words_per_sentence": 20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    pairs = make_pairs(args.pairs)
    # Alternate chunks so that load from anything else on the machine hits both sides alike.
    t_ours = t_ref = 0.0
    ours: list[dict[str, float]] = []
    ref: list[dict[str, float]] = []
    for start in range(0, len(pairs), 250):
        chunk = pairs[start : start + 250]
        dt, res = bench_ours(chunk)
        t_ours, ours = t_ours + dt, ours + res
        dt, res = bench_reference(chunk)
        t_ref, ref = t_ref + dt, ref + res
    max_diff = max(abs(a[k] - b[k]) for a, b in zip(ours, ref, strict=True) for k in b)
    result: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
        "pairs": len(pairs),
        "reference_cpu_s": t_ref,
        "genaicompare_cpu_s": t_ours,
        "speedup": t_ref / t_ours,
        "max_abs_diff": max_diff,
        "equal_1e-9": max_diff <= 1e-9,
    }
    if not args.skip_latency:
        result.update(bench_pane_latency())
        result.update(bench_embeddings())
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"P4 lexical metrics ({result['machine']})")
        for key, value in result.items():
            if key == "machine":
                continue
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            print(f"  {key:<32} {shown}")
        goals = [
            ("speedup >= 15", result["speedup"] >= 15),
            ("equal to 1e-9", result["equal_1e-9"]),
        ]
        if "lexical_ms_median" in result:
            goals += [
                ("lexical < 20 ms", result["lexical_ms_median"] < 20),
                ("all metrics < 500 ms", result["full_ms_median"] < 500),
            ]
        for name, ok in goals:
            print(f"  goal {name:<27} {'met' if ok else 'NOT met'}")
    return 0 if result["equal_1e-9"] else 1


if __name__ == "__main__":
    sys.exit(main())
