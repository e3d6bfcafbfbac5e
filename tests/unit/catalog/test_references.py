"""A prompt's ``references``: every acceptable answer, in YAML and JSONL, with positioned errors,
kept by the store's prompt body and by the rated export's catalog line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.catalog import CatalogError, Prompt, load_catalog
from genaicompare.catalog.rated import catalog_line

HEAD = "name: refs\nmodels: [openai/x]\nprompts:\n"


def _yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return str(info.value).removeprefix(str(path))


def test_yaml_references_load_and_fill_reference(tmp_path: Path) -> None:
    cat = load_catalog(
        _yaml(
            tmp_path,
            "  - {id: a, prompt: 'Capital of France?', references: [Paris, City of Paris, 75]}\n"
            "  - {id: b, prompt: two, reference: '2'}\n"
            "  - {id: c, prompt: three, reference: '3', references: ['3', three]}\n"
            "  - {id: d, prompt: none}\n",
        )
    )
    a, b, c, d = cat.prompts
    assert a.references == ["Paris", "City of Paris", "75"] and a.reference == "Paris"
    assert a.all_references == ["Paris", "City of Paris", "75"]
    assert b.references is None and b.all_references == ["2"]
    assert c.all_references == ["3", "three"] and c.reference == "3"
    assert d.all_references == [] and d.reference is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  - id: a\n    prompt: q\n    references: Paris\n",
            ":6:17: prompts.0.references: must be a list of answers, e.g. [Paris, City of Paris] "
            "(for one answer use 'reference')",
        ),
        (
            "  - id: a\n    prompt: q\n    references: []\n",
            ":6:17: prompts.0.references: must list at least one answer (or leave 'references' out)",
        ),
        (
            "  - id: a\n    prompt: q\n    references: [Paris, {x: 1}]\n",
            ":6:25: prompts.0.references.1: Input should be a valid string",
        ),
        (
            "  - id: a\n    prompt: q\n    reference: Lyon\n    references: [Paris, Lyon]\n",
            ":7:17: prompts.0.references: 'reference' ('Lyon') must be the first of 'references' "
            "when both are given; give 'references' alone",
        ),
    ],
)
def test_yaml_bad_references_are_positioned(tmp_path: Path, body: str, expected: str) -> None:
    assert _error(_yaml(tmp_path, body)) == expected


def test_jsonl_references_load_and_bad_ones_are_positioned(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps({"id": "a", "prompt": "q", "references": ["x", "y"]}) + "\n", encoding="utf-8"
    )
    assert load_catalog(good).prompts[0].all_references == ["x", "y"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"id": "a", "prompt": "q", "reference": "x"})
        + "\n"
        + json.dumps({"id": "b", "prompt": "q", "references": "x"})
        + "\n",
        encoding="utf-8",
    )
    assert _error(bad) == (
        ":2:42: prompts.1.references: must be a list of answers, e.g. [Paris, City of Paris] "
        "(for one answer use 'reference')"
    )


def test_the_stored_body_and_the_rated_line_reload_the_same_references() -> None:
    prompt = Prompt(id="a", prompt="q", references=["Paris", "City of Paris"])
    # the store keeps this dump as the prompt's body; the rated export writes it back as a line
    body = prompt.model_dump(mode="json", by_alias=True, exclude_none=True)
    line = catalog_line(body, [{"role": "user", "content": "q"}])
    again = Prompt.model_validate(json.loads(json.dumps(line)))
    assert again == prompt and again.all_references == ["Paris", "City of Paris"]
