"""P3 per provider path: the headless batch through each of our paths, side by side with promptfoo
on the same server, all in one run.

    python benchmarks/bench_native.py [--prompts 200] [--jobs 16] [--json] [--only openai,anthropic,gemini]
                                      [--skip-promptfoo]

Workload as in ``bench_headless.py`` (issue 7): 200 prompts × 2 models at 0.2 s per request —
100 ms to the first token, then 50 tokens paced over 100 ms — with ``-j 16``; ideal = 400 × 0.2 ÷ 16
= 5 s. One local server per wire format, each in its own process:

* ``openai``: ``tests.support.fake_openai`` (bench_promptfoo's paced variant, so promptfoo's
  non-streamed requests take as long) — ``openai/…`` + ``api_base``;
* ``anthropic``: ``tests.support.fake_anthropic`` (Messages API SSE) — ``anthropic/…``;
* ``gemini``: ``tests.support.fake_gemini`` (``streamGenerateContent?alt=sse``) — ``gemini/…``.

Rows per server: ``genaicompare run`` on the lean client (the default), the same with litellm
(``GENAICOMPARE_FAST_PATH=0`` / ``GENAICOMPARE_NATIVE=0``) in worker processes (the default with
2+ cores) and in one process (``GENAICOMPARE_LITELLM_WORKERS=0``), and ``promptfoo eval`` when promptfoo is
installed (bench_promptfoo.find_promptfoo; its Anthropic provider streams with ``stream: true``,
its OpenAI and Google providers do not stream). Times: the run's own ``seconds`` for ours, the
eval's ``evaluationDurationMs`` for promptfoo (interpreter/node start excluded from both).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench_headless
import bench_promptfoo
from _common import start_server

OPENAI_PACED = bench_headless.PACED  # fake/tokens?n=50&ttft=0.1&delay=0.00204&pace=1
# The Gemini model name is part of the URL path: options after ';' need no encoding. It starts
# with "gemini" because promptfoo sends other names to the PaLM API; the fake server streams
# tokens for any name it does not know as a scenario.
GEMINI_PACED = "gemini-bench;" + OPENAI_PACED.split("?", 1)[1].replace("&", ";")


def _catalog(path: Path, prompts: int, models: list[dict[str, Any]]) -> Path:
    doc = {
        "name": "bench-native",
        "version": "1",
        "models": models,
        "prompts": [
            {"id": f"p{i:05d}", "prompt": f"Question {i}: summarise the quarterly report."}
            for i in range(prompts)
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _models(provider: str, port: int) -> list[dict[str, Any]]:
    key = bench_headless.KEY_ENV
    if provider == "openai":
        base, model = f"http://127.0.0.1:{port}/v1", "openai/" + OPENAI_PACED + "&m={}"
    elif provider == "anthropic":
        base, model = f"http://127.0.0.1:{port}", "anthropic/" + OPENAI_PACED + "&m={}"
    else:
        base, model = f"http://127.0.0.1:{port}/v1beta", "gemini/" + GEMINI_PACED + ";m={}"
    return [
        {"id": alias, "model": model.format(alias), "api_base": base, "api_key_env": key}
        for alias in ("old", "new")
    ]


def _promptfoo_config(path: Path, provider: str, port: int, prompts: int) -> Path:
    key = "sk-bench-0123456789"
    providers: list[dict[str, Any]] = []
    for alias in ("old", "new"):
        if provider == "openai":
            pid = f"openai:chat:{OPENAI_PACED}&m={alias}"
            config: dict[str, Any] = {"apiBaseUrl": f"http://127.0.0.1:{port}/v1"}
        elif provider == "anthropic":
            pid = f"anthropic:messages:{OPENAI_PACED}&m={alias}"
            config = {"apiBaseUrl": f"http://127.0.0.1:{port}", "stream": True}
        else:
            pid = f"google:{GEMINI_PACED};m={alias}"
            config = {"apiBaseUrl": f"http://127.0.0.1:{port}"}
        providers.append({"id": pid, "label": alias, "config": {**config, "apiKey": key}})
    doc = {
        "description": "genaicompare P3 reference per provider",
        "prompts": ["{{question}}"],
        "providers": providers,
        "tests": [
            {"vars": {"question": f"Question {i}: summarise the quarterly report."}}
            for i in range(prompts)
        ],
    }
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def _server(provider: str) -> tuple[Any, int]:
    if provider == "openai":
        script = str(Path(bench_promptfoo.__file__).resolve())
        return start_server([sys.executable, script, "--serve"])
    return start_server([sys.executable, "-m", f"tests.support.fake_{provider}", "--port", "0"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", default="openai,anthropic,gemini")
    parser.add_argument("--skip-promptfoo", action="store_true")
    args = parser.parse_args(argv)
    requests = args.prompts * 2
    ideal = requests * 0.2 / args.jobs
    command, how = (None, "skipped") if args.skip_promptfoo else bench_promptfoo.find_promptfoo()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "home"
        home.mkdir()
        for provider in args.only.split(","):
            server, port = _server(provider)
            try:
                catalog = _catalog(tmp / f"{provider}.json", args.prompts, _models(provider, port))
                off = (
                    {"GENAICOMPARE_FAST_PATH": "0"}
                    if provider == "openai"
                    else {"GENAICOMPARE_NATIVE": "0"}
                )
                one = {**off, "GENAICOMPARE_LITELLM_WORKERS": "0"}
                paths = (
                    ("lean client", {}),
                    ("litellm, worker processes", off),
                    ("litellm, one process", one),
                )
                for what, env in paths:
                    result = bench_headless.run_cli(
                        catalog, tmp / f"{provider}-{what[:12]}.db", args.jobs, home, **env
                    )
                    ok = result["states"] == ["complete"] and result["responses"] == requests
                    rows.append(
                        {
                            "provider": provider,
                            "what": f"genaicompare run ({what})",
                            "seconds": result["seconds"],
                            "ratio": result["seconds"] / ideal,
                            "cpu_s": result["cpu_s"],
                            "all_complete": ok,
                        }
                    )
                if command is not None:
                    warm = _promptfoo_config(tmp / f"pf-warm-{provider}.yaml", provider, port, 2)
                    bench_promptfoo.run_promptfoo(command, warm, args.jobs, home)
                    config = _promptfoo_config(
                        tmp / f"pf-{provider}.yaml", provider, port, args.prompts
                    )
                    pf = bench_promptfoo.run_promptfoo(command, config, args.jobs, home)
                    seconds = pf["reported_s"] or pf["wall"]
                    rows.append(
                        {
                            "provider": provider,
                            "what": "promptfoo eval",
                            "seconds": seconds,
                            "ratio": seconds / ideal,
                            "cpu_s": pf["cpu_s"],
                            "all_complete": pf["successes"] == requests and not pf["errors"],
                        }
                    )
            finally:
                server.kill()
                server.wait()
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "ideal_s": ideal,
        "promptfoo": how,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(
        f"P3 per provider: {args.prompts} prompts × 2 models, 0.2 s/request, -j {args.jobs}; "
        f"ideal {ideal:.2f} s  ({result['machine']}, load {os.getloadavg()[0]:.1f}; "
        f"promptfoo: {how})"
    )
    print(f"{'':10} {'':34} {'run s':>7} {'× ideal':>8} {'CPU s':>6}  all complete")
    for r in rows:
        print(
            f"{r['provider']:10} {r['what']:34} {r['seconds']:7.2f} {r['ratio']:8.2f} "
            f"{r['cpu_s']:6.2f}  {r['all_complete']}"
        )
    return result


if __name__ == "__main__":
    main()
