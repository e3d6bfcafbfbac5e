"""Toxicity: detoxify's real loading code on a tiny checkpoint built here, and the named fallback.

The checkpoint is a small random BERT saved the way detoxify's training saves one (``config``
with ``arch.args`` and ``dataset.args.classes``, plus ``state_dict``); ``model_type`` and the
tokenizer are a local folder, so loading is offline. The classifier's weights are zero and its
bias holds known logits, so every text must score exactly sigmoid(bias).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("detoxify")

from genaicompare.metrics import MetricsConfig, MetricsEngine, safety  # noqa: E402

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
LOGITS = [-3.0, -1.5, 0.0, 0.5, 2.0, -0.25]


def build_tiny_checkpoint(folder: Path) -> tuple[Path, Path]:
    config_dir = folder / "tiny-bert"
    config_dir.mkdir(parents=True)
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "you",
        "are",
        "nice",
        "bad",
        "the",
        "cat",
        "a",
        "idiot",
        ".",
    ]
    (config_dir / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
        num_labels=len(CLASSES),
    )
    config.save_pretrained(config_dir)
    transformers.BertTokenizer(str(config_dir / "vocab.txt")).save_pretrained(config_dir)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(LOGITS))
    ckpt = folder / "tiny-toxic.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": str(config_dir),
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(CLASSES),
                    }
                },
                "dataset": {"args": {"classes": CLASSES}},
            },
            "state_dict": model.state_dict(),
        },
        ckpt,
    )
    return ckpt, config_dir


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_detoxify_loads_the_checkpoint_and_scores_exactly(tmp_path: Path) -> None:
    ckpt, config_dir = build_tiny_checkpoint(tmp_path)
    scorer = safety.ToxicityScorer(str(ckpt), str(config_dir))
    assert scorer.kind == "detoxify", scorer.notice
    assert scorer.notice is None
    scores = scorer.score(["you are nice", "the cat is a idiot ."])
    expected = dict(zip(safety.DETOXIFY_LABELS, map(sigmoid, LOGITS), strict=True))
    for row in scores:
        assert set(row) == set(safety.DETOXIFY_LABELS)
        for label, value in expected.items():
            assert row[label] == pytest.approx(value, abs=1e-6)
    assert scorer.version == "1:detoxify:tiny-toxic.ckpt"


def test_engine_reports_six_labels_on_input_and_output(tmp_path: Path) -> None:
    from genaicompare.catalog import Prompt
    from genaicompare.core.records import FinishState, ResponseRecord

    ckpt, config_dir = build_tiny_checkpoint(tmp_path)
    engine = MetricsEngine(
        MetricsConfig(
            metrics=frozenset({"toxicity"}),
            toxicity_checkpoint=str(ckpt),
            toxicity_config_dir=str(config_dir),
        )
    )
    prompt = Prompt(id="p", prompt="are you nice")
    record = ResponseRecord(
        prompt_id="p",
        model_alias="a",
        model="m",
        params={},
        messages=[{"role": "user", "content": "are you nice"}],
        text="you are nice",
        state=FinishState.complete,
    )
    values = engine.full(record, prompt, names=["toxicity"])
    labels = set(safety.DETOXIFY_LABELS)
    assert labels <= set(values)
    assert {f"prompt_{x}" for x in labels} <= set(values)
    assert "profanity" not in values
    assert values["threat"].value == pytest.approx(sigmoid(0.5), abs=1e-6)
    assert engine.notices == []


def test_missing_weights_fall_back_to_profanity_named_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    engine = MetricsEngine(MetricsConfig(metrics=frozenset({"toxicity"})))
    values = engine.score_text("go to hell you stupid idiot", question="hello there")
    assert "toxicity" not in values and "insult" not in values
    assert values["profanity"].value > 0.5
    assert values["prompt_profanity"].value < 0.5
    assert values["profanity"].version.startswith("1:alt-profanity-check:")
    # said once, however many texts are scored
    engine.score_text("another text")
    notices = [n for n in engine.notices if n.startswith("toxicity:")]
    assert len(notices) == 1 and "'profanity'" in notices[0]
    # an assertion on toxicity fails and says why, rather than reading the profanity score
    from genaicompare.catalog import Prompt

    prompt = Prompt(id="p", prompt="x", **{"assert": {"toxicity": "< 0.1"}})
    (result,) = engine.check(prompt, values, "go to hell")
    assert not result.passed and "profanity" in result.reason


def test_broken_checkpoint_falls_back_with_reason(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ckpt"
    torch.save({"not": "a detoxify checkpoint"}, bad)
    scorer = safety.ToxicityScorer(str(bad))
    assert scorer.kind == "profanity"
    assert scorer.notice and "broken.ckpt" in scorer.notice
