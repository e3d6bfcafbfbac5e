"""P7: open a 50,000-prompt catalog (goal ≤ 2 s), YAML and JSONL, with peak RSS.

Writes realistic catalogs (ids, task, prompt text of ~80 characters, reference, tags, segment, a
template with vars on every tenth prompt) into a temporary directory, then loads each one in a
fresh subprocess (so import time, caches and RSS are the cold-start figures) with
:func:`genaicompare.catalog.load_catalog`. Prints the wall time of the load alone, the time of
the whole process, and peak RSS.

    python benchmarks/bench_catalog.py [--prompts 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from genaicompare.catalog import load_catalog
t1 = time.perf_counter()
c1 = time.process_time()
catalog = load_catalog(sys.argv[1])
t2 = time.perf_counter()
c2 = time.process_time()
assert len(catalog.prompts) == int(sys.argv[2]), len(catalog.prompts)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "cpu_s": c2 - c1,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def prompt(i: int) -> dict[str, object]:
    p: dict[str, object] = {
        "id": f"q{i:06d}",
        "task": "qa",
        "tags": ["geo", f"batch-{i % 50}"],
        "segment": f"group-{'abc'[i % 3]}",
    }
    if i % 10 == 0:
        p["template"] = "capital"
        p["vars"] = {"country": f"Country {i}"}
    else:
        p["prompt"] = f"Question {i}: what is the capital of the country with index {i}? One word."
    p["reference"] = f"City {i}"
    return p


def write_yaml(path: Path, n: int) -> None:
    lines = [
        "name: bench",
        "version: '1'",
        "models:",
        "  - {id: a, model: local/smollm2, params: {temperature: 0.2, max_tokens: 64}}",
        "  - {id: b, model: local/smollm2, params: {temperature: 0.8, max_tokens: 64}}",
        "templates:",
        "  capital: 'What is the capital of {{country}}? Answer in one word.'",
        "prompts:",
    ]
    for i in range(n):
        p = prompt(i)
        lines.append(f"  - id: {p['id']}")
        lines.append(f"    task: {p['task']}")
        if "template" in p:
            lines.append(f"    template: {p['template']}")
            lines.append(f"    vars: {{country: {p['vars']['country']}}}")  # type: ignore[index]
        else:
            lines.append(f'    prompt: "{p["prompt"]}"')
        lines.append(f"    reference: {p['reference']}")
        lines.append(f"    tags: [{', '.join(p['tags'])}]")  # type: ignore[arg-type]
        lines.append(f"    segment: {p['segment']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_jsonl(path: Path, n: int) -> None:
    header = {
        "name": "bench",
        "models": [{"id": "a", "model": "local/smollm2"}, {"id": "b", "model": "local/smollm2"}],
        "templates": {"capital": "What is the capital of {{country}}? Answer in one word."},
    }
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(header) + "\n")
        for i in range(n):
            fh.write(json.dumps(prompt(i)) + "\n")


def measure(path: Path, n: int, repeat: int, home: Path) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(n)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "GENAICOMPARE_HOME": str(home)},
        )
        runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda r: r["load_s"])
    return {**best, "size_mb": path.stat().st_size / 1024 / 1024}


def report(label: str, r: dict[str, float]) -> None:
    verdict = "ok" if r["load_s"] <= 2.0 else "OVER GOAL"
    print(
        f"P7 {label:26} {r['size_mb']:5.1f} MB: load {r['load_s']:.2f} s (goal ≤ 2 s, {verdict}; "
        f"CPU {r['cpu_s']:.2f} s), import {r['import_s']:.2f} s, peak RSS {r['rss_mb']:.0f} MB"
    )


def bad_corpus() -> None:
    """Every bad catalog must fail fast: slowest in-process time to CatalogError, and the CLI."""
    import time

    from genaicompare.catalog import CatalogError, load_catalog

    corpus = Path(__file__).resolve().parents[1] / "tests" / "data" / "bad_catalogs"
    with contextlib.suppress(CatalogError):  # pay the one-off imports (ruamel) before timing
        load_catalog(corpus / "empty.yaml")
    worst = (0.0, "")
    for path in sorted(corpus.iterdir()):
        started = time.perf_counter()
        with contextlib.suppress(CatalogError):
            load_catalog(path)
        worst = max(worst, (time.perf_counter() - started, path.name))
    print(
        f"bad corpus: {len(list(corpus.iterdir()))} files, slowest error in-process "
        f"{worst[0] * 1000:.1f} ms ({worst[1]})"
    )
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "genaicompare", "run", str(corpus / "alias_bomb.yaml")],
        capture_output=True,
        text=True,
    )
    print(
        f"bad corpus: `genaicompare run alias_bomb.yaml` exit {proc.returncode} in "
        f"{time.perf_counter() - started:.2f} s (goal ≤ 1 s; mostly interpreter and imports)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path, jsonl_path = Path(tmp) / "bench.yaml", Path(tmp) / "bench.jsonl"
        write_yaml(yaml_path, args.prompts)
        write_jsonl(jsonl_path, args.prompts)
        n = args.prompts
        # Cold: a fresh cache directory for every run. Warm: large YAML files keep their checked
        # data in the cache (keyed by content), so a second open reads JSON instead of YAML.
        cold = [measure(yaml_path, n, 1, Path(tmp) / f"home-cold-{i}") for i in range(args.repeat)]
        report(f"{n} prompts yaml (cold)", min(cold, key=lambda r: r["load_s"]))
        warm_home = Path(tmp) / "home-warm"
        measure(yaml_path, n, 1, warm_home)
        report(f"{n} prompts yaml (warm)", measure(yaml_path, n, args.repeat, warm_home))
        report(f"{n} prompts jsonl", measure(jsonl_path, n, args.repeat, Path(tmp) / "home-jl"))
    bad_corpus()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
