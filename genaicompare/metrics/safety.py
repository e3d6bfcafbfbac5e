"""Toxicity with detoxify (its own loading code), or — said out loud — a profanity scorer.

The checkpoint is configurable: one of detoxify's names (``original``, ``unbiased``,
``multilingual``, ``original-small``, ``unbiased-small``) used only when the user already has that
checkpoint in torch's hub cache, or a path to a local ``.ckpt`` with the Hugging Face config and
tokenizer folder it needs offline (``huggingface_config_path``; detoxify reads ``model_type`` from
the checkpoint's config, so for an offline checkpoint that is a local folder too). genaicompare
always hands detoxify an explicit checkpoint file, so detoxify never downloads.

When no checkpoint is usable, the engine says so once and scores with alt-profanity-check (a
scikit-learn model shipped inside its wheel). That score is named ``profanity`` everywhere —
metric name, table, export — and never ``toxicity``: it is a different measure.

PII detection lives in :mod:`genaicompare.metrics.pii`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genaicompare.metrics.names import DETOXIFY_LABELS as DETOXIFY_LABELS
from genaicompare.metrics.names import PROFANITY as PROFANITY

VERSION = "1"


_DETOXIFY_FILES = {
    "original": "toxic_original-c1212f89.ckpt",
    "unbiased": "toxic_debiased-c7548aa0.ckpt",
    "multilingual": "multilingual_debiased-0b549669.ckpt",
    "original-small": "original-albert-0e1d6498.ckpt",
    "unbiased-small": "unbiased-albert-c8519128.ckpt",
}


def _torch_hub_checkpoints() -> Path:
    # torch.hub.get_dir() without importing torch: $TORCH_HOME or $XDG_CACHE_HOME/torch.
    home = os.environ.get("TORCH_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = Path(xdg).expanduser() / "torch"
    return base / "hub" / "checkpoints"


def resolve_checkpoint(checkpoint: str | None) -> tuple[Path | None, str]:
    """(checkpoint file or None, display name) for a detoxify name or a path."""
    name = checkpoint or "original"
    if name in _DETOXIFY_FILES:
        path = _torch_hub_checkpoints() / _DETOXIFY_FILES[name]
        return (path if path.is_file() else None), name
    path = Path(name).expanduser()
    return (path if path.is_file() else None), path.name


@dataclass
class ToxicityScorer:
    """detoxify when a checkpoint is usable, else alt-profanity-check (named ``profanity``)."""

    checkpoint: str | None = None
    """detoxify model name or a local checkpoint path (default ``original``)."""
    config_dir: str | None = None
    """Local Hugging Face config + tokenizer folder for the checkpoint (offline loading)."""
    device: str = "cpu"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._fallback: Any = None
        self._kind: str | None = None
        self.notice: str | None = None
        self.display = ""

    def _choose(self) -> str:
        if self._kind is not None:
            return self._kind
        with self._lock:
            if self._kind is not None:
                return self._kind
            path, self.display = resolve_checkpoint(self.checkpoint)
            if path is None:
                self.notice = (
                    f"toxicity: detoxify checkpoint '{self.checkpoint or 'original'}' is not "
                    "available offline; scoring with alt-profanity-check instead, reported as "
                    "'profanity' (not toxicity)"
                )
                self._kind = PROFANITY
                return self._kind
            try:
                self._model = _load_detoxify(path, self.config_dir, self.device)
                self._kind = "detoxify"
            except Exception as exc:
                self.notice = (
                    f"toxicity: detoxify could not load {path.name} ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); scoring with alt-profanity-check instead, reported as "
                    "'profanity' (not toxicity)"
                )
                self._kind = PROFANITY
            return self._kind

    @property
    def kind(self) -> str:
        """``detoxify`` or ``profanity``."""
        return self._choose()

    @property
    def version(self) -> str:
        if self.kind == "detoxify":
            return f"{VERSION}:detoxify:{self.display}"
        return f"{VERSION}:alt-profanity-check:{_dist_version('alt-profanity-check')}"

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text, label → probability (detoxify's labels, or just ``profanity``)."""
        if not texts:
            return []
        if self._choose() == "detoxify":
            with self._lock:  # one forward pass at a time: torch threads are shared anyway
                raw = self._model.predict(list(texts))
            labels = list(raw)
            return [{label: float(raw[label][i]) for label in labels} for i in range(len(texts))]
        probs = self._profanity().predict_prob(list(texts))
        return [{PROFANITY: float(p)} for p in probs]

    def _profanity(self) -> Any:
        if self._fallback is None:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scikit-learn pickle version chatter
                import profanity_check

            self._fallback = profanity_check
        return self._fallback


def _load_detoxify(path: Path, config_dir: str | None, device: str) -> Any:
    from genaicompare.metrics.semantic import _no_downloads, configure_torch

    _no_downloads()
    configure_torch()
    from detoxify import Detoxify

    return Detoxify(checkpoint=str(path), device=device, huggingface_config_path=config_dir)


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"
