"""Would litellm streams in worker processes help? P3's litellm path in one process vs the same
requests split over N processes, measured back to back in one run.

    python benchmarks/bench_litellm_split.py [--prompts 200] [--jobs 16] [--processes 2]

The workload of ``bench_native.py`` (Anthropic fake server, ``GENAICOMPARE_NATIVE=0``): one
``genaicompare run -j 16`` of all prompts, then ``--processes`` runs started together, each with
its share of the prompts and ``-j 16 / N``, so the same number of streams is open at once. The
split time is the slowest run's own ``seconds``: the upper bound of what a pool of worker processes
streaming litellm could give (no event passing back to a parent, no shared storage).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_headless
import bench_native


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    ideal = args.prompts * 2 * 0.2 / args.jobs
    server, port = bench_native._server("anthropic")
    env = {"GENAICOMPARE_NATIVE": "0"}
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            models = bench_native._models("anthropic", port)
            whole = bench_native._catalog(tmp / "all.json", args.prompts, models)
            one = bench_headless.run_cli(whole, tmp / "one.db", args.jobs, tmp / "home", **env)
            share = args.prompts // args.processes
            procs = []
            for i in range(args.processes):
                part = bench_native._catalog(tmp / f"part{i}.json", share, models)
                procs.append(
                    subprocess.Popen(
                        bench_headless._cli(
                            part, tmp / f"p{i}.db", args.jobs // args.processes, "--json"
                        ),
                        env=bench_headless._env(tmp / f"home{i}", **env),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                        text=True,
                        cwd=bench_headless.ROOT,
                    )
                )
            seconds = [json.loads(p.communicate()[0])["seconds"] for p in procs]
    finally:
        server.kill()
    split = max(seconds)
    print(
        f"litellm path, {args.prompts} prompts × 2 models, -j {args.jobs}, ideal {ideal:.2f} s "
        f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"
    )
    print(f"  one process            {one['seconds']:6.2f} s = {one['seconds'] / ideal:.2f}× ideal")
    print(
        f"  {args.processes} processes at once   {split:6.2f} s = {split / ideal:.2f}× ideal "
        f"(each: {', '.join(f'{s:.2f}' for s in seconds)})"
    )
    print(json.dumps({"ideal_s": ideal, "one_s": one["seconds"], "split_s": seconds}))


if __name__ == "__main__":
    sys.exit(main())
