"""One rule for text in YAML and JSONL catalogs: any character but NUL, however it is written;
lone surrogates are not text. Escaped controls that hostile-output tests rely on still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.catalog import CatalogError, load_catalog


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", 'name: c\nprompts:\n  - id: p1\n    prompt: "a \\x00 b"\n'),
        ("c.yaml", 'name: c\nprompts:\n  - id: p1\n    vars: {"k\\0": 1}\n    prompt: x\n'),
        ("c.jsonl", '{"id": "p1", "prompt": "a \\u0000 b"}\n'),
        ("c.jsonl", '{"id": "p1", "prompt": "x", "vars": {"k\\u0000": "v"}}\n'),
    ],
)
def test_nul_is_refused_in_both_formats_with_one_message(
    tmp_path: Path, name: str, text: str
) -> None:
    with pytest.raises(CatalogError) as err:
        load_catalog(_write(tmp_path, name, text))
    assert err.value.message == "character '\\x00' (U+0000) is not allowed in a catalog"
    assert err.value.line is not None and err.value.col is not None


def test_escaped_controls_and_surrogate_pairs_still_load(tmp_path: Path) -> None:
    yaml = load_catalog(
        _write(tmp_path, "c.yaml", 'name: c\nprompts:\n  - id: p1\n    prompt: "\\e[2J \\x07"\n')
    )
    assert yaml.prompts[0].prompt == "\x1b[2J \x07"
    jsonl = load_catalog(
        _write(
            tmp_path, "c.jsonl", '{"id": "p1", "prompt": "\\u001b[2J \\ud83d\\ude00 \\\\u0000"}\n'
        )
    )
    assert jsonl.prompts[0].prompt == "\x1b[2J \U0001f600 \\u0000"


def test_a_long_integer_is_positioned_in_both_formats(tmp_path: Path) -> None:
    digits = "1" * 4400
    for name, text in (
        ("c.yaml", f"name: c\nprompts:\n  - id: p1\n    prompt: x\n    vars: {{n: {digits}}}\n"),
        ("c.jsonl", '{"id": "p1", "prompt": "x", "vars": {"n": ' + digits + "}}\n"),
    ):
        with pytest.raises(CatalogError, match="a number with 4400 digits is too long") as err:
            load_catalog(_write(tmp_path, name, text))
        assert err.value.line == (5 if name == "c.yaml" else 1)
        assert err.value.col is not None and err.value.col > 1


def test_assert_errors_are_positioned_when_a_checker_is_given(tmp_path: Path) -> None:
    from genaicompare.metrics import is_known_metric, parse_assertions

    path = _write(
        tmp_path,
        "c.yaml",
        "name: c\nprompts:\n  - id: ok\n    prompt: x\n  - id: p2\n    prompt: y\n"
        "    assert: {contains: y, rougeL: 'about 0.3'}\n",
    )
    load_catalog(path)  # without a checker the grammar is not the catalog's business
    with pytest.raises(CatalogError) as err:
        load_catalog(path, check_assert=lambda spec: parse_assertions(spec, is_known_metric))
    assert str(err.value).startswith(
        f"{path}:7:35: prompts.1.assert.rougeL: cannot read 'about 0.3'; write an operator"
    )
