"""catalog/rated: the rated JSONL format read back as prompts and as ratings."""

from __future__ import annotations

from genaicompare.catalog.rated import fold_rated_prompts, is_rated_header, ratings_in


def test_fold_rated_prompts_merges_repeated_ids() -> None:
    lines = [
        {"id": "a", "prompt": "x", "rated": {}},
        {"id": "a", "prompt": "x", "rated": {}},
        {"id": "b", "prompt": "y"},
    ]
    out, pos = fold_rated_prompts(lines, [2, 3, 4])
    assert out == [{"id": "a", "prompt": "x"}, {"id": "b", "prompt": "y"}] and pos == [2, 4]


def test_ratings_in_a_rated_line_thumbs_then_preferences() -> None:
    line = {"id": "a", "rated": {"ratings": [{"kind": "thumb"}], "preferences": [{"kind": "pair"}]}}
    assert ratings_in(line) == [{"kind": "thumb"}, {"kind": "pair"}]
    assert ratings_in({"id": "a", "rated": {}}) == []


def test_the_header_is_told_from_answers_and_ratings() -> None:
    assert is_rated_header({"name": "exp", "version": "1"})
    assert not is_rated_header({"name": "exp", "id": "p1"})
    assert not is_rated_header({"name": "exp", "kind": "thumb"})
