"""Bad catalog input through the real CLI (``genaicompare run``, which reads the catalog before
it opens the store or calls a model): one positioned ``file:line:col: field: message`` line,
exit code 2 — never ``internal error``. #18 item 11."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.headless import run_cli

HEADER = '{"name": "bad", "models": [{"id": "a", "model": "openai/a", "api_base": "http://127.0.0.1:9/v1"}]}'
YAML_HEAD = 'name: bad\nmodels:\n  - {id: a, model: openai/a, api_base: "http://127.0.0.1:9/v1"}\n'
DIGITS = "9" * 5000

CASES = {
    "lone_surrogate.jsonl": (
        HEADER + '\n{"id": "p1", "prompt": "hi \\ud800 there"}\n',
        ":2:28: prompts.0.prompt: \\ud800 is half of a UTF-16 surrogate pair, not a character",
    ),
    "lone_low_surrogate_in_a_list.jsonl": (
        '{"id": "p1", "prompt": "x", "metrics": ["a"], "tags": ["\\udc01"]}\n',
        ":1:57: prompts.0.tags.0: \\udc01 is half of a UTF-16 surrogate pair",
    ),
    "nul.jsonl": (
        HEADER + '\n{"id": "p1", "prompt": "hi \\u0000 there"}\n',
        ":2:28: prompts.0.prompt: character '\\x00' (U+0000) is not allowed in a catalog",
    ),
    "nul.yaml": (
        YAML_HEAD + 'prompts:\n  - id: p1\n    prompt: "hi \\0 there"\n',
        ":6:13: prompts.0.prompt: character '\\x00' (U+0000) is not allowed in a catalog",
    ),
    "long_integer.yaml": (
        YAML_HEAD
        + f"defaults:\n  params: {{seed: {DIGITS}}}\nprompts:\n  - {{id: p1, prompt: hi}}\n",
        ":5:18: defaults.params.seed: a number with 5000 digits is too long (at most 4300); "
        "write it as a string",
    ),
    "long_integer.jsonl": (
        HEADER + '\n{"id": "p1", "prompt": "x", "reference": ' + DIGITS + "}\n",
        ":2:42: a number with 5000 digits is too long (at most 4300)",
    ),
    "assert.yaml": (
        YAML_HEAD
        + "prompts:\n  - id: p1\n    prompt: hi\n    reference: x\n    assert:\n"
        + "      contains: x\n      rougeL: greater than 0.3\n",
        ":10:15: prompts.0.assert.rougeL: cannot read 'greater than 0.3'; write an operator",
    ),
    "assert.jsonl": (
        HEADER
        + '\n{"id": "p1", "prompt": "hi", "assert": {"rougeL": ">= 0.3", "bleu_typo": "> 1"}}\n',
        ":2:74: prompts.0.assert.bleu_typo: unknown metric",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_catalog_input_is_a_positioned_error(tmp_path: Path, name: str) -> None:
    text, expected = CASES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    home = tmp_path / "home"
    proc = run_cli(["run", str(path), "--db", str(tmp_path / "r.db")], home, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"genaicompare: {path}{expected}"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "internal error" not in proc.stderr
    assert not (home / "cache" / "crashes").exists()
    assert not (tmp_path / "r.db").exists()  # refused before any work
