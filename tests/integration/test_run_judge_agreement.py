"""``judge: {min_agreement: …}`` in a real ``genaicompare run`` (issue 14 §6): a judge that
disagrees with the people's A/B votes on the same answers may not gate CI — the run says so and
exits 2. The fake server's deterministic judge prefers the answer naming Paris."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import KEY_ENV, run_cli, write_catalog

MODELS = {"echo": "fake/echo", "tok": "fake/tokens?n=4"}
PROMPTS = [{"id": f"p{i}", "prompt": f"The capital of France is Paris {i}"} for i in range(12)]


def _vote(db: Path, winner: str) -> None:
    """One person's A/B vote per prompt between the stored answers, for ``winner``."""
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    store = Store(db)
    try:
        ratings = Ratings(store)
        rows = store.db.execute(
            "SELECT prompt_id, model_alias, id FROM responses ORDER BY id"
        ).fetchall()
        ids: dict[str, dict[str, int]] = {}
        for prompt, alias, rid in rows:
            ids.setdefault(prompt, {})[alias] = rid
        for by in ids.values():
            ratings.prefer(
                by["echo"],
                by["tok"],
                "a" if winner == "echo" else "b",
                rater="ann",
                catalog_name="judged",
                pane_order=["echo", "tok"],
            )
    finally:
        store.close()


def test_judge_below_min_agreement_may_not_gate(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        judge = {
            "model": "openai/fake/judge",
            "api_base": server.base_url,
            "api_key_env": KEY_ENV,
            "mode": "pairwise",
            "min_agreement": 0.6,
        }
        cat = write_catalog(
            tmp_path / "c.yaml", server.base_url, MODELS, PROMPTS, name="judged",
            extra={"judge": judge},
        )  # fmt: skip
        db, home = tmp_path / "r.db", tmp_path / "home"
        first = run_cli(["run", str(cat), "--db", str(db)], home)
        # No human vote yet: nothing to compare, so the judge is not refused — and it says so.
        assert first.returncode == 0, first.stdout + first.stderr
        assert "not checked: n too small (0 shared judgements, 10 needed)" in first.stderr

        _vote(db, "tok")  # people prefer the answer the judge rejects, on every prompt
        second = run_cli(["run", str(cat), "--db", str(db), "--json"], home)
        assert second.returncode == 2, second.stdout + second.stderr
        assert "Traceback" not in second.stderr
        assert "below the catalog's judge.min_agreement 0.6: it may not gate this run" in (
            second.stderr
        )
        assert "(n=12)" in second.stderr
        doc = json.loads(second.stdout)
        assert doc["regression"]["exit_code"] == 2
        assert any("min_agreement" in note for note in doc["regression"]["notes"])

        # --no-judge: no judge, nothing to refuse.
        off = run_cli(["run", str(cat), "--db", str(db), "--no-judge"], home)
        assert off.returncode == 0, off.stdout + off.stderr


def test_judge_that_agrees_gates(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        judge = {
            "model": "openai/fake/judge",
            "api_base": server.base_url,
            "api_key_env": KEY_ENV,
            "mode": "pairwise",
            "min_agreement": 0.6,
        }
        prompts = [*PROMPTS, *({"id": f"q{i}", "prompt": f"say {i}"} for i in range(4))]
        cat = write_catalog(
            tmp_path / "c.yaml", server.base_url, MODELS, prompts, name="judged",
            extra={"judge": judge},
        )  # fmt: skip
        db, home = tmp_path / "r.db", tmp_path / "home"
        assert run_cli(["run", str(cat), "--db", str(db)], home).returncode == 0
        _vote_agreeing(db)
        again = run_cli(["run", str(cat), "--db", str(db)], home)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "judge agreement with human A/B votes: κ = 1.00" in again.stderr


def _vote_agreeing(db: Path) -> None:
    """echo on the Paris prompts (as the judge), a tie on the others (the judge's tie)."""
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    store = Store(db)
    try:
        ratings = Ratings(store)
        ids: dict[str, dict[str, int]] = {}
        for prompt, alias, rid in store.db.execute(
            "SELECT prompt_id, model_alias, id FROM responses ORDER BY id"
        ).fetchall():
            ids.setdefault(prompt, {})[alias] = rid
        for prompt, by in ids.items():
            value = "a" if prompt.startswith("p") else "tie"
            ratings.prefer(by["echo"], by["tok"], value, rater="ann", catalog_name="judged")
    finally:
        store.close()
