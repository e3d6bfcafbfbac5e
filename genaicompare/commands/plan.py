"""``genaicompare plan CATALOG --delta D``: how many prompts (votes, samples) a change needs.

Before a run: the number of prompts a paired comparison needs to detect a change of ``--delta``
in the assertion pass rate (McNemar, Connor's formula) or in a metric's mean (signed-rank /
paired t, with Guenther's correction), the decisive judge or human votes a sign test needs for a
win rate of 0.5 + delta, how far ``--repeat`` can stand in for prompts, and what the catalog as
it is can detect (its minimum detectable effect). The paired correlation comes from the two
latest stored runs of the catalog when there are some (the output says which), else from a
stated assumption.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from typing import TYPE_CHECKING, Any

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError

if TYPE_CHECKING:
    from genaicompare.gate.cases import Case
    from genaicompare.store import Store


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number between 0 and 1, got {text!r}"
        ) from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", help="catalog file (.yaml or .jsonl)")
    parser.add_argument(
        "--delta",
        type=_probability,
        required=True,
        help="the change to detect: points of a rate as a fraction (0.05 = 5 points), or a "
        "metric's units",
    )
    parser.add_argument("--alpha", type=_probability, default=0.05, help="two-sided level (0.05)")
    parser.add_argument("--power", type=_probability, default=0.8, help="power (default 0.8)")
    parser.add_argument("--json", action="store_true", help="machine-readable plan")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genaicompare.catalog import load_catalog

    if not Path(args.catalog).exists():
        raise UserError(f"{args.catalog}: no such file")
    catalog = load_catalog(args.catalog)
    specs = {p.id: p.assert_ for p in catalog.prompts if p.assert_}
    with open_store(args) as store:
        data = stored_pairs(store, catalog.name, specs)
    doc = make_plan(len(catalog.prompts), len(specs), data, args.delta, args.alpha, args.power)
    doc["catalog"] = catalog.name
    if args.json:
        from genaicompare.gate.reports import dumps

        print(dumps(doc))
    else:
        print_plan(doc)
    return 0


# ------------------------------------------------------------------------- stored estimates


def stored_pairs(store: Store, catalog_name: str, specs: dict[str, Any]) -> dict[str, Any]:
    """Paired outcomes from the stored runs of the catalog: the two latest headless runs, model
    by model (same alias), or else the first two models of the latest run. Returns the source,
    the pass/fail pairs, metric value pairs, and the pass outcomes of repeated samples."""
    from genaicompare.gate.cases import build_cases
    from genaicompare.gate.run_diff import latest_runs

    runs = latest_runs(store, catalog_name, limit=2)
    out: dict[str, Any] = {"source": None, "passes": [], "metrics": {}, "samples": []}
    if not runs:
        return out
    cases: dict[int, list[Case]] = {}
    metrics: dict[int, dict[str, Any]] = {}
    for rid in runs:
        records = store.run_responses(rid)
        metrics.update({r.id: store.metrics_for(r.id) for r in records if r.id is not None})
        cases[rid] = build_cases(records, specs, metrics)
    pairs: list[tuple[Case, Case]] = []
    if len(runs) == 2:
        older = {(c.prompt_id, c.model_alias): c for c in cases[runs[1]]}
        for c in cases[runs[0]]:
            b = older.get((c.prompt_id, c.model_alias))
            if b is not None:
                pairs.append((b, c))
        out["source"] = f"runs {runs[1]} and {runs[0]} (same model, same prompt)"
    if not pairs:
        aliases = list(dict.fromkeys(c.model_alias for c in cases[runs[0]]))
        if len(aliases) >= 2:
            by = {(c.prompt_id, c.model_alias): c for c in cases[runs[0]]}
            for c in cases[runs[0]]:
                if c.model_alias == aliases[1] and (b := by.get((c.prompt_id, aliases[0]))):
                    pairs.append((b, c))
            out["source"] = f"run {runs[0]}, models {aliases[0]} and {aliases[1]}"
    pairs = [(b, c) for b, c in pairs if not b.errored and not c.errored]
    if not pairs:
        out["source"] = None
    from genaicompare.gate.paired import _sample_metrics

    for b, c in pairs:
        if b.has_assertions and c.has_assertions:
            out["passes"].append((b.passed, c.passed))
        mb, mc = _sample_metrics(b, metrics), _sample_metrics(c, metrics)
        for name in sorted(set(mb) & set(mc)):
            out["metrics"].setdefault(name, []).append((mb[name], mc[name]))
    for rid in runs:
        for c in cases[rid]:
            if len(c.samples) > 1 and c.has_assertions and not c.errored:
                out["samples"].append([1.0 if p else 0.0 for p in c.sample_passes])
    return out


def phi(pairs: list[tuple[bool, bool]]) -> float | None:
    """The correlation of two pass/fail outcomes (None when either never varies)."""
    if len(pairs) < 2:
        return None
    x = [1.0 if a else 0.0 for a, _ in pairs]
    y = [1.0 if b else 0.0 for _, b in pairs]
    if len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return statistics.correlation(x, y)


def icc(groups: list[list[float]]) -> float | None:
    """One-way intraclass correlation ICC(1) of outcomes grouped by prompt (repeated samples)."""
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        return None
    k = statistics.fmean(len(g) for g in groups)
    grand = statistics.fmean(v for g in groups for v in g)
    n_groups, n_all = len(groups), sum(len(g) for g in groups)
    ssb = sum(len(g) * (statistics.fmean(g) - grand) ** 2 for g in groups)
    ssw = sum((v - statistics.fmean(g)) ** 2 for g in groups for v in g)
    msb = ssb / (n_groups - 1)
    msw = ssw / (n_all - n_groups) if n_all > n_groups else 0.0
    if msb + (k - 1) * msw == 0:
        return None
    return max(0.0, min(1.0, (msb - msw) / (msb + (k - 1) * msw)))


# ------------------------------------------------------------------------------------ plan


def make_plan(
    prompts: int,
    asserted: int,
    data: dict[str, Any],
    delta: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """The plan as a document (``--json``); :func:`print_plan` prints it."""
    from genaicompare.gate import paired as P

    passes: list[tuple[bool, bool]] = data.get("passes", [])
    rho = phi(passes)
    p_base = sum(1 for b, _ in passes if b) / len(passes) if passes else 0.5
    basis = []
    if rho is not None:
        basis.append(
            f"paired correlation ρ = {rho:.2f} from {data['source']} ({len(passes)} pairs)"
        )
    else:
        rho = 0.0
        why = "no stored runs of this catalog" if not passes else "outcomes that never varied"
        basis.append(
            f"assumed ρ = 0 ({why}); answers to the same prompt usually agree, so real paired "
            "runs need fewer prompts"
        )
    if passes:
        basis.append(f"baseline pass rate {p_base:.2f} from {data['source']}")
    else:
        basis.append("assumed baseline pass rate 0.5 (the largest variance)")
    p_cand = min(1.0, max(0.0, p_base - delta if p_base - delta >= 0 else p_base + delta))
    psi = P.discordance(p_base, p_cand, rho)
    n_rates = math.ceil(P.n_for_paired_rates(delta, psi, alpha, power))
    psi_now = P.discordance(p_base, p_base, rho)
    doc: dict[str, Any] = {
        "delta": delta,
        "alpha": alpha,
        "power": power,
        "prompts": prompts,
        "asserted_prompts": asserted,
        "basis": basis,
        "correlation_source": data.get("source") if passes and phi(passes) is not None else None,
        "rho": rho,
        "baseline_pass_rate": p_base,
        "discordant_share": psi,
        "assert_pass_rate": {
            "test": "mcnemar_exact",
            "prompts_needed": n_rates,
            "mde_now": P.mde_paired_rates(asserted or prompts, max(psi_now, 1e-9), alpha, power),
        },
        "votes": {
            "test": "sign",
            "decisive_votes_needed": math.ceil(P.n_for_sign(delta, alpha, power)),
            "mde_now": P.mde_sign(prompts, alpha, power),
            "note": "win rate 0.5 + delta among votes that are not ties",
        },
        "metrics": {},
    }
    for name, pairs in sorted(data.get("metrics", {}).items()):
        diffs = [c - b for b, c in pairs]
        if len(diffs) < 2:
            continue
        sd = statistics.stdev(diffs)
        doc["metrics"][f"mean:{name}"] = {
            "test": "wilcoxon",
            "sd_of_differences": sd,
            "pairs": len(diffs),
            "prompts_needed": math.ceil(P.n_for_mean(delta, sd, alpha, power)) if sd > 0 else None,
            "mde_now": P.mde_mean(prompts, sd, alpha, power),
        }
    rep = icc(data.get("samples", []))
    repeat: dict[str, Any] = {"icc": rep}
    if prompts >= n_rates:
        repeat["samples_needed"] = 1
        repeat["note"] = "the catalog has enough prompts: no --repeat needed"
    elif rep is None:
        repeat["samples_needed"] = None
        repeat["note"] = (
            "no stored --repeat samples to estimate how much samples of one prompt differ; "
            "samples are not new prompts (with identical answers they add nothing)"
        )
    elif prompts - n_rates * rep <= 0:
        repeat["samples_needed"] = None
        repeat["note"] = (
            f"samples of one prompt agree too much (ICC {rep:.2f}): no --repeat makes "
            f"{prompts} prompts worth {n_rates}; add prompts"
        )
    else:
        k = math.ceil(n_rates * (1 - rep) / (prompts - n_rates * rep))
        repeat["samples_needed"] = k
        repeat["note"] = (
            f"--repeat {k}: {prompts} prompts × {k} samples ≈ {n_rates} independent prompts "
            f"(ICC {rep:.2f}, design effect 1 + (k − 1)·ICC)"
        )
    doc["repeat"] = repeat
    return doc


def print_plan(doc: dict[str, Any]) -> None:
    from genaicompare.core.sanitize import one_line
    from genaicompare.gate.reports import ci_safe, fnum

    d, a, pw = doc["delta"], doc["alpha"], doc["power"]
    lines = [
        f"plan for {one_line(doc['catalog'], 80)}: detect a change of {fnum(d)} at α = {fnum(a)} "
        f"(two-sided) with {pw:.0%} power",
        *(f"  basis: {b}" for b in doc["basis"]),
    ]
    r = doc["assert_pass_rate"]
    lines.append(
        f"assertion pass rate (McNemar, paired): {r['prompts_needed']} prompts needed; "
        f"the catalog has {doc['prompts']} ({doc['asserted_prompts']} with assertions) and can "
        f"detect {_mde(r['mde_now'])}"
    )
    v = doc["votes"]
    lines.append(
        f"pairwise votes (sign test): {v['decisive_votes_needed']} decisive votes needed for a win "
        f"rate of {fnum(0.5 + d)}; {doc['prompts']} votes detect {_mde(v['mde_now'], '± ')}"
    )
    for name, m in doc["metrics"].items():
        needed = "–" if m["prompts_needed"] is None else str(m["prompts_needed"])
        lines.append(
            f"{name} (signed-rank, paired; sd of differences {fnum(m['sd_of_differences'])} over "
            f"{m['pairs']} stored pairs): {needed} prompts needed; the catalog detects "
            f"{_mde(m['mde_now'])}"
        )
    lines.append(f"--repeat: {doc['repeat']['note']}")
    sys.stdout.write(ci_safe("\n".join(lines) + "\n"))


def _mde(x: float | None, prefix: str = "") -> str:
    from genaicompare.gate.reports import fnum

    return "nothing (too few prompts)" if x is None else f"{prefix}{fnum(x)} or more"


__all__ = ["add_arguments", "main", "make_plan"]
