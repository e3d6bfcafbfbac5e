"""promptfoo configs: golden imports, one test per refused feature (file:line:col and field),
and import → export → import changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.catalog import load_catalog
from genaicompare.interop.promptfoo import (
    MESSAGES_PROMPT,
    export_config,
    import_config,
    map_provider,
)
from genaicompare.interop.writing import dump_yaml

from ._support import DATA, dump, golden, lines, written

CONFIG = DATA / "promptfoo" / "promptfooconfig.yaml"
CHAT = DATA / "promptfoo" / "chatconfig.yaml"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (CONFIG, "promptfoo/promptfooconfig.expected.yaml"),
        (CHAT, "promptfoo/chatconfig.expected.yaml"),
    ],
)
def test_import_matches_the_golden_catalog(source: Path, expected: str, tmp_path: Path) -> None:
    catalog = written(import_config(source).catalog, tmp_path)
    assert dump(catalog) == dump(golden(expected))


def test_what_maps_is_mapped() -> None:
    catalog = import_config(CONFIG).catalog
    by_id = {p["id"]: p for p in catalog["prompts"]}
    assert [m["model"] for m in catalog["models"]] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-3-5-haiku-latest",
    ]
    assert catalog["models"][1]["params"] == {"temperature": 0, "max_tokens": 256}
    # defaultTest's latency goes to every prompt; similar's value becomes the reference.
    assert by_id["hello-fr"]["assert"] == {
        "latency_ms": "<= 5000",
        "icontains": "bonjour",
        "similarity": ">= 0.8",
    }
    assert by_id["hello-fr"]["reference"] == "Bonjour le monde"
    # A list-valued var runs the test once per value, as promptfoo does.
    assert [by_id[i]["vars"]["language"] for i in ("colors", "colors-2")] == ["German", "Spanish"]
    assert by_id["colors"]["assert"]["regex"] == "(?s)rot|rojo"
    assert by_id["colors"]["assert"]["cost_usd"] == "<= 0.002"
    # CSV tests: vars and an __expected column.
    assert by_id["test-3"]["vars"] == {"language": "Italian", "text": "Good night"}
    assert by_id["test-3"]["assert"]["icontains"] == "buona notte"


def test_chat_file_and_reference_metrics() -> None:
    catalog = import_config(CHAT).catalog
    (prompt,) = catalog["prompts"]
    assert prompt["messages"] == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my order?"},
    ]
    # promptfoo's BLEU is 0-1, ours 0-100 (sacrebleu's scale); rouge-n is ROUGE-1.
    assert prompt["assert"] == {"regex": "^Sorry", "rouge1": ">= 0.75", "bleu": ">= 30"}
    assert prompt["reference"] == "Your order ships tomorrow."


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (
            CONFIG,
            "promptfooconfig.yaml:12:5: providers.2: not imported: provider 'exec:python run.py'",
        ),
        (
            CONFIG,
            "promptfooconfig.yaml:28:9: tests.0.assert.2: not imported: assertion type javascript",
        ),
        (CONFIG, "tests.csv:3:17: row 3.assert.0: not imported: assertion type python"),
        (CHAT, "chatconfig.yaml:17:9: tests.0.assert.3: not imported: levenshtein"),
        (CHAT, "chatconfig.yaml:19:9: tests.0.assert.4: not imported: llm-rubric: the rubric text"),
        (CHAT, "chatconfig.yaml:21:9: tests.0.assert.5: not imported: assertion type webhook"),
    ],
)
def test_each_refused_feature_is_listed_with_its_position(source: Path, line: str) -> None:
    found = lines(import_config(source).report)
    assert any(line in item for item in found), found


def test_nothing_else_is_listed() -> None:
    assert len(import_config(CONFIG).report.not_mapped) == 3
    assert len(import_config(CHAT).report.not_mapped) == 3


def test_nunjucks_beyond_plain_variables_is_refused_with_position(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts:\n  - 'Hi {{ name | upper }}'\n  - 'Hello {{name}}'\n"
        "providers: ['openai:gpt-4o-mini']\ntests:\n  - vars: {name: Ann, extra: 1}\n"
    )
    imported = import_config(config)
    found = lines(imported.report)
    assert f"{config}:2:5: prompts.0: not imported: Nunjucks" in found[0]
    assert f"{config}:6:30: tests.0.vars.extra: not imported: used by no prompt" in found
    assert [p.get("vars") for p in imported.catalog["prompts"]] == [{"name": "Ann"}]


def test_llm_rubric_with_a_grader_enables_the_judge(tmp_path: Path) -> None:
    config = tmp_path / "promptfooconfig.yaml"
    config.write_text(
        "prompts: ['Q: {{q}}']\nproviders: ['openai:gpt-4o-mini']\n"
        "defaultTest:\n  options:\n    provider: openai:gpt-4o\n"
        "tests:\n  - vars: {q: hi}\n    assert:\n      - type: llm-rubric\n        value: polite\n"
    )
    imported = import_config(config)
    assert imported.catalog["judge"] == {"model": "openai/gpt-4o", "mode": "score"}
    assert "judged by openai/gpt-4o" in lines(imported.report)[0]


@pytest.mark.parametrize(
    ("pid", "model"),
    [
        ("openai:gpt-4o-mini", "openai/gpt-4o-mini"),
        ("openai:chat:gpt-4o", "openai/gpt-4o"),
        ("anthropic:messages:claude-3-5-sonnet-latest", "anthropic/claude-3-5-sonnet-latest"),
        ("ollama:chat:llama3", "ollama_chat/llama3"),
        ("google:gemini-1.5-flash", "gemini/gemini-1.5-flash"),
        ("exec:./run.sh", None),
        ("file://provider.py", None),
        ("echo", None),
    ],
)
def test_provider_mapping(pid: str, model: str | None) -> None:
    assert map_provider(pid) == model


@pytest.mark.parametrize("source", [CONFIG, CHAT])
def test_round_trip_import_export_import_changes_nothing(source: Path, tmp_path: Path) -> None:
    first = written(import_config(source).catalog, tmp_path, "first.yaml")
    config, _missing = export_config(first)
    exported = tmp_path / "promptfooconfig.yaml"
    exported.write_text(dump_yaml(config))
    second = written(import_config(exported).catalog, tmp_path, "second.yaml")
    assert dump(second) == dump(first)


def test_export_of_a_catalog_without_one_template_sends_the_rendered_messages(
    tmp_path: Path,
) -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[3] / "sample_catalogs" / "qa.yaml")
    config, missing = export_config(catalog)
    assert config["prompts"] == [{"label": "messages", "raw": MESSAGES_PROMPT}]
    first = catalog.prompts[0]
    assert config["tests"][0]["vars"]["__messages"] == catalog.render(first).messages
    # local/smollm2 has no promptfoo provider: listed, not dropped.
    assert any("no promptfoo provider" in m for m in missing) or config["providers"]
    exported = tmp_path / "promptfooconfig.yaml"
    exported.write_text(dump_yaml(config))
    again = written(import_config(exported).catalog, tmp_path)
    assert [again.render(p).messages for p in again.prompts] == [
        catalog.render(p).messages for p in catalog.prompts
    ]
    assert [p.reference for p in again.prompts] == [p.reference for p in catalog.prompts]


def test_a_promptfoo_config_given_to_the_tui_is_imported_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from genaicompare.commands.import_ import import_for_tui, recognised

    assert recognised(CONFIG) == "promptfoo"
    assert recognised(DATA.parents[2] / "sample_catalogs" / "qa.yaml") is None
    out = import_for_tui(str(CONFIG))
    assert load_catalog(out).name == "Translation bot"
    err = capsys.readouterr().err
    assert "tests.0.assert.2: not imported: assertion type javascript" in err
    assert f"opening {out}" in err
