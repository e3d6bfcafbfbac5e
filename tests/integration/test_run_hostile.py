"""Hostile model output through a real run: console, JUnit, Markdown and JSON stay inert."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

# The echo scenario answers with the prompt, so these come back as model output. (YAML
# forbids NUL and C1 controls in a catalog; tests/unit/test_reports.py feeds those directly.)
PAYLOADS = {
    "osc52": "copy \x1b]52;c;ZXZpbA==\x07 done",
    "title": "\x1b]0;pwned\x07 title",
    "clear": "\x1b[2J\x1b[H wiped",
    "workflow": "::set-output name=x::1",
    "mask": "::add-mask::secret-value",
    "markup": "[@click=app.quit]x[/] [link=file:///etc/passwd]p[/link] <script>x</script> @octocat",
}


def test_hostile_outputs_are_inert_everywhere(tmp_path: Path) -> None:
    prompts = [
        {"id": f"{name}::id\x1b[1m", "prompt": text, "assert": {"contains": "never-there"}}
        for name, text in PAYLOADS.items()
    ]
    junit, md = tmp_path / "j.xml", tmp_path / "s.md"
    with FakeOpenAI() as server:
        cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"echo": "fake/echo"}, prompts)
        proc = run_cli(
            [
                "run",
                str(cat),
                "--db",
                str(tmp_path / "r.db"),
                "--junit",
                str(junit),
                "--markdown",
                str(md),
            ],
            tmp_path / "home",
        )
        as_json = run_cli(
            ["run", str(cat), "--db", str(tmp_path / "r.db"), "--json"], tmp_path / "home"
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for text in (proc.stdout, proc.stderr, md.read_text(encoding="utf-8")):
        assert "\x1b" not in text and "\x9b" not in text and "\x00" not in text
        assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert "<script>" not in md.read_text(encoding="utf-8")
    root = ET.parse(junit).getroot()
    outs = {tc.get("name"): tc.findtext("system-out") for tc in root.iter("testcase")}
    assert len([n for n in outs if n and "::id" in n]) == len(PAYLOADS)
    assert any("copy  done" in (o or "") for o in outs.values())
    raw = junit.read_bytes()
    assert b"\x1b" not in raw and b"\x00" not in raw
    # JSON keeps the text as stored (escaped, so inert on a terminal) and round-trips exactly.
    assert as_json.returncode == 1
    assert "\x1b" not in as_json.stdout and "\x9b" not in as_json.stdout
    texts = {r["prompt_id"]: r["text"] for r in json.loads(as_json.stdout)["responses"]}
    assert texts["osc52::id\x1b[1m"] == PAYLOADS["osc52"]
