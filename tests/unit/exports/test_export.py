"""Exports on a real database: shapes of rated/sft/dpo/kto, string round trip, atomic writes,
bookkeeping, PII redaction, the rated → catalog round trip, and forget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog, load_catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import (
    ExportError,
    ExportFilters,
    export,
)
from genaicompare.ratings import Ratings
from genaicompare.store import ForgetError, Store, forget

# Catalog text: any character but NUL (the catalog loaders refuse NUL in both formats).
PROMPT_TEXT = 'line\u2028sep\u2029para \x85nel "quoted" \\back\\ \x1b[31mred\x1b[0m tab\t😀 𝄞 ☃'
# Stored data (answers, comments) round-trips whatever it holds, NUL included.
HOSTILE = PROMPT_TEXT + " \u0000"
MARKER = "ZEBRA-MARKER-7781"


@pytest.fixture
def db(tmp_path: Path) -> Store:
    store = Store(tmp_path / "e.db")
    cat = Catalog.model_validate(
        {
            "name": "exp",
            "version": "3",
            "models": [{"id": "old", "model": "openai/old"}, {"id": "new", "model": "openai/new"}],
            "templates": {"t": "Capital of {{c}}?"},
            "prompts": [
                {
                    "id": "p1",
                    "prompt": "Say hi " + PROMPT_TEXT,
                    "reference": "hi " + PROMPT_TEXT,
                    "tags": ["greet"],
                    "task": "chat",
                },
                {
                    "id": "p2",
                    "template": "t",
                    "vars": {"c": "France"},
                    "reference": "Paris",
                    "tags": ["geo"],
                },
                {"id": "p3", "prompt": f"secret {MARKER}", "reference": MARKER, "tags": ["geo"]},
            ],
        }
    )
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "headless")
    texts = {
        ("old", "p1"): "hello " + HOSTILE,
        ("new", "p1"): "hi there, mail me at a.b@example.com",
        ("old", "p2"): "Paris",
        ("new", "p2"): "Lyon",
        ("old", "p3"): f"{MARKER} old",
        ("new", "p3"): f"{MARKER} new",
    }
    recs = {}
    for (alias, pid), text in texts.items():
        rendered = cat.render(cat.prompt(pid), cat.model_spec(alias))
        rec = ResponseRecord(
            prompt_id=pid,
            model_alias=alias,
            model=f"openai/{alias}",
            params={"temperature": 0.2},
            messages=rendered.messages,
            template_hash=rendered.template_hash,
            text=text,
            state=FinishState.complete,
            latency_ms=10.0,
        )
        store.save_response(rec, run_id=run, catalog_id=cid)
        store.save_metrics(rec.id, {"rougeL": (0.5, None, "1")})
        recs[(alias, pid)] = rec
    ann = Ratings(store, rater="ann")
    ann.thumb(recs[("old", "p1")], "up", comment="nice " + HOSTILE)
    ann.thumb(recs[("new", "p1")], "down")
    ann.thumb(recs[("old", "p2")], "up")
    ann.thumb(recs[("new", "p2")], "down")
    Ratings(store, rater="bob").prefer(recs[("new", "p2")], recs[("old", "p2")], "b")
    Ratings(store, rater="bob").thumb(recs[("new", "p3")], "up")
    store.recs = recs  # type: ignore[attr-defined]
    yield store
    store.close()


def _read(path: Path) -> list[dict]:
    # Read the way the most naive consumer would: split on "\n" only.
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x]


def test_rated_export_shape_and_round_trip_of_text(db: Store, tmp_path: Path) -> None:
    out = tmp_path / "rated.jsonl"
    res = export(db, "exp", "rated", out)
    header, *lines = _read(out)
    assert header["name"] == "exp" and header["version"] == "3"
    assert {m["id"] for m in header["models"]} == {"old", "new"}
    assert res.lines == len(lines) == 6
    by = {(x["id"], x["rated"]["model_alias"]): x for x in lines}
    p1 = by[("p1", "old")]
    assert p1["prompt"] == "Say hi " + PROMPT_TEXT and p1["reference"] == "hi " + PROMPT_TEXT
    assert p1["rated"]["output"] == "hello " + HOSTILE
    assert p1["rated"]["ratings"][0]["comment"] == "nice " + HOSTILE
    assert p1["rated"]["label"] == "positive" and by[("p1", "new")]["rated"]["label"] == "negative"
    assert p1["rated"]["metrics"] == {"rougeL": 0.5}
    assert p1["rated"]["catalog"] == {"name": "exp", "version": "3"}
    assert p1["rated"]["params"] == {"temperature": 0.2}
    # A template prompt stays a template, its text in the header: the file stands alone as a
    # catalog and renders the very messages the answer was generated from.
    p2 = by[("p2", "old")]
    assert p2["template"] in header["templates"] and "messages" not in p2
    reopened = load_catalog(out)
    rendered = reopened.render(reopened.prompt("p2"), reopened.model_spec("old"))
    assert rendered.messages[-1]["content"] == "Capital of France?"
    assert p2["rated"]["preferences"][0]["value"] == "b"
    assert p2["reference"] == "Paris"


def test_training_formats_have_the_documented_shapes(db: Store, tmp_path: Path) -> None:
    export(db, "exp", "sft", tmp_path / "sft.jsonl")
    sft = _read(tmp_path / "sft.jsonl")
    assert len(sft) == 3  # old/p1, old/p2, new/p3 are thumbs-up
    for line in sft:
        assert set(line) == {"messages"}
        assert line["messages"][-1]["role"] == "assistant"
        assert all(set(m) == {"role", "content"} for m in line["messages"])
    assert {x["messages"][-1]["content"] for x in sft} >= {"hello " + HOSTILE, "Paris"}

    export(db, "exp", "dpo", tmp_path / "dpo.jsonl")
    dpo = _read(tmp_path / "dpo.jsonl")
    # p2: bob's A/B (old beats new) and ann's up/down (same pair, so once); p1: ann's up/down.
    assert len(dpo) == 2
    for line in dpo:
        assert set(line) - {"margin"} == {"prompt", "chosen", "rejected"}  # margin: #16
        assert line["prompt"][-1]["role"] == "user"
        assert line["chosen"][0]["role"] == line["rejected"][0]["role"] == "assistant"
    pairs = {(x["chosen"][0]["content"], x["rejected"][0]["content"]) for x in dpo}
    assert ("Paris", "Lyon") in pairs

    export(db, "exp", "dpo", tmp_path / "dpo_oa.jsonl", openai=True)
    for line in _read(tmp_path / "dpo_oa.jsonl"):
        assert set(line) == {"input", "preferred_output", "non_preferred_output"}
        assert set(line["input"]) == {"messages"}
        assert line["preferred_output"][0]["role"] == "assistant"

    export(db, "exp", "kto", tmp_path / "kto.jsonl")
    kto = _read(tmp_path / "kto.jsonl")
    assert len(kto) == 5
    for line in kto:
        assert set(line) == {"prompt", "completion", "label"} and isinstance(line["label"], bool)
    assert sorted(x["label"] for x in kto) == [False, False, True, True, True]
    with pytest.raises(ExportError):
        export(db, "exp", "kto", tmp_path / "x.jsonl", openai=True)


def test_filters_by_model_tag_rater_and_date(db: Store, tmp_path: Path) -> None:
    def n(fmt: str, **kw: object) -> int:
        return export(db, "exp", fmt, tmp_path / "f.jsonl", filters=ExportFilters(**kw)).lines

    assert n("rated", models=["old"]) == 3
    assert n("rated", tags=["geo"]) == 4
    assert n("kto", raters=["bob"]) == 1
    assert n("kto", since="2999-01-01") == 0
    assert n("kto", until="2000-01-01") == 0
    today = db.query("SELECT substr(created_at, 1, 10) AS d FROM ratings LIMIT 1")[0]["d"]
    assert n("kto", since=today, until=today) == 5


def test_every_export_is_recorded(db: Store, tmp_path: Path) -> None:
    res = export(db, "exp", "sft", tmp_path / "s.jsonl", filters=ExportFilters(raters=["ann"]))
    row = db.query("SELECT * FROM exports WHERE id = ?", [res.export_id])[0]
    assert row["format"] == "sft" and row["path"] == str((tmp_path / "s.jsonl").resolve())
    assert json.loads(row["filters"])["raters"] == ["ann"]
    assert json.loads(row["response_ids"]) == res.response_ids and len(res.response_ids) == 2
    assert json.loads(row["raters"]) == ["ann"] and row["lines"] == 2
    assert row["database"] == str(db.path.resolve()) and row["catalog_name"] == "exp"


def test_redact_pii_masks_text_but_not_ids(db: Store, tmp_path: Path) -> None:
    try:
        import genaicompare.metrics.pii  # noqa: F401
    except ImportError:
        with pytest.raises(ExportError, match="PII detector"):
            export(db, "exp", "rated", tmp_path / "r.jsonl", redact_pii=True)
        return
    export(db, "exp", "rated", tmp_path / "r.jsonl", redact_pii=True)
    text = (tmp_path / "r.jsonl").read_text(encoding="utf-8")
    assert "a.b@example.com" not in text and "[EMAIL]" in text
    lines = _read(tmp_path / "r.jsonl")[1:]
    assert {x["id"] for x in lines} == {"p1", "p2", "p3"}


def test_stdout_export(db: Store) -> None:
    import io

    buf = io.StringIO()
    res = export(db, "exp", "kto", "-", stdout=buf)
    assert res.path is None and len(buf.getvalue().strip().split("\n")) == 5


def test_rated_file_loads_back_as_a_catalog(db: Store, tmp_path: Path) -> None:
    from genaicompare.catalog import load_catalog

    out = tmp_path / "rated.jsonl"
    export(db, "exp", "rated", out)
    cat = load_catalog(out)
    assert cat.name == "exp"
    assert [p.id for p in cat.prompts] == ["p1", "p2", "p3"]
    assert [p.reference for p in cat.prompts] == ["hi " + PROMPT_TEXT, "Paris", MARKER]
    assert cat.prompt("p1").prompt == "Say hi " + PROMPT_TEXT
    assert {m.id for m in cat.models} == {"old", "new"}
    # The same file carries the ratings: another database imports them, idempotently.
    with Store(tmp_path / "elsewhere.db") as other:
        first = Ratings(other).import_jsonl(out)
        again = Ratings(other).import_jsonl(out)
        assert (first.added, again.added, again.skipped) == (6, 0, again.read)
        assert len(Ratings(other).current()) == 6


def _raw_bytes(store: Store) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(store.path) + suffix)
        if p.exists():
            data += p.read_bytes()
    return data


def test_forget_prompt_removes_the_text_from_the_file(db: Store, tmp_path: Path) -> None:
    res_export = export(db, "exp", "rated", tmp_path / "before.jsonl")
    export(db, "exp", "sft", tmp_path / "sft.jsonl", filters=ExportFilters(tags=["greet"]))
    assert MARKER.encode() in _raw_bytes(db)
    res = forget(db, prompt="p3")
    assert (res.responses, res.metrics, res.prompts) == (2, 2, 1) and res.ratings == 1
    assert res.checkpointed
    assert MARKER.encode() not in _raw_bytes(db)
    assert [e["id"] for e in res.exports] == [res_export.export_id]  # not the greet-only sft
    assert db.query("SELECT count(*) AS n FROM ratings_current WHERE prompt_id='p3'")[0]["n"] == 0
    assert db.query("PRAGMA integrity_check")[0]["integrity_check"] == "ok"


def test_forget_model_and_rater(db: Store) -> None:
    res = forget(db, model="new")
    assert res.responses == 3
    assert db.query("SELECT count(*) AS n FROM responses WHERE model_alias='new'")[0]["n"] == 0
    # bob's A/B vote named 'new': gone; ann's thumbs on old answers stay.
    left = db.query("SELECT rater, kind, model_alias FROM ratings ORDER BY id")
    assert left == [{"rater": "ann", "kind": "thumb", "model_alias": "old"}] * 2
    res = forget(db, rater="ann")
    assert res.ratings == 2 and db.query("SELECT count(*) AS n FROM ratings")[0]["n"] == 0
    assert db.query("SELECT count(*) AS n FROM ratings_current")[0]["n"] == 0
    with pytest.raises(ForgetError):
        forget(db)


def _cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GENAICOMPARE_HOME": str(env_home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "genaicompare", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_export_scores_forget_and_ratings(db: Store, tmp_path: Path) -> None:
    dbp = str(db.path)
    r = _cli(
        "export",
        "exp",
        "--db",
        dbp,
        "-f",
        "dpo",
        "--openai",
        "-o",
        str(tmp_path / "d.jsonl"),
        env_home=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "exported 2 dpo line(s)" in r.stderr
    r = _cli("export", "exp", "--db", dbp, "-f", "kto", "-o", "-", env_home=tmp_path)
    assert r.returncode == 0 and len(r.stdout.strip().split("\n")) == 5
    r = _cli("export", "nope", "--db", dbp, "-o", "-", env_home=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "no such catalog" in r.stderr
    r = _cli("scores", "exp", "--db", dbp, env_home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Bradley–Terry" in r.stdout and "old" in r.stdout
    r = _cli("scores", "exp", "--db", dbp, "--json", "--by", "tag", env_home=tmp_path)
    js = json.loads(r.stdout)
    assert {k: js["battle_sources"][k] for k in ("preferences", "thumbs")} == {
        "preferences": 1,
        "thumbs": 2,
    }
    assert {g["group"] for g in js["groups"]} == {"greet", "geo"}
    r = _cli("ratings", "export", "--db", dbp, "-o", str(tmp_path / "all.jsonl"), env_home=tmp_path)
    assert r.returncode == 0, r.stderr
    other = str(tmp_path / "other.db")
    for expected in ("6 added, 0 already present", "0 added, 6 already present"):
        r = _cli("ratings", "import", str(tmp_path / "all.jsonl"), "--db", other, env_home=tmp_path)
        assert r.returncode == 0 and expected in r.stdout, r.stdout + r.stderr
    r = _cli("forget", "--prompt", "p3", "--db", dbp, env_home=tmp_path)
    assert r.returncode == 0 and "deleted 2 answer(s)" in r.stdout, r.stdout + r.stderr


def test_secret_values_from_the_environment_never_reach_an_export(
    db: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = "sk-SENTINEL-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", sentinel)
    rec = db.recs[("old", "p2")]  # type: ignore[attr-defined]
    db.conn.execute("UPDATE responses SET text = ? WHERE id = ?", [f"Paris {sentinel}", rec.id])
    for fmt in ("rated", "sft", "dpo", "kto"):
        out = tmp_path / f"{fmt}.jsonl"
        export(db, "exp", fmt, out)
        text = out.read_text(encoding="utf-8")
        assert sentinel not in text
    assert "Paris [REDACTED]" in (tmp_path / "sft.jsonl").read_text(encoding="utf-8")


def test_export_to_a_closed_pipe_ends_quietly(db: Store, tmp_path: Path) -> None:
    """`genaicompare export … -o - | head`: the reader leaves first; no 'Broken pipe' error."""
    env = {**os.environ, "GENAICOMPARE_HOME": str(tmp_path), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "genaicompare", "export", "exp", "--db", str(db.path), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err  # 128 + SIGPIPE, as a shell reports it
    assert err == "", err
