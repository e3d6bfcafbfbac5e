"""OpenAI evals samples JSONL → catalog: chat input, one or several ideals, the rest listed."""

from __future__ import annotations

from pathlib import Path

from genaicompare.interop.openai_evals import import_samples

from ._support import DATA, dump, golden, lines, written

SAMPLES = DATA / "openai_evals" / "samples.jsonl"


def test_import_matches_the_golden_catalog(tmp_path: Path) -> None:
    catalog = written(import_samples(SAMPLES).catalog, tmp_path)
    assert dump(catalog) == dump(golden("openai_evals/samples.expected.yaml"))


def test_chat_input_and_several_ideals(tmp_path: Path) -> None:
    catalog = written(import_samples(SAMPLES).catalog, tmp_path)
    first, second, third = catalog.prompts
    assert [m.role for m in first.messages or []] == ["system", "user"]
    assert first.reference == "Paris" and not first.references
    assert second.reference == "Jupiter" and second.references == ["Jupiter", "jupiter"]
    assert third.prompt == "2 + 2 ="


def test_unknown_keys_and_unusable_messages_are_listed_with_positions() -> None:
    found = lines(import_samples(SAMPLES).report)
    assert found == [
        f"{SAMPLES}:3:36: metadata: not imported: not a catalog field",
        f"{SAMPLES}:4:2: line 4.input.0: not imported: message role 'tool' or non-text content",
    ]
