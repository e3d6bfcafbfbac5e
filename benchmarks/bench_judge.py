"""What the LLM judge adds to a headless run: wall time with and without ``--no-judge``.

    python benchmarks/bench_judge.py [--prompts 20] [--judge-latency 0.2] [--repeat 2]

A real ``genaicompare run`` subprocess against the fake OpenAI server (tests/support): two models
streaming 20 tokens each, and the fake server's deterministic judge, made slow on purpose
(``ttft``) so that a serialized judge would show. Printed: median wall time without and with the
judge (mode both: one score call per answer and two calls per pair), the judge calls made, the
time those calls would take one after another, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import KEY_ENV, run_cli, write_catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--judge-latency", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("-j", "--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as server:
        root = Path(tmp)
        prompts = [
            {"id": f"p{i}", "prompt": f"The capital of France is Paris, number {i}"}
            for i in range(args.prompts)
        ]
        judge = {
            "model": f"openai/fake/judge?ttft={args.judge_latency}",
            "api_base": server.base_url,
            "api_key_env": KEY_ENV,
            "mode": "both",
        }
        cat = write_catalog(
            root / "c.yaml",
            server.base_url,
            {"echo": "fake/echo", "tok": "fake/tokens?n=20&delay=0.005"},
            prompts,
            extra={"judge": judge},
        )
        times: dict[str, list[float]] = {"without judge": [], "with judge": []}
        calls = 0
        for i in range(args.repeat):
            for label, extra in (("without judge", ["--no-judge"]), ("with judge", [])):
                before = sum(n for m, n in server.requests.items() if "judge" in m)
                start = time.perf_counter()
                proc = run_cli(
                    [
                        *("run", str(cat), "--db", str(root / f"{i}.db"), "--no-cache"),
                        *("-j", str(args.jobs), "--no-progress", *extra),
                    ],
                    root / "home",
                    timeout=600,
                )
                times[label].append(time.perf_counter() - start)
                if proc.returncode != 0:
                    sys.exit(f"run failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
                calls = sum(n for m, n in server.requests.items() if "judge" in m) - before
        load = os.getloadavg()
        rows = {k: round(statistics.median(v), 2) for k, v in times.items()}
        result = {
            "prompts": args.prompts,
            "answers": args.prompts * 2,
            "jobs": args.jobs,
            "judge_latency_s": args.judge_latency,
            "judge_calls": calls,
            "judge_calls_serialized_s": round(calls * args.judge_latency, 2),
            "median_s": rows,
            "judge_overhead_s": round(rows["with judge"] - rows["without judge"], 2),
            "loadavg": [round(x, 2) for x in load],
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
