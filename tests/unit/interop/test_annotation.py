"""Label Studio / Argilla pairwise exports: answers and pair votes under the annotators' names;
export → import gives the same answers and votes back."""

from __future__ import annotations

import json
from pathlib import Path

from genaicompare.cli import main
from genaicompare.interop.annotation import import_argilla, import_label_studio
from genaicompare.interop.writing import store_imported
from genaicompare.store import Store

from ._support import DATA, dump, golden, lines, written

LS = DATA / "annotation" / "label_studio.json"
ARGILLA = DATA / "annotation" / "argilla.json"


def _votes(db: Path) -> list[tuple[str, str, str, str, str]]:
    with Store(db) as store:
        rows = store.query(
            "SELECT r.prompt_id, r.rater, r.value, a.text AS a, b.text AS b FROM ratings r "
            "JOIN responses a ON a.id = r.response_id JOIN responses b ON b.id = r.other_response_id "
            "WHERE r.kind = 'pair' ORDER BY r.prompt_id, r.rater"
        )
    return [(r["prompt_id"], r["rater"], r["value"], r["a"], r["b"]) for r in rows]


def test_label_studio_matches_the_golden_catalog(tmp_path: Path) -> None:
    catalog = written(import_label_studio(LS).catalog, tmp_path)
    assert dump(catalog) == dump(golden("annotation/label_studio.expected.yaml"))


def test_label_studio_votes_are_stored_under_the_annotator(tmp_path: Path) -> None:
    imported = import_label_studio(LS)
    catalog = written(imported.catalog, tmp_path)
    db = tmp_path / "db.sqlite"
    with Store(db) as store:
        assert store_imported(store, catalog, tmp_path / "out.yaml", imported, None) == (4, 2)
        assert store_imported(store, catalog, tmp_path / "out.yaml", imported, None) == (0, 0)
    assert _votes(db) == [
        ("1", "ann@example.com", "a", "Hello!", "Hi there."),
        ("2", "ann@example.com", "tie", "Bye.", "Goodbye!"),
    ]


def test_label_studio_results_that_are_not_a_pair_choice_are_listed() -> None:
    assert lines(import_label_studio(LS).report) == [
        f"{LS}:9:19: 0.annotations.1.result.0: not imported: a rating result (only pairwise and "
        "choices map)",
        f"{LS}:11:21: 0.predictions.0: not imported: predictions are a model's, not a rater's",
    ]


def test_argilla_label_and_ranking_responses(tmp_path: Path) -> None:
    imported = import_argilla(ARGILLA, rater=None)
    catalog = written(imported.catalog, tmp_path)
    db = tmp_path / "db.sqlite"
    with Store(db) as store:
        store_imported(store, catalog, tmp_path / "out.yaml", imported, None)
    # eve's response is a draft: not a judgement.
    assert _votes(db) == [
        ("r1", "bob", "b", "Hello!", "Hi there."),
        ("r2", "bob", "a", "Bye.", "Goodbye!"),
    ]


def test_a_rater_name_given_replaces_the_annotators(tmp_path: Path) -> None:
    imported = import_argilla(ARGILLA, rater="team-a")
    assert {v.rater for v in imported.votes} == {"team-a"}


def _round_trip(fmt: str, source: Path, tmp_path: Path) -> None:
    db1, db2 = tmp_path / "one.db", tmp_path / "two.db"
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    exported = tmp_path / f"export-{fmt}.json"
    assert main(["import", fmt, str(source), "-o", str(first), "--db", str(db1)]) == 0
    assert main(["export", str(first), "-f", fmt, "-o", str(exported), "--db", str(db1)]) == 0
    assert (
        main(
            [
                "import",
                fmt,
                str(exported),
                "-o",
                str(second),
                "--db",
                str(db2),
                "--name",
                json.loads(json.dumps(written_name(first))),
            ]
        )
        == 0
    )
    assert _votes(db2) == _votes(db1)
    a = written_catalog(first)
    b = written_catalog(second)
    assert [(p.prompt, p.id) for p in b.prompts] == [(p.prompt, p.id) for p in a.prompts]
    assert dump(b)["models"] == dump(a)["models"]


def written_name(path: Path) -> str:
    return written_catalog(path).name


def written_catalog(path: Path):  # type: ignore[no-untyped-def]
    from genaicompare.catalog import load_catalog

    return load_catalog(path)


def test_label_studio_round_trip(tmp_path: Path) -> None:
    _round_trip("label-studio", LS, tmp_path)


def test_argilla_round_trip(tmp_path: Path) -> None:
    _round_trip("argilla", ARGILLA, tmp_path)
