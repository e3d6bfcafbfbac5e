"""Good catalogs: what loads, how prompts render, what the template hash covers, ``-m`` models."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from genaicompare.catalog import (
    Catalog,
    CatalogError,
    ModelSpec,
    Prompt,
    content_hash,
    fill_template,
    load_catalog,
    with_models,
)

SAMPLES = Path(__file__).resolve().parents[3] / "sample_catalogs"

FULL = """\
name: full
version: 3
description: Every field once.
models:
  - id: terse
    model: local/smollm2
    params: {temperature: 0.2, max_tokens: 96, seed: 42, top_p: 0.9, stop: ["\\n\\n"]}
    system: Answer in as few words as possible.
  - id: plain
    model: local/smollm2
  - id: remote
    model: openai/llama-3
    api_base: http://127.0.0.1:8000/v1
    api_key_env: LOCAL_SERVER_KEY
    price: {input_per_mtok: 0.1, output_per_mtok: 0.2}
defaults:
  system: You are a helpful assistant.
  params: {max_tokens: 64, temperature: 0.7}
  metrics: [rougeL, similarity]
templates:
  capital: "What is the capital of {{ country }}? Reply with the city name only."
  grounded: "{{context}}\\n\\nUsing only the text above, answer: {{question}}"
judge:
  model: local/smollm2
  mode: pairwise
prompts:
  - id: fr
    template: capital
    vars: {country: France}
    reference: Paris
    tags: [geo, easy]
    segment: europe
    task: qa
    assert: {contains: Paris, rougeL: ">= 0.2", latency_ms: "< 20000"}
  - id: sum
    prompt: "Summarize: the cat sat on the mat."
    system: You summarize.
    few_shot:
      - {user: "Summarize: dogs bark.", assistant: Dogs bark.}
    task: summarization
  - id: chat
    messages:
      - {role: system, content: Be a pirate.}
      - {role: user, content: Hello}
  - id: rag
    prompt: When was the bridge opened?
    context:
      - The bridge opened in 1932.
      - It is 1,149 metres long.
    reference: "1932"
  - id: rag-template
    template: grounded
    vars: {question: "How long is it?"}
    context: It is 1,149 metres long.
  - id: 7
    prompt: "no"
    system: ""
