"""Reports stay valid and inert whatever the models said: JUnit parsed by real XML parsers,
Markdown escaped, console lines that cannot issue GitHub Actions workflow commands."""

from __future__ import annotations

import json
import xml.dom.minidom
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from genaicompare.core.files import write_atomic
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.cases import build_cases, model_stats
from genaicompare.gate.reports import ci_safe, dumps, junit_xml, markdown, regression_json
from genaicompare.gate.rules import evaluate_rules, parse_rules

HOSTILE = [
    "\x1b]52;c;ZXZpbA==\x07clipboard",  # OSC 52
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\",  # OSC 8
    "\x1b]0;owned title\x07",  # OSC 0
    "\x1b[2J\x1b[H cleared",  # CSI 2J
    "\x1bP$q m\x1b\\",  # DECRQSS
    "\x9b31m 8-bit CSI",
    "NUL\x00byte and \x01\x02\x03\x08\x0b\x0c\x0e\x1f controls \x7f",
    "lone surrogate \ud800 and \udfff, non-chars \ufffe \uffff",
    "]]> <![CDATA[ <x>&amp; \"quotes\" 'apos' </testcase>",
    "::set-output name=x::pwned\n::add-mask::secret\n  ::error file=a::bad",
    "[@click=app.quit]x[/] [link=file:///etc/passwd]p[/link] @octocat <script>alert(1)</script>",
    "x" * 300_000,
    "emoji 🚀 and U+2028\u2028 and RTL \u202e override",
]


def _record(i: int, text: str, state: FinishState = FinishState.complete) -> ResponseRecord:
    r = ResponseRecord(
        prompt_id=f"p{i}\x1b[31m<&>\x00",
        model_alias="m\x07",
        model="openai/x",
        params={},
        messages=[{"role": "user", "content": "q"}],
        text=text,
        state=state,
        error=None if state is FinishState.complete else text[:200],
        error_type=None if state is FinishState.complete else "InternalServerError",
        latency_ms=12.5,
    )
    r.id = i + 1
    return r


@pytest.fixture
def cases():
    records = [_record(i, t) for i, t in enumerate(HOSTILE)]
    records.append(_record(len(HOSTILE), HOSTILE[0], FinishState.error))
    specs = {r.prompt_id: {"contains": "never-there"} for r in records[::2]}
    return build_cases(records, specs, {})


def test_junit_is_well_formed_with_hostile_outputs(cases, tmp_path: Path) -> None:
    stats = model_stats(cases)
    rules = evaluate_rules(parse_rules(["assert_failures > 0"]), stats.values())
    text = junit_xml("suite\x1b[1m", cases, rules)
    path = tmp_path / "junit.xml"
    write_atomic(path, text)
    # Two independent real parsers: expat via ElementTree, and minidom.
    root = ET.parse(path).getroot()
    xml.dom.minidom.parse(str(path))
    assert root.tag == "testsuites"
    testcases = root.findall("./testsuite/testcase")
    # One per prompt × model, plus the rule case.
    assert (
        len([t for t in testcases if "regression-rules" not in t.get("classname", "")])
        == len(HOSTILE) + 1
    )
    raw = path.read_bytes()
    for bad in (b"\x1b", b"\x00", b"\x07", b"\x9b", "\x9b".encode(), b"\xef\xbf\xbe"):
        assert bad not in raw
    # 7 asserted cases fail + the triggered rule; the errored case is an <error>, not a failure.
    assert (root.get("failures"), root.get("errors")) == ("8", "1")
    # Failures and errors are counted and typed.
    assert root.find(".//failure[@type='assertion']") is not None
    error = root.find(".//error")
    assert error is not None and error.get("type") == "InternalServerError"
    # The text survives as data (escaped, not interpreted).
    outs = "".join(o.text or "" for o in root.iter("system-out"))
    assert "]]> <![CDATA[ <x>&amp;" in outs
    assert "emoji 🚀" in outs
    # Huge outputs are truncated, not dropped.
    assert max(len(o.text or "") for o in root.iter("system-out")) <= 20_000


def test_ci_safe_neutralises_workflow_commands() -> None:
    out = ci_safe("ok\n::set-output name=x::1\n  ::add-mask::s\nfine :: not at start\n")
    lines = out.splitlines()
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert lines[3] == "fine :: not at start"
    assert "\x1b" not in ci_safe("\x1b]0;title\x07::error::x")
    assert not ci_safe("\x1b]0;title\x07::error::x").startswith("::")


def test_markdown_is_inert(cases) -> None:
    stats = model_stats(cases)
    rules = evaluate_rules(parse_rules(["assert_failures > 0"]), stats.values())
    md = markdown("t", "regression", stats, rules, cases, run_id=3)
    for line in md.splitlines():
        assert not line.lstrip().startswith("::")
    assert "\x1b" not in md and "\x00" not in md
    assert "<script>" not in md
    assert "@octocat" not in md  # mentions escaped
    assert "failing case(s)" in md


def test_json_report_round_trips(cases) -> None:
    stats = model_stats(cases)
    rules = evaluate_rules(parse_rules(["assert_failures > 0"]), stats.values())
    doc = regression_json("regression", 1, stats, rules, cases, None)
    text = dumps(doc)
    assert "\x1b" not in text and "\x9b" not in text and "\u2028" not in text
    back = json.loads(text)
    assert back["cases"][1]["prompt_id"] == cases[1].prompt_id
    assert back["rules"][0]["triggered"] is True


def test_junit_and_markdown_neutralise_bidi_and_workflow_lines() -> None:
    """Issue 18 §13: Trojan Source controls become placeholders and ``::`` lines are inert in
    JUnit (its <system-out> is printed by CI reporters) as on the console."""
    from genaicompare.gate.reports import xml_text

    hostile = "ok\n::add-mask::x\n  ::error file=a::b\nuser\u202e \u2066// admin\u2069\u200b"
    out = xml_text(hostile)
    assert not any(line.lstrip().startswith("::") for line in out.splitlines())
    assert "⟨U+202E⟩" in out and "⟨U+2066⟩" in out and "⟨U+2069⟩" in out and "⟨U+200B⟩" in out
    assert not any(c in out for c in "\u202e\u2066\u2069\u200b")
    assert "\uff1a:add-mask::x" in out  # visibly changed, still readable
    again = ci_safe(ci_safe(hostile))  # idempotent: nothing invisible inserted
    assert again == ci_safe(hostile)
