"""Fuzzing the catalog loader: whatever the bytes, the only failure is a positioned CatalogError.

Three generators: raw bytes; a good catalog mutated with YAML-significant characters (indicators,
tabs, quotes, control characters, invalid UTF-8); and random data trees written as YAML and JSONL.
Any other exception (a crash in the parser, pydantic, or the position mapping) fails the test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genaicompare.catalog.jsonl_reader as jsonl_reader
from genaicompare.catalog import Catalog, CatalogError, load_catalog

GOOD = """\
name: fuzz
version: "1"
models:
  - id: a
    model: local/smollm2
    params: {temperature: 0.2, max_tokens: 32, seed: 7}
    system: Be brief.
defaults:
  system: You are helpful.
templates:
  ask: "Question: {{q}}"
prompts:
  - id: p1
    prompt: What is the capital of France?
    reference: Paris
    tags: [geo]
    assert: {contains: Paris}
  - id: p2
    template: ask
    vars: {q: "2+2?"}
    few_shot:
      - {user: "1+1?", assistant: "2"}
  - id: p3
    messages:
      - {role: user, content: Hi}
    context: [Some passage.]
"""

SIGNIFICANT = [
    *list(":-[]{}&*!|>'\"#%@`,?~\t\n "),
    "\x00",
    "\x07",
    "\x85",
    "\u2028",
    "é",
    "---",
    "!!python/object:os.system ",
    "*a",
    "&a ",
    "sk-AbCdEfGhIjKlMnOpQrStUvWx",
]

FUZZ = settings(
    max_examples=int(os.environ.get("GC_FUZZ_EXAMPLES", "250")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(path: Path) -> None:
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        text = str(exc)
        assert text.startswith(str(path) + ":")
        assert "\n" not in text
        # Every problem inside a file this small has a position.
        assert exc.line is not None and exc.line >= 1, text
        assert exc.col is not None and exc.col >= 1, text
    else:
        assert isinstance(catalog, Catalog)
        for prompt in catalog.prompts:
            for model in catalog.models or [None]:
                catalog.render(prompt, model)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".yaml", ".jsonl"]))
def test_random_bytes(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"c{suffix}"
    path.write_bytes(data)
    _check(path)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    text = GOOD
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(SIGNIFICANT) | st.text(max_size=3))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.sampled_from([b"\xe9", b"\xff", b"\xc3", b""])) + raw[at:]
    return raw


@FUZZ
@given(raw=mutated())
def test_mutated_yaml(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(raw)
    _check(path)


scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
)
keys = st.sampled_from(
    [
        "name",
        "version",
        "models",
        "prompts",
        "id",
        "model",
        "prompt",
        "template",
        "vars",
        "templates",
        "params",
        "temperature",
        "system",
        "messages",
        "role",
        "content",
        "reference",
        "tags",
        "few_shot",
        "user",
        "assistant",
        "assert",
        "context",
        "defaults",
        "api_key",
        "api_key_env",
        "segment",
        "task",
        "x",
    ]
) | st.text(max_size=6)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


@FUZZ
@given(tree=st.dictionaries(keys, trees, max_size=6))
def test_random_trees_as_yaml_and_jsonl(tmp_path: Path, tree: dict) -> None:  # type: ignore[type-arg]
    yaml_path = tmp_path / "c.yaml"
    # JSON is YAML flow syntax, so one writer serves both formats.
    yaml_path.write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    _check(yaml_path)
    jsonl_path = tmp_path / "c.jsonl"
    prompts = tree.get("prompts") if isinstance(tree.get("prompts"), list) else [tree]
    lines = [json.dumps(p, ensure_ascii=False) for p in prompts]
    jsonl_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _check(jsonl_path)
    # The one-call JSONL reader and the line-by-line one agree whenever both accept the file.
    text = jsonl_path.read_text(encoding="utf-8")
    fast = jsonl_reader._jsonl_fast(text, jsonl_path)
    try:
        slow = jsonl_reader._jsonl_data(text, jsonl_path)[0]
    except CatalogError:
        return
    if fast is not None:
        assert fast == slow