"""


@pytest.fixture
def full(tmp_path: Path) -> Catalog:
    path = tmp_path / "full.yaml"
    path.write_text(FULL, encoding="utf-8")
    return load_catalog(path)


def test_fields_load(full: Catalog) -> None:
    assert full.version == "3"
    assert [m.id for m in full.models] == ["terse", "plain", "remote"]
    assert full.models[2].price is not None and full.models[2].price.output_per_mtok == 0.2
    assert full.defaults.metrics == ["rougeL", "similarity"]
    assert full.judge is not None and full.judge.mode == "pairwise"
    fr = full.prompt("fr")
    assert fr.assert_ == {"contains": "Paris", "rougeL": ">= 0.2", "latency_ms": "< 20000"}
    assert fr.segment == "europe" and fr.task is not None and fr.task.value == "qa"
    assert full.prompt("7").prompt == "no"  # YAML 1.2: a quoted or plain `no` is text
    assert full.prompt("rag").context_passages == [
        "The bridge opened in 1932.",
        "It is 1,149 metres long.",
    ]


def test_params_merge_model_over_defaults(full: Catalog) -> None:
    assert full.params_for(full.model_spec("terse")) == {
        "temperature": 0.2,
        "max_tokens": 96,
        "seed": 42,
        "top_p": 0.9,
        "stop": ["\n\n"],
    }
    assert full.params_for(full.model_spec("plain")) == {"max_tokens": 64, "temperature": 0.7}


def test_system_precedence_prompt_over_model_over_defaults(full: Catalog) -> None:
    terse, plain = full.model_spec("terse"), full.model_spec("plain")
    fr, sum_ = full.prompt("fr"), full.prompt("sum")
    assert full.render(sum_, terse).messages[0] == {"role": "system", "content": "You summarize."}
    assert full.render(fr, terse).messages[0]["content"] == "Answer in as few words as possible."
    assert full.render(fr, plain).messages[0]["content"] == "You are a helpful assistant."
    # An empty prompt-level system switches the system prompt off entirely.
    assert [m["role"] for m in full.render(full.prompt("7"), terse).messages] == ["user"]


def test_render_template_and_few_shot(full: Catalog) -> None:
    plain = full.model_spec("plain")
    assert full.render(full.prompt("fr"), plain).messages == [
        {"role": "system", "content": "You are a helpful assistant."},
        {
            "role": "user",
            "content": "What is the capital of France? Reply with the city name only.",
        },
    ]
    rendered = full.render(full.prompt("sum"), plain)
    assert rendered.messages == [
        {"role": "system", "content": "You summarize."},
        {"role": "user", "content": "Summarize: dogs bark."},
        {"role": "assistant", "content": "Dogs bark."},
        {"role": "user", "content": "Summarize: the cat sat on the mat."},
    ]
    assert rendered.user_text == "Summarize: the cat sat on the mat."


def test_render_messages_keep_their_own_system(full: Catalog) -> None:
    msgs = full.render(full.prompt("chat"), full.model_spec("terse")).messages
    assert msgs == [
        {"role": "system", "content": "Be a pirate."},
        {"role": "user", "content": "Hello"},
    ]


def test_render_context(full: Catalog) -> None:
    plain = full.model_spec("plain")
    user = full.render(full.prompt("rag"), plain).user_text
    assert user == (
        "Answer using the context below.\n\nContext:\n[1] The bridge opened in 1932.\n\n"
        "[2] It is 1,149 metres long.\n\nQuestion: When was the bridge opened?"
    )
    # A template that places {{context}} itself gets the passages there, and no extra block.
    user = full.render(full.prompt("rag-template"), plain).user_text
    assert user == "It is 1,149 metres long.\n\nUsing only the text above, answer: How long is it?"


def test_template_hash_is_stable_and_covers_what_is_asked(full: Catalog, tmp_path: Path) -> None:
    plain, terse = full.model_spec("plain"), full.model_spec("terse")
    fr = full.prompt("fr")
    h = full.render(fr, plain).template_hash
    # Pinned: a change to what the hash covers must be deliberate (stored hashes depend on it).
    assert h == content_hash(
        {
            "template": "What is the capital of {{ country }}? Reply with the city name only.",
            "messages": [],
            "vars": {"country": "France"},
            "system": "You are a helpful assistant.",
            "few_shot": [],
            "context": [],
        }
    )
    assert len(h) == 32
    # Same inputs in another load, another process order: same hash.
    again = tmp_path / "again.yaml"
    again.write_text(FULL, encoding="utf-8")
    assert load_catalog(again).render(load_catalog(again).prompt("fr"), plain).template_hash == h
    # A different system prompt (the other variant) is a different question.
    assert full.render(fr, terse).template_hash != h
    # Sampling params are not part of the template hash.
    hotter = ModelSpec(id="hot", model="local/smollm2", params={"temperature": 1.5})
    assert full.render(fr, hotter).template_hash == h
    # Vars, few-shot and context all count.
    changed = fr.model_copy(update={"vars": {"country": "Spain"}})
    assert full.render(changed, plain).template_hash != h
    sum_ = full.prompt("sum")
    assert (
        full.render(sum_.model_copy(update={"few_shot": []}), plain).template_hash
        != full.render(sum_, plain).template_hash
    )
    rag = full.prompt("rag")
    assert (
        full.render(rag.model_copy(update={"context": None}), plain).template_hash
        != full.render(rag, plain).template_hash
    )


def test_content_hash_is_key_order_independent() -> None:
    assert content_hash({"a": 1, "b": [1, "é"]}) == content_hash({"b": [1, "é"], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": "1"})


def test_fill_template_does_not_reexpand() -> None:
    assert fill_template("{{a}} and {{ b }}", {"a": "{{b}}", "b": 2}) == "{{b}} and 2"


def test_yaml_12_scalars(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nversion: 1.5\nprompts:\n  - id: a\n    template: t\n"
        "    vars: {n: 0x1F, o: 0o17, f: 1e3, b: true, y: yes, s: on, t: '12'}\n"
        "templates:\n  t: '{{n}} {{o}} {{f}} {{b}} {{y}} {{s}} {{t}}'\n",
        encoding="utf-8",
    )
    cat = load_catalog(path)
    assert cat.version == "1.5"
    assert cat.prompts[0].vars == {
        "n": 31,
        "o": 15,
        "f": 1000.0,
        "b": True,
        "y": "yes",
        "s": "on",
        "t": "12",
    }


def test_model_string_shorthand(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\nmodels: [openai/gpt-4o-mini, anthropic/claude-3-5-haiku-latest, "
        "{id: gpt-4o-mini, model: local/smollm2}]\nprompts: [{id: a, prompt: hi}]\n",
        encoding="utf-8",
    )
    cat = load_catalog(path)
    assert [(m.id, m.model) for m in cat.models] == [
        ("gpt-4o-mini-2", "openai/gpt-4o-mini"),
        ("claude-3-5-haiku-latest", "anthropic/claude-3-5-haiku-latest"),
        ("gpt-4o-mini", "local/smollm2"),
    ]


def test_with_models_adds_replaces_and_deduplicates(full: Catalog) -> None:
    added = with_models(
        full,
        ["openai/gpt-4o-mini", "ollama/llama3", "openai/gpt-4o-mini", "fast=groq/llama3"],
        replace=False,
    )
    assert [(m.id, m.model) for m in added.models][3:] == [
        ("gpt-4o-mini", "openai/gpt-4o-mini"),
        ("llama3", "ollama/llama3"),
        ("fast", "groq/llama3"),
    ]
    assert [m.id for m in full.models] == ["terse", "plain", "remote"]  # original untouched
    replaced = with_models(full, ["ollama/llama3", "openai/llama3"], replace=True)
    assert [(m.id, m.model) for m in replaced.models] == [
        ("llama3", "ollama/llama3"),
        ("llama3-2", "openai/llama3"),
    ]
    # Alias collision with a catalog model gets a suffix; an explicit alias collision is an error.
    assert with_models(full, ["x/plain"], replace=False).models[-1].id == "plain-2"
    with pytest.raises(CatalogError, match="already used"):
        with_models(full, ["plain=openai/gpt-4o-mini"], replace=False)
    with pytest.raises(CatalogError) as info:
        with_models(full, ["open ai/gpt"], replace=False)
    assert str(info.value) == "-m: 'open ai/gpt' is not a model string (e.g. openai/gpt-4o-mini)"


def test_jsonl_with_header(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    header = {
        "name": "jl",
        "version": "2",
        "models": [{"id": "a", "model": "local/smollm2"}],
        "templates": {"t": "Capital of {{c}}?"},
    }
    rows = [
        {"id": "p1", "prompt": "hi", "reference": "hello"},
        {"id": "p2", "template": "t", "vars": {"c": "Peru"}, "tags": ["geo"]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in [header, *rows]) + "\n\n", encoding="utf-8")
    cat = load_catalog(path)
    assert (cat.name, cat.version, [p.id for p in cat.prompts]) == ("jl", "2", ["p1", "p2"])
    assert cat.render(cat.prompts[1]).user_text == "Capital of Peru?"


def test_jsonl_without_header_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "evalset.jsonl"
    path.write_text('{"id": "a", "prompt": "hi"}\n', encoding="utf-8")
    cat = load_catalog(path)
    assert cat.name == "evalset" and cat.models == []


def test_jsonl_error_points_at_the_value(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"name": "e"}\n\n{"id": "a", "prompt": "hi", "reference": ["x"]}\n', encoding="utf-8"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}:3:42: prompts.0.reference: Input should be a valid string"


def test_direct_construction_still_validates_cross_references() -> None:
    with pytest.raises(ValueError, match="duplicate prompt id 'a'"):
        Catalog(name="x", prompts=[Prompt(id="a", prompt="1"), Prompt(id="a", prompt="2")])


def test_several_problems_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: x\nprompts:\n  - {id: a, prompt: hi, colour: red}\n"
        "  - {id: b, prompt: [x]}\n  - {id: c}\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == (
        f"{path}:3:25: prompts.0.colour: unknown key 'colour' (allowed: assert, context, "
        "few_shot, id, messages, metrics, prompt, reference, references, segment, system, tags, task, "
        "template, vars) (and 2 more problems)"
    )


def test_api_key_env_is_fine_and_prose_about_keys_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text(
        "name: k\nmodels:\n  - {id: a, model: openai/gpt-4o-mini, api_key_env: OPENAI_API_KEY}\n"
        "prompts:\n  - id: a\n    prompt: What is the key idea of a token bucket? Mention the secret.\n"
        "    vars: {}\n",
        encoding="utf-8",
    )
    assert load_catalog(path).models[0].api_key_env == "OPENAI_API_KEY"


SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".yaml", ".jsonl"))


def test_there_are_samples() -> None:
    names = {p.name for p in SAMPLE_FILES}
    for expected in (
        "quickstart.yaml",
        "summarization.yaml",
        "qa.yaml",
        "extraction.yaml",
        "classification.yaml",
        "generation.yaml",
        "safety.yaml",
        "model_switch.yaml",
    ):
        assert expected in names
    assert any(p.suffix == ".jsonl" for p in SAMPLE_FILES)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_sample_catalog_loads_and_renders(path: Path) -> None:
    cat = load_catalog(path)
    assert cat.models, "every sample names its models"
    assert len(cat.prompts) >= 5
    for prompt in cat.prompts:
        for model in cat.models:
            rendered = cat.render(prompt, model)
            assert rendered.user_text.strip()
            assert "{{" not in rendered.user_text


def test_quickstart_compares_two_local_variants() -> None:
    cat = load_catalog(SAMPLES / "quickstart.yaml")
    assert [m.model for m in cat.models] == ["local/smollm2", "local/smollm2"]
    a, b = cat.models
    assert cat.params_for(a)["temperature"] != cat.params_for(b)["temperature"]
    assert a.system != b.system
    assert all(p.reference for p in cat.prompts)
    assert 8 <= len(cat.prompts) <= 14


def test_pure_python_parser_reads_samples_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = {p.name: load_catalog(p) for p in SAMPLE_FILES if p.suffix == ".yaml"}
    monkeypatch.setitem(sys.modules, "_ruamel_yaml_clibz", None)
    for name, catalog in fast.items():
        assert load_catalog(SAMPLES / name) == catalog, name


def _big_yaml(path: Path, n: int, extra: str = "") -> None:
    rows = "".join(
        f'  - id: q{i}\n    prompt: "Question number {i}: what is the capital of country {i}?"\n'
        f"    reference: City {i}\n    tags: [geo, batch-{i % 9}]\n"
        for i in range(n)
    )
    path.write_text(
        f"name: big\nmodels: [local/smollm2]\n{extra}prompts:\n{rows}", encoding="utf-8"
    )


def test_large_yaml_is_cached_by_content(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import genaicompare.catalog.cache as cache
    import genaicompare.catalog.loader as loader

    path = tmp_path / "big.yaml"
    _big_yaml(path, 9000)
    assert path.stat().st_size >= cache.CACHE_MIN_CHARS
    first = load_catalog(path)
    entries = list((isolated_home / "cache" / "catalogs").glob("*.json"))
    assert len(entries) == 1

    def no_yaml(*args: object, **kwargs: object) -> None:
        raise AssertionError("YAML was parsed although the cache holds this content")

    with monkeypatch.context() as m:
        m.setattr(loader, "_yaml_data", no_yaml)
        assert load_catalog(path) == first
    # Other bytes, other key: an edited file is read afresh, never served stale.
    _big_yaml(path, 9000, extra="version: '2'\n")
    assert load_catalog(path).version == "2"
    assert len(list((isolated_home / "cache" / "catalogs").glob("*.json"))) == 2
    # A damaged entry is ignored and rewritten.
    for entry in (isolated_home / "cache" / "catalogs").glob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    assert load_catalog(path).version == "2"
    # Errors are never cached: a bad large file fails every time, with its position.
    _big_yaml(path, 9000, extra="colour: red\n")
    for _ in range(2):
        with pytest.raises(CatalogError, match=r"big\.yaml:3:1: colour: unknown key 'colour'"):
            load_catalog(path)


def test_jsonl_fast_path_equals_line_by_line_reader(tmp_path: Path) -> None:
    import genaicompare.catalog.jsonl_reader as jsonl_reader

    for path in [SAMPLES / "capitals.jsonl"]:
        text = path.read_text(encoding="utf-8")
        assert jsonl_reader._jsonl_fast(text, path) == jsonl_reader._jsonl_data(text, path)[0]
    headerless = tmp_path / "h.jsonl"
    headerless.write_text('{"id": 1, "prompt": "x"}\n\n{"id": "b", "prompt": "a key idea"}\n')
    text = headerless.read_text()
    assert (
        jsonl_reader._jsonl_fast(text, headerless) == jsonl_reader._jsonl_data(text, headerless)[0]
    )
    # Two values on one line must not slip through the one-call reader.
    two = tmp_path / "two.jsonl"
    two.write_text('{"id": "a", "prompt": "x"}, {"id": "b", "prompt": "y"}\n')
    assert jsonl_reader._jsonl_fast(two.read_text(), two) is None
    with pytest.raises(CatalogError, match=r"two\.jsonl:1:27: invalid JSON: Extra data"):
        load_catalog(two)


@pytest.mark.parametrize("pure", [False, True], ids=["c-parser", "pure-parser"])
def test_unicode_line_separators_are_text_not_line_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pure: bool
) -> None:
    # YAML 1.1 parsers read NEL/LS/PS as line breaks (folding quoted text, shifting line numbers);
    # the catalog reads them as YAML 1.2 and editors do: ordinary characters.
    if pure:
        import builtins

        real_import = builtins.__import__

        def no_c_parser(name: str, *args: Any, **kwargs: Any) -> Any:
            if name == "_ruamel_yaml_clibz":
                raise ImportError(name)
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_c_parser)
    path = tmp_path / "ls.yaml"
    stand_in = "\ue000"  # a private-use character already in the text must survive too
    path.write_text(
        "name: t\n"
        "models: [{id: a, model: openai/x}, {id: b, model: openai/y}]\n"
        "prompts:\n"
        f'  - id: p\n    prompt: "one \u2028 two  \u2029 three\x85x {stand_in}"\n'
        "    reference: plain \u2028 scalar\n"
        "    tags: ['a\u2028b']\n",
        encoding="utf-8",
    )
    prompt = load_catalog(path).prompts[0]
    assert prompt.prompt == f"one \u2028 two  \u2029 three\x85x {stand_in}"
    assert prompt.reference == "plain \u2028 scalar"
    assert prompt.tags == ["a\u2028b"]
    path.write_text(
        path.read_text(encoding="utf-8") + '  - id: q\n    prompt: "x\u2028y"\n    bogus: 1\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert (info.value.line, info.value.col, info.value.field) == (10, 5, "prompts.1.bogus")


def test_prompt_lookup_by_id_follows_the_prompt_list() -> None:
    catalog = load_catalog(SAMPLES / "quickstart.yaml")
    first, second = catalog.prompts[0], catalog.prompts[1]
    assert catalog.prompt(second.id) is second
    with pytest.raises(KeyError):
        catalog.prompt("no-such-prompt")
    # A copy with other prompts must not answer from the original's index.
    copy = catalog.model_copy(update={"prompts": [first]})
    assert copy.prompt(first.id) is first
    with pytest.raises(KeyError):
        copy.prompt(second.id)
