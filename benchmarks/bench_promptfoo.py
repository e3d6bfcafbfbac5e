"""P3 reference: the same headless workload through promptfoo, for comparison with ours.

    python benchmarks/bench_promptfoo.py [--prompts 200] [--jobs 16] [--json] [--audit-network]

Workload as in ``bench_headless.py``: 200 prompts × 2 models against the local test server (its own
process) at 0.2 s per request, ``promptfoo eval -j 16``; ideal = 400 × 0.2 ÷ 16 = 5 s. promptfoo's
OpenAI chat provider does not stream, so the server answers each non-streamed request after the
same 0.2 s (100 ms, then 50 tokens paced 2.04 ms apart) that a streamed one takes.

promptfoo is not a dependency (CI does not install it): set ``PROMPTFOO_BIN`` to its executable,
or have ``promptfoo`` on PATH, or run from a folder where ``npm install promptfoo`` was done (npx
finds it, offline); when none works the script prints why and exits 0 (skipped). It runs with no cache, no sharing, no
telemetry, no update check, no remote generation, and its config/database directory in a
temporary folder; ``--audit-network`` also runs a small eval under ``strace -e connect`` and lists
every address promptfoo tried to connect to (only 127.0.0.1 is expected).

Figures: the process's wall time (node start and config loading included, as a user waits for
it) and the eval's own time (``evaluationDurationMs`` in its output file; comparable with the
``seconds`` that ``genaicompare run`` reports).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from _common import base_url, start_server

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # ``--serve`` imports the test server from tests/support
    sys.path.insert(0, str(ROOT))

PACED = "fake/tokens?n=50&ttft=0.1&delay=0.00204&pace=1"
QUIET_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "PROMPTFOO_DISABLE_SHARING": "1",
    "PROMPTFOO_DISABLE_SHARE_EMAIL_REQUEST": "1",
    "PROMPTFOO_DISABLE_REMOTE_GENERATION": "1",
    "PROMPTFOO_DISABLE_REDTEAM_REMOTE_GENERATION": "1",
    "PROMPTFOO_CACHE_ENABLED": "false",
    "PROMPTFOO_DISABLE_RUNTIME_WARNINGS": "1",
    "DO_NOT_TRACK": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}

# Even with PROMPTFOO_DISABLE_TELEMETRY=1, promptfoo 0.121 posts one "telemetry disabled" event to
# its own endpoint (seen with --audit-network as a DNS query). Every request that is not for
# 127.0.0.1 goes to a proxy on the discard port, where nothing listens: it fails at once, locally.
DEAD_PROXY = "http://127.0.0.1:9"
NO_NETWORK_ENV = {
    **{name: DEAD_PROXY for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")},
    **{name: "127.0.0.1,localhost" for name in ("NO_PROXY", "no_proxy")},
}


# ------------------------------------------------------------------------------------ the server


def serve() -> None:
    """The test server, with non-streamed answers taking as long as streamed ones."""
    from tests.support import fake_openai

    class PacedServer(fake_openai.FakeOpenAI):
        open_now = 0
        most_open = 0
        """Most requests in flight at once (did the client really keep -j of them open?)."""

        async def _complete_non_stream(
            self,
            writer: asyncio.StreamWriter,
            model: str,
            body: dict[str, Any],
            scenario: str,
            opts: dict[str, str],
            headers: dict[str, str] | None = None,
        ) -> bool:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
            try:
                n = int(opts.get("n", "20"))
                delay = float(opts.get("delay", "0"))
                await asyncio.sleep(float(opts.get("ttft", "0")) + max(0, n - 1) * delay)
                return await super()._complete_non_stream(
                    writer, model, body, scenario, opts, headers
                )
            finally:
                self.open_now -= 1

        async def _dispatch(self, request: Any, writer: asyncio.StreamWriter) -> bool:
            if request.method == "GET" and request.path.endswith("/in_flight"):
                await self._send_json(writer, 200, {"max": self.most_open})
                return True
            if request.method == "POST" and request.path.endswith("/reset"):
                self.most_open = 0
            return await super()._dispatch(request, writer)

    async def run() -> None:
        server = PacedServer("127.0.0.1", 0)
        await server.start_async()
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def server_requests(port: int) -> tuple[int, int]:
    """(requests served, most in flight at once) since the last reset."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as reply:
        stats = json.loads(reply.read())
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/in_flight", timeout=5) as reply:
        most = json.loads(reply.read())["max"]
    return int(stats["total"]), int(most)


