"""The bad-catalog corpus: every malformed catalog gives its exact one-line, positioned error.

Each file in tests/data/bad_catalogs/ is listed here with the message expected after its path
(``path:line:col: field: message``). A new file without an entry fails the suite, so the corpus
and the table cannot drift apart. The 60 MB file is written at run time, never committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genaicompare.catalog import MAX_CATALOG_BYTES, CatalogError, load_catalog
from genaicompare.core.errors import guarded

CORPUS = Path(__file__).resolve().parents[2] / "data" / "bad_catalogs"

EXPECTED: list[tuple[str, str]] = [
    (
        "secret_as_key.yaml",
        ":6:7: prompts.0.vars: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    (
        "bad_jsonl_secret_as_key.jsonl",
        ":1:29: prompts.0.vars: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    ("alias_bomb.yaml", ":1:4: a: anchors (&a) are not allowed in a catalog: write the value out"),
    (
        "alias_reuse.yaml",
        ":3:11: defaults.params: anchors (&p) are not allowed in a catalog: write the value out",
    ),
    ("api_base_not_http.yaml", ":5:15: models.0.api_base: must start with http:// or https://"),
    (
        "api_base_with_key.yaml",
        ":5:15: models.0.api_base: must not carry credentials; keys come only from environment variables (use api_key_env)",
    ),
    (
        "bad_api_key_env.yaml",
        ":5:18: models.0.api_key_env: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'",
    ),
    (
        "bad_jsonl_duplicate_ids.jsonl",
        ":3:8: prompts.2.id: duplicate prompt id 'a' (also prompts.0)",
    ),
    ("bad_jsonl_duplicate_key.jsonl", ":2:29: duplicate key 'id'"),
    ("bad_jsonl_empty.jsonl", ":1:1: the file is empty; a JSONL catalog has one prompt per line"),
    (
        "bad_jsonl_header_with_prompts.jsonl",
        ":1:17: prompts: a JSONL header holds catalog keys only; put each prompt on its own line",
    ),
    (
        "bad_jsonl_not_object.jsonl",
        ":3:1: each line must be a JSON object (one prompt), not a list",
    ),
    (
        "bad_jsonl_secret.jsonl",
        ":1:71: models.0.api_key: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    (
        "bad_jsonl_syntax.jsonl",
        ":3:28: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    (
        "bad_jsonl_unknown_key.jsonl",
        ":3:29: prompts.1.refrence: unknown key 'refrence' (did you mean 'reference'?)",
    ),
    ("bad_jsonl_wrong_type.jsonl", ":2:37: prompts.1.tags: Input should be a valid list"),
    (
        "bad_message_role.yaml",
        ":10:15: prompts.0.messages.1.role: Input should be 'system', 'user' or 'assistant'",
    ),
    (
        "bad_task.yaml",
        ":8:11: prompts.0.task: Input should be 'summarization', 'qa', 'classification', 'extraction', 'generation' or 'chat'",
    ),
    (
        "comments_only.yaml",
        ":1:1: the file is empty; a catalog needs at least 'name' and 'prompts'",
    ),
    ("complex_key.yaml", ":9:9: prompts.0.vars: mapping keys must be plain strings"),
    ("control_char.yaml", ":4:17: character '\\x07' (U+0007) is not allowed in YAML"),
    ("custom_tag.yaml", ":2:10: prompts: tags (!include) are not allowed in a catalog"),
    ("deep_nesting.yaml", ":6:74: models.0.params.extra.0.0.…: nesting deeper than 64 levels"),
    (
        "deep_nesting_block.yaml",
        ":66:129: defaults.params.k0.k1.k2.k3.…: nesting deeper than 64 levels",
    ),
    ("duplicate_key_flow.yaml", ":6:25: prompts.0.id: duplicate key 'id' (first at 6:6)"),
    (
        "duplicate_key_prompt.yaml",
        ":9:5: prompts.0.reference: duplicate key 'reference' (first at 8:5)",
    ),
    ("duplicate_key_top.yaml", ":5:1: name: duplicate key 'name' (first at 1:1)"),
    ("duplicate_model_ids.yaml", ":5:9: models.1.id: duplicate model id 'm' (also models.0)"),
    (
        "duplicate_prompt_ids.yaml",
        ":10:9: prompts.2.id: duplicate prompt id 'capital-fr' (also prompts.0)",
    ),
    ("empty.yaml", ":1:1: the file is empty; a catalog needs at least 'name' and 'prompts'"),
    ("empty_prompts.yaml", ":5:10: prompts: a catalog needs at least one prompt"),
    (
        "few_shot_with_messages.yaml",
        ":6:5: prompts.0: 'few_shot' cannot be combined with 'messages' (write the examples as messages)",
    ),
    (
        "key_shaped_token.yaml",
        ":6:18: models.0.params.hub_token: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    ("latin1.jsonl", ":2:27: not valid UTF-8 (byte 0xe9); save the catalog as UTF-8"),
    ("latin1.yaml", ":4:43: not valid UTF-8 (byte 0xf4); save the catalog as UTF-8"),
    (
        "literal_api_key.yaml",
        ":5:14: models.0.api_key: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    (
        "merge_key.yaml",
        ":2:9: x-base: anchors (&base) are not allowed in a catalog: write the value out",
    ),
    ("missing_model_string.yaml", ":3:5: models.0.model: required key is missing"),
    ("missing_name.yaml", ":1:1: name: required key is missing: give the catalog a name"),
    ("missing_prompt_id.yaml", ":8:5: prompts.1.id: required key is missing"),
    (
        "missing_prompts.yaml",
        ":1:1: prompts: required key is missing: a catalog needs a list of prompts",
    ),
    ("missing_template_vars.yaml", ":11:7: prompts.0.vars: missing for template 'greet': greeting"),
    ("model_alias_too_long.yaml", ":3:9: models.0.id: String should have at most 64 characters"),
    (
        "negative_max_tokens.yaml",
        ":4:17: defaults.params.max_tokens: Input should be greater than 0",
    ),
    ("no_source.yaml", ":6:5: prompts.0: give exactly one of 'prompt', 'messages' or 'template'"),
    ("nul_byte.yaml", ":1:10: character '\\x00' (U+0000) is not allowed in YAML"),
    (
        "out_of_range_temperature.yaml",
        ":5:27: models.0.params.temperature: Input should be less than or equal to 2",
    ),
    (
        "python_object_tag.yaml",
        ":4:13: prompts.0.prompt: tags (!!python/object/apply:os.system) are not allowed in a catalog",
    ),
    (
        "secret_in_prompt_text.yaml",
        ":7:13: prompts.0.prompt: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    (
        "secret_under_keyish_name.yaml",
        ":7:24: models.0.params.extra_headers.Authorization: looks like a literal API key; keys come only from environment variables (name the variable with api_key_env)",
    ),
    (
        "syntax_bad_indent.yaml",
        ":5:4: YAML syntax error: while parsing a block collection: did not find expected '-' indicator",
    ),
    (
        "syntax_colon_in_plain.yaml",
        ":4:19: YAML syntax error: mapping values are not allowed in this context",
    ),
    (
        "syntax_tab_indent.yaml",
        ":3:1: YAML syntax error: while scanning for the next token: found character that cannot start any token (a tab: indent with spaces)",
    ),
    (
        "syntax_unclosed_flow.yaml",
        ":6:1: YAML syntax error: while parsing a flow sequence: did not find expected ',' or ']'",
    ),
    (
        "syntax_unclosed_quote.yaml",
        ":5:1: YAML syntax error: while scanning a quoted scalar: found unexpected end of stream",
    ),
    (
        "top_level_list.yaml",
        ":1:1: the top level must be a mapping with 'name', 'models' and 'prompts', not a list",
    ),
    (
        "top_level_scalar.yaml",
        ":1:1: the top level must be a mapping with 'name', 'models' and 'prompts', not a string",
    ),
    ("two_documents.yaml", ":8:1: more than one YAML document ('---'); a catalog is one document"),
    (
        "two_sources.yaml",
        ":8:5: prompts.0: give exactly one of 'prompt', 'messages' or 'template' (got prompt, template)",
    ),
    (
        "unknown_key_far.yaml",
        ":8:5: prompts.0.colour: unknown key 'colour' (allowed: assert, context, few_shot, id, messages, metrics, prompt, reference, references, segment, system, tags, task, template, vars)",
    ),
    (
        "unknown_key_model.yaml",
        ":5:5: models.0.temperature: unknown key 'temperature' (allowed: api_base, api_key_env, id, model, params, price, system)",
    ),
    (
        "unknown_key_prompt.yaml",
        ":8:5: prompts.0.refrence: unknown key 'refrence' (did you mean 'reference'?)",
    ),
    ("unknown_key_top.yaml", ":2:1: modles: unknown key 'modles' (did you mean 'models'?)"),
    (
        "unknown_template.yaml",
        ":9:15: prompts.0.template: unknown template 'greeting' (templates: greet)",
    ),
    (
        "unused_template_var.yaml",
        ":12:7: prompts.0.vars.whom: not used by template 'greet' (it uses: who)",
    ),
    ("vars_without_template.yaml", ":6:5: prompts.0: 'vars' is only used with 'template'"),
    # A shorthand model (a string) beside an entry whose id is not a string: was a TypeError
    # (unhashable list) and an "internal error" instead of this line (found by test_fuzz).
    (
        "wrong_type_model_id_beside_shorthand.yaml",
        ":4:9: models.1.id: Input should be a valid string",
    ),
    ("wrong_type_prompts_mapping.yaml", ":6:3: prompts: Input should be a valid list"),
    ("wrong_type_reference.yaml", ":14:16: prompts.3.reference: Input should be a valid string"),
    ("wrong_type_stop.yaml", ":6:13: models.0.params.stop: Input should be a valid list"),
    ("wrong_type_tags.yaml", ":8:11: prompts.0.tags: Input should be a valid list"),
    (
        "wrong_type_temperature.yaml",
        ":6:20: models.0.params.temperature: Input should be a valid number, unable to parse string as a number",
    ),
    ("wrong_type_version.yaml", ":2:10: version: Input should be a valid string"),
]


def test_every_corpus_file_has_an_expected_message() -> None:
    listed = {name for name, _ in EXPECTED}
    on_disk = {p.name for p in CORPUS.iterdir()}
    assert on_disk == listed
    assert len(listed) >= 30


@pytest.mark.parametrize(("name", "expected"), EXPECTED, ids=[n for n, _ in EXPECTED])
def test_bad_catalog_message(name: str, expected: str) -> None:
    path = CORPUS / name
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}{expected}"
    assert "\n" not in str(info.value)
    # Structured fields agree with the text, for callers that show them separately.
    err = info.value
    assert err.path == str(path)
    assert expected.startswith(f":{err.line}:{err.col}: ")


def test_secret_never_echoed() -> None:
    for name in (
        "literal_api_key.yaml",
        "secret_in_prompt_text.yaml",
        "bad_jsonl_secret.jsonl",
        "secret_under_keyish_name.yaml",
        "key_shaped_token.yaml",
        "api_base_with_key.yaml",
        "secret_as_key.yaml",
        "bad_jsonl_secret_as_key.jsonl",
    ):
        with pytest.raises(CatalogError) as info:
            load_catalog(CORPUS / name)
        text = str(info.value)
        for secret in (
            "AbCdEfGhIjKlMnOp",
            "abcdefghijklmnop",
            "a8Fk29dkLq0pZx7Vb3nM5tYw",
            "hunter22",
        ):
            assert secret not in text


def test_file_over_50_mb_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = b"  - {id: p, prompt: " + b"x" * 1000 + b"}\n"
    with path.open("wb") as fh:
        fh.write(b"name: huge\nprompts:\n")
        while fh.tell() < 60 * 1024 * 1024:
            fh.write(line * 1000)
        fh.truncate(60 * 1024 * 1024)
    assert path.stat().st_size > MAX_CATALOG_BYTES
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == (
        f"{path}: file is 60.0 MB; catalogs are limited to 50 MB (split it, or use JSONL)"
    )


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, not a catalog file"


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "secret.yaml"
    path.write_text("name: x\n")
    path.chmod(0)
    with pytest.raises(CatalogError, match="permission denied"):
        load_catalog(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: bom\nprompts:\n  - {id: a, prompt: hi}\n")
    assert load_catalog(path).name == "bom"


def test_alias_bomb_costs_nothing() -> None:
    # Nine levels of nine-fold aliases would expand to ~387 million strings if constructed.
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    with pytest.raises(CatalogError, match="anchors"):
        load_catalog(CORPUS / "alias_bomb.yaml")
    assert time.process_time() - started < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024


@pytest.mark.parametrize("depth", [1_000, 200_000])
def test_extreme_nesting_is_an_error_not_a_crash(tmp_path: Path, depth: int) -> None:
    # The C composer would recurse (and segfault) at this depth; the event reader does not.
    yaml_path = tmp_path / "deep.yaml"
    yaml_path.write_text("name: x\nprompts: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(yaml_path)
    assert (
        str(info.value) == f"{yaml_path}:2:73: prompts.0.0.0.0.0.…: nesting deeper than 64 levels"
    )
    jsonl_path = tmp_path / "deep.jsonl"
    jsonl_path.write_text(
        '{"id": "a", "prompt": "hi", "metrics": ' + "[" * depth + "]" * depth + "}\n"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(jsonl_path)
    assert str(info.value) == f"{jsonl_path}:1:1: nesting deeper than 64 levels"


def test_guarded_prints_one_line_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "wrong_type_reference.yaml"
    assert guarded(lambda: (load_catalog(path), 0)[1]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err == f"genaicompare: {path}:14:16: prompts.3.reference: Input should be a valid string\n"
    )


# Each run is a fresh interpreter (a few seconds here); three shapes of failure are enough:
# a refused construct, a decode error, a JSONL syntax error.
CLI_CASES = ["python_object_tag.yaml", "latin1.yaml", "bad_jsonl_syntax.jsonl"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_real_cli_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    path = CORPUS / name
    expected = dict(EXPECTED)[name]
    proc = subprocess.run(
        [sys.executable, "-m", "genaicompare", "run", str(path), "--db", str(tmp_path / "gc.db")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GENAICOMPARE_HOME": str(tmp_path)},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"genaicompare: {path}{expected}\n"
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "cache" / "crashes").exists()  # no internal error was logged


SYNTAX = {
    "syntax_bad_indent.yaml",
    "syntax_colon_in_plain.yaml",
    "syntax_tab_indent.yaml",
    "syntax_unclosed_flow.yaml",
}


def test_pure_python_parser_gives_the_same_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the optional C parser the loader falls back to ruamel's pure one. Everything but
    # the wording of YAML syntax errors (each parser words its own) must come out identical.
    monkeypatch.setitem(sys.modules, "_ruamel_yaml_clibz", None)
    for name, expected in EXPECTED:
        if not name.endswith(".yaml") or name in SYNTAX:
            continue
        with pytest.raises(CatalogError) as info:
            load_catalog(CORPUS / name)
        assert str(info.value) == f"{CORPUS / name}{expected}", name
    for name in SYNTAX:
        with pytest.raises(CatalogError) as info:
            load_catalog(CORPUS / name)
        assert str(info.value).startswith(
            f"{CORPUS / name}{dict(EXPECTED)[name].split(' error: ')[0]}"
        )
