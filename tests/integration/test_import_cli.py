"""``genaicompare import`` and the interop ``export`` formats through the real CLI (subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.headless import responses, run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "interop"


def test_promptfoo_import_lists_what_did_not_map_and_writes_a_catalog_that_opens(
    tmp_path: Path,
) -> None:
    out = tmp_path / "translation.yaml"
    source = DATA / "promptfoo" / "promptfooconfig.yaml"
    result = run_cli(["import", "promptfoo", str(source), "-o", str(out)], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    err = result.stderr.splitlines()
    assert f"{source}:28:9: tests.0.assert.2: not imported: assertion type javascript" in err
    assert any(
        line.endswith("tests.csv:3:17: row 3.assert.0: not imported: assertion type python")
        for line in err
    )
    assert "imported 1 templates, 2 models, 12 assertions, 5 prompts; 3 item(s) not imported" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    # The catalog is genaicompare's own: `run` reads it (and stops at the missing key, exit 2,
    # not at the file).
    listed = run_cli(["plan", str(out), "--delta", "0.1"], tmp_path / "home")
    assert listed.returncode == 0, listed.stderr


def test_a_broken_file_is_one_line_with_its_position_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "promptfooconfig.yaml"
    bad.write_text("prompts:\n  - 'a'\n  - [unclosed\n")
    result = run_cli(["import", "promptfoo", str(bad), "-o", str(tmp_path / "c.yaml")], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"genaicompare: {bad}:4:1: YAML syntax error")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "c.yaml").exists()


def test_an_existing_output_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "c.yaml"
    out.write_text("keep")
    source = DATA / "openai_evals" / "samples.jsonl"
    result = run_cli(["import", "openai-evals", str(source), "-o", str(out)], tmp_path)
    assert result.returncode == 2 and "exists" in result.stderr
    assert out.read_text() == "keep"
    forced = run_cli(["import", "openai-evals", str(source), "-o", str(out), "--force"], tmp_path)
    assert forced.returncode == 0 and "name: samples" in out.read_text()


def test_inspect_outputs_become_stored_answers_that_export(tmp_path: Path) -> None:
    db, out = tmp_path / "g.db", tmp_path / "capitals.yaml"
    source = DATA / "inspect" / "log.json"
    home = tmp_path / "home"
    result = run_cli(["import", "inspect", str(source), "-o", str(out), "--db", str(db)], home)
    assert result.returncode == 0, result.stderr
    assert "stored 2 answer(s) and 0 vote(s)" in result.stderr
    assert [(r["prompt_id"], r["text"]) for r in responses(db)] == [
        ("fr", "Paris."),
        ("de", "Berlin"),
    ]
    rated = tmp_path / "rated.jsonl"
    exported = run_cli(["export", str(out), "-o", str(rated), "--db", str(db)], home)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in rated.read_text().splitlines()]
    assert [line["rated"]["output"] for line in lines[1:]] == ["Paris.", "Berlin"]
    again = run_cli(
        ["import", "inspect", str(source), "-o", str(out), "--db", str(db), "--force"], home
    )
    assert "stored 0 answer(s)" in again.stderr and len(responses(db)) == 2


def test_label_studio_votes_export_as_a_dpo_dataset_folder(tmp_path: Path) -> None:
    db, out, folder = tmp_path / "g.db", tmp_path / "ls.yaml", tmp_path / "dpo"
    home = tmp_path / "home"
    source = DATA / "annotation" / "label_studio.json"
    assert (
        run_cli(
            ["import", "label-studio", str(source), "-o", str(out), "--db", str(db)], home
        ).returncode
        == 0
    )
    result = run_cli(["export", str(out), "-f", "hf-dpo", "-o", str(folder), "--db", str(db)], home)
    assert result.returncode == 0, result.stderr
    assert "exported 1 hf-dpo record(s)" in result.stderr
    assert (folder / "data" / "train-00000-of-00001.parquet").is_file()
    assert "catalog **label_studio**" in (folder / "README.md").read_text()


PROMPTFOO = Path(os.environ.get("GENAICOMPARE_PROMPTFOO") or shutil.which("promptfoo") or "-")


@pytest.mark.skipif(
    shutil.which("node") is None or not PROMPTFOO.is_file(),
    reason="promptfoo (npm) not installed: set GENAICOMPARE_PROMPTFOO to its bin/promptfoo",
)
@pytest.mark.parametrize("catalog", ["promptfoo", "qa"])
def test_promptfoo_validates_the_exported_config(catalog: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    if catalog == "promptfoo":
        source = tmp_path / "c.yaml"
        run_cli(
            [
                "import",
                "promptfoo",
                str(DATA / "promptfoo" / "promptfooconfig.yaml"),
                "-o",
                str(source),
            ],
            home,
        )
    else:
        # Not one template: the chat-prompt layout, with a system prompt and context passages.
        source = tmp_path / "qa.yaml"
        source.write_text(
            "name: qa\nmodels: [openai/gpt-4o-mini]\ndefaults: {system: Be brief.}\n"
            "prompts:\n  - {id: hours, prompt: 'When do you open?', context: ['Open 9-5.'], "
            "reference: '9', assert: {contains: '9'}}\n"
        )
    config = tmp_path / "promptfooconfig.yaml"
    assert (
        run_cli(["export", str(source), "-f", "promptfoo", "-o", str(config)], home).returncode == 0
    )
    env = {
        **os.environ,
        "PROMPTFOO_DISABLE_TELEMETRY": "1",
        "PROMPTFOO_DISABLE_UPDATE": "1",
        "PROMPTFOO_CONFIG_DIR": str(tmp_path / "pf"),
    }
    result = subprocess.run(
        [str(PROMPTFOO), "validate", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_catalog_with_no_promptfoo_provider_is_refused(tmp_path: Path) -> None:
    qa = Path(__file__).resolve().parents[2] / "sample_catalogs" / "qa.yaml"
    result = run_cli(
        ["export", str(qa), "-f", "promptfoo", "-o", str(tmp_path / "p.yaml")], tmp_path
    )
    assert result.returncode == 2
    assert "local/smollm2 has no promptfoo provider: not exported" in result.stderr
    assert "no model maps to a promptfoo provider" in result.stderr
    assert not (tmp_path / "p.yaml").exists()
