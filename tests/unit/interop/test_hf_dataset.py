"""SFT / DPO / KTO exports as Hugging Face datasets folders: loaded with ``datasets`` and run
through TRL's own chat-template step (what its SFT, DPO and KTO trainers do to each row), with a
tokenizer built in memory (no download). LLM Comparator JSON from the same store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.cli import main
from genaicompare.ratings import Ratings
from genaicompare.store import Store

from ._support import DATA

datasets = pytest.importorskip("datasets", exc_type=ImportError)


@pytest.fixture
def rated(tmp_path: Path) -> tuple[Path, Path]:
    """A catalog imported from Label Studio (two pair votes), plus a 👍 and a 👎."""
    db, catalog = tmp_path / "db.sqlite", tmp_path / "catalog.yaml"
    source = DATA / "annotation" / "label_studio.json"
    assert main(["import", "label-studio", str(source), "-o", str(catalog), "--db", str(db)]) == 0
    with Store(db) as store:
        rows = store.query("SELECT id, text FROM responses ORDER BY id")
        ratings = Ratings(store, "carol")
        ratings.thumb(rows[0]["id"], "up", catalog_name="label_studio")
        ratings.thumb(rows[1]["id"], "down", catalog_name="label_studio")
    return db, catalog


def _tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    return fast


def _export(rated: tuple[Path, Path], fmt: str, folder: Path) -> object:
    db, catalog = rated
    assert main(["export", str(catalog), "-f", fmt, "-o", str(folder), "--db", str(db)]) == 0
    parquet = folder / "data" / "train-00000-of-00001.parquet"
    assert parquet.is_file()
    return datasets.load_dataset("parquet", data_files=str(parquet), split="train")


def test_sft_loads_and_goes_through_trl(rated: tuple[Path, Path], tmp_path: Path) -> None:
    from trl.data_utils import apply_chat_template, is_conversational

    ds = _export(rated, "hf-sft", tmp_path / "sft")
    assert ds.column_names == ["messages"]
    assert ds.num_rows == 1
    row = ds[0]
    assert is_conversational(row)
    assert row["messages"][-1] == {"role": "assistant", "content": "Hello!"}
    assert apply_chat_template(row, _tokenizer())["text"].endswith("<|assistant|>Hello!\n")
    # The same folder also loads as a dataset repo (the card's configs).
    assert datasets.load_dataset(str(tmp_path / "sft"), split="train").num_rows == 1


def test_dpo_loads_and_goes_through_trl(rated: tuple[Path, Path], tmp_path: Path) -> None:
    from trl.data_utils import apply_chat_template, is_conversational, unpair_preference_dataset

    ds = _export(rated, "hf-dpo", tmp_path / "dpo")
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    # One decisive vote (A better on "Say hi"); the tie makes no pair.
    assert ds.num_rows == 1
    row = ds[0]
    assert is_conversational(row)
    out = apply_chat_template(row, _tokenizer())
    assert out["prompt"].endswith("<|user|>Say hi\n<|assistant|>")
    assert out["chosen"].startswith("Hello!") and out["rejected"].startswith("Hi there.")
    assert unpair_preference_dataset(ds).num_rows == 2


def test_kto_loads_and_goes_through_trl(rated: tuple[Path, Path], tmp_path: Path) -> None:
    from trl.data_utils import apply_chat_template

    ds = _export(rated, "hf-kto", tmp_path / "kto")
    assert ds.column_names == ["prompt", "completion", "label"]
    assert sorted(ds["label"]) == [False, True]
    out = apply_chat_template(ds[0], _tokenizer())
    assert set(out) >= {"prompt", "completion"}


def test_the_card_names_fields_counts_and_catalog(rated: tuple[Path, Path], tmp_path: Path) -> None:
    _export(rated, "hf-kto", tmp_path / "kto")
    card = (tmp_path / "kto" / "README.md").read_text()
    assert "catalog **label_studio**, version **1**" in card
    assert "rows: **2** (1 👍, 1 👎)" in card
    assert "num_examples: 2" in card
    for name in ("prompt", "completion", "label"):
        assert f"| `{name}` |" in card


def test_llm_comparator_json(rated: tuple[Path, Path], tmp_path: Path) -> None:
    db, catalog = rated
    out = tmp_path / "comparator.json"
    assert (
        main(["export", str(catalog), "-f", "llm-comparator", "-o", str(out), "--db", str(db)]) == 0
    )
    doc = json.loads(out.read_text())
    assert doc["models"] == [{"name": "gpt-4o-mini"}, {"name": "llama3"}]
    first, second = doc["examples"]
    assert (first["input_text"], first["output_text_a"], first["output_text_b"]) == (
        "Say hi",
        "Hello!",
        "Hi there.",
    )
    assert (
        first["score"] == 1.0
        and first["individual_rater_scores"][0]["rating_label"] == "A is better"
    )
    assert second["score"] == 0.0
    assert {f["name"] for f in doc["metadata"]["custom_fields_schema"]} >= {"prompt_id"}
    assert set(first) == {
        "input_text",
        "tags",
        "output_text_a",
        "output_text_b",
        "score",
        "individual_rater_scores",
        "rationale_list",
        "custom_fields",
    }


def test_the_export_is_recorded_with_its_folder(rated: tuple[Path, Path], tmp_path: Path) -> None:
    _export(rated, "hf-sft", tmp_path / "sft")
    with Store(rated[0]) as store:
        (row,) = store.query("SELECT path, format FROM exports")
    assert (row["path"], row["format"]) == (str((tmp_path / "sft").resolve()), "hf-sft")