def reset_server(port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/reset", method="POST", data=b"")
    urllib.request.urlopen(request, timeout=5).close()


# ------------------------------------------------------------------------------------ promptfoo


def find_promptfoo() -> tuple[list[str] | None, str]:
    """The command that runs promptfoo, or None and why not."""
    given = os.environ.get("PROMPTFOO_BIN")
    if given:
        if Path(given).exists() or shutil.which(given):
            return [given], f"PROMPTFOO_BIN={given}"
        return None, f"PROMPTFOO_BIN={given} does not exist"
    on_path = shutil.which("promptfoo")
    if on_path:
        return [on_path], on_path
    npx = shutil.which("npx")
    if npx is None:
        return None, "promptfoo is not installed (no PROMPTFOO_BIN, no promptfoo or npx on PATH)"
    # npx offline (never a registry lookup or download): a promptfoo installed in the current
    # folder's node_modules or globally, resolved to its path (the evals run in a temp folder).
    probe = subprocess.run(
        [npx, "--no", "-c", "command -v promptfoo"],
        capture_output=True,
        text=True,
        env={**os.environ, "npm_config_offline": "true"},
        timeout=120,
        check=False,
    )
    found = probe.stdout.strip().splitlines()
    if probe.returncode == 0 and found and Path(found[-1]).exists():
        return [found[-1]], f"npx: {found[-1]}"
    return None, "promptfoo is not installed (set PROMPTFOO_BIN; npx found no local promptfoo)"


def write_config(path: Path, port: int, prompts: int) -> Path:
    base = base_url(port)
    doc = {
        "description": "genaicompare P3 reference",
        "prompts": ["{{question}}"],
        "providers": [
            {
                "id": f"openai:chat:{PACED}&m={alias}",
                "label": alias,
                "config": {"apiBaseUrl": base, "apiKey": "sk-bench-0123456789"},
            }
            for alias in ("old", "new")
        ],
        "tests": [
            {"vars": {"question": f"Question {i}: summarise the quarterly report."}}
            for i in range(prompts)
        ],
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")  # JSON is YAML
    return path


def promptfoo_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        **QUIET_ENV,
        **NO_NETWORK_ENV,
        "PROMPTFOO_CONFIG_DIR": str(home / "promptfoo"),
        "PROMPTFOO_CACHE_PATH": str(home / "cache"),
        "HOME": str(home),
        "OPENAI_API_KEY": "sk-bench-0123456789",
    }


def run_promptfoo(
    command: list[str], config: Path, jobs: int, home: Path, prefix: list[str] | None = None
) -> dict[str, Any]:
    out_file = config.with_suffix(".out.json")
    argv = [
        *(prefix or []),
        *command,
        "eval",
        "-c",
        str(config),
        "-j",
        str(jobs),
        "--no-cache",
        "--no-share",
        "--no-table",
        "--no-progress-bar",
        "-o",
        str(out_file),
    ]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=promptfoo_env(home),
        cwd=config.parent,
        timeout=600,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    text = proc.stdout + proc.stderr
    # promptfoo exits 100 when a test fails; there are no assertions here, so only errors count.
    if proc.returncode not in (0, 100):
        raise SystemExit(f"promptfoo failed ({proc.returncode}): {text[-3000:]}")
    results: dict[str, Any] = {}
    if out_file.exists():
        results = json.loads(out_file.read_text(encoding="utf-8"))
    stats = (results.get("results") or {}).get("stats") or {}
    # The eval's own time, in ms in the output file (the console's "Duration" is whole seconds).
    own_ms = stats.get("evaluationDurationMs") or stats.get("durationMs")
    own = own_ms / 1000 if isinstance(own_ms, (int, float)) else None
    if own is None and (duration := re.search(r"Duration:\s*(?:(\d+)m\s*)?([\d.]+)s", text)):
        own = int(duration.group(1) or 0) * 60 + float(duration.group(2))
    latencies = [
        r["latencyMs"]
        for r in (results.get("results") or {}).get("results") or []
        if isinstance(r.get("latencyMs"), (int, float))
    ]
    return {
        "wall": wall,
        "cpu_s": cpu,
        "reported_s": own,
        "mean_latency_ms": sum(latencies) / len(latencies) if latencies else None,
        "successes": stats.get("successes"),
        "errors": stats.get("errors"),
        "output": text,
    }


def audit_network(command: list[str], port: int, home: Path, tmp: Path) -> dict[str, Any]:
    """Every connect() promptfoo makes during a small eval, by address (strace)."""
    strace = shutil.which("strace")
    if strace is None:
        return {"skipped": "strace not installed"}
    config = write_config(tmp / "audit.yaml", port, 5)
    log = tmp / "connect.log"
    run_promptfoo(
        command,
        config,
        4,
        home,
        prefix=[strace, "-f", "-qq", "-e", "trace=connect", "-o", str(log)],
    )
    addresses: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        found = re.search(
            r'sin6?_addr=inet_pton\(AF_INET6?, "([^"]+)"\)|inet_addr\("([^"]+)"\)', line
        )
        unix = re.search(r'sun_path="([^"]+)"', line)
        if found:
            key = found.group(1) or found.group(2)
        elif unix:
            key = "unix:" + unix.group(1)
        else:
            continue
        addresses[key] = addresses.get(key, 0) + 1
    outside = sorted(
        a for a in addresses if not a.startswith(("127.", "::1", "unix:", "::ffff:127."))
    )
    return {"addresses": addresses, "outside_loopback": outside}


# ------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--audit-network", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return None
    command, how = find_promptfoo()
    if command is None:
        print(f"P3 promptfoo reference: skipped — {how}")
        if args.json:
            print(json.dumps({"skipped": how}))
        return {"skipped": how}
    requests = args.prompts * 2
    ideal = requests * 0.2 / args.jobs
    version = subprocess.run(
        [*command, "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_ENV, **NO_NETWORK_ENV},
        check=False,
    ).stdout.strip()
    server, port = start_server([sys.executable, str(Path(__file__).resolve()), "--serve"])
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            home = tmp / "home"
            home.mkdir()
            # Node, promptfoo's imports and its database: once, so the timed run is not the
            # first start on a cold disk cache (as for our CLI, which bench_headless runs warm).
            run_promptfoo(command, write_config(tmp / "warm.yaml", port, 2), args.jobs, home)
            reset_server(port)
            load = os.getloadavg()
            result = run_promptfoo(
                command, write_config(tmp / "p3.yaml", port, args.prompts), args.jobs, home
            )
            served, in_flight = server_requests(port)
            audit = audit_network(command, port, home, tmp) if args.audit_network else None
    finally:
        server.kill()
        server.wait()
    data = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "promptfoo": version.splitlines()[-1] if version else "?",
        "how": how,
        "load_average": load,
        "ideal_s": ideal,
        "wall_s": result["wall"],
        "wall_ratio": result["wall"] / ideal,
        "reported_s": result["reported_s"],
        "reported_ratio": result["reported_s"] / ideal if result["reported_s"] else None,
        "mean_latency_ms": result["mean_latency_ms"],
        "cpu_s": result["cpu_s"],
        "requests_served": served,
        "max_in_flight": in_flight,
        "successes": result["successes"],
        "errors": result["errors"],
        "network_audit": audit,
    }
    print(
        f"P3 promptfoo reference: {args.prompts} prompts × 2 models, 0.2 s/request, "
        f"-j {args.jobs}; ideal {ideal:.2f} s  (promptfoo {data['promptfoo']}, "
        f"{data['machine']}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    print(
        f"  process wall time   {result['wall']:6.2f} s = {data['wall_ratio']:.2f}× ideal "
        f"(CPU {result['cpu_s']:.2f} s)"
    )
    if result["reported_s"] is not None:
        print(
            f"  eval's own time     {result['reported_s']:6.2f} s = "
            f"{data['reported_ratio']:.2f}× ideal"
        )
    if result["mean_latency_ms"] is not None:
        print(f"  mean request latency {result['mean_latency_ms']:.0f} ms (server: 200 ms)")
    print(
        f"  requests at the server {served} (expected {requests}), at most {in_flight} at once; "
        f"successes {result['successes']}, errors {result['errors']}"
    )
    if audit is not None:
        print(f"  network audit (strace connect): {json.dumps(audit)}")
    if args.json:
        print(json.dumps(data, indent=2))
    return data


if __name__ == "__main__":
    main()
