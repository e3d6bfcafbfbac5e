"""The end of every import: a catalog file genaicompare's own loader reads, and imported answers
and pair votes stored through the Store and Ratings APIs (idempotently: importing twice adds
nothing the second time)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from genaicompare.interop.report import ImportReport

if TYPE_CHECKING:
    from genaicompare.catalog import Catalog
    from genaicompare.ratings.model import Preference
    from genaicompare.store import Store

IMPORT_FORMATS = ("promptfoo", "openai-evals", "inspect", "hf", "label-studio", "argilla")


@dataclass(frozen=True)
class ImportedAnswer:
    """An answer produced elsewhere (an Inspect log's output, an annotation tool's response)."""

    prompt_id: str
    model_alias: str
    text: str
    state: str = "complete"
    """A :class:`~genaicompare.core.records.FinishState` value."""


@dataclass(frozen=True)
class ImportedVote:
    """A pairwise judgement between the answers of two models to one prompt."""

    prompt_id: str
    model_a: str
    model_b: str
    value: str
    """``a``, ``b``, ``tie`` or ``both_bad``."""
    rater: str | None = None
    comment: str | None = None


@dataclass
class Imported:
    """What an importer read: catalog data (plain, as in a YAML catalog), the report, and any
    answers and votes to store."""

    catalog: dict[str, Any]
    report: ImportReport
    answers: list[ImportedAnswer] = field(default_factory=list)
    votes: list[ImportedVote] = field(default_factory=list)


_SLUG = re.compile(r"[^\w.-]+")


def slug(text: str, fallback: str) -> str:
    """An id from free text: spaces and punctuation become ``-`` (at most 200 characters)."""
    out = _SLUG.sub("-", text.strip()).strip("-")[:200]
    return out or fallback


def unique(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:190]}-{n}"
    taken.add(name)
    return name


def dump_yaml(data: Any) -> str:
    from ruamel.yaml import YAML  # lazy: only writing a file needs the emitter

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def write_catalog(data: dict[str, Any], path: str | Path) -> Catalog:
    """Write ``data`` as a YAML catalog (atomically) and load it back with genaicompare's loader,
    assertions checked — what is written is what ``genaicompare FILE`` opens."""
    from genaicompare.catalog import load_catalog
    from genaicompare.core.files import write_atomic
    from genaicompare.metrics import parse_assertions

    write_atomic(path, dump_yaml(data))
    return load_catalog(path, check_assert=parse_assertions)


def store_imported(
    store: Store, catalog: Catalog, path: str | Path, imported: Imported, rater: str | None
) -> tuple[int, int]:
    """Store the imported answers (as a run of mode ``import``) and votes; return how many of
    each were added. An answer already stored (same request, same text) is not stored again, and
    a vote already recorded by the same rater on the same pair is not recorded again."""
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.ratings import Ratings

    if not imported.answers:
        return 0, 0
    catalog_id = store.record_catalog(catalog, path)
    by_key: dict[tuple[str, str], ResponseRecord] = {}
    new: list[ResponseRecord] = []
    for a in imported.answers:
        prompt = catalog.prompt(a.prompt_id)
        spec = catalog.model_spec(a.model_alias)
        rec = ResponseRecord(
            prompt_id=a.prompt_id,
            model_alias=spec.id,
            model=spec.model,
            params=catalog.params_for(spec),
            messages=catalog.render(prompt, spec).messages,
            template_hash=catalog.render(prompt, spec).template_hash,
            api_base=spec.api_base,
            text=a.text,
            state=FinishState(a.state),
            finish_reason="stop" if a.state == "complete" else None,
        )
        rows = store.query(
            "SELECT id FROM responses WHERE content_hash = ? AND prompt_id = ? AND model_alias = ? "
            "AND catalog_id IN (SELECT id FROM catalogs WHERE name = ?) ORDER BY id LIMIT 1",
            [rec.content_hash, rec.prompt_id, rec.model_alias, catalog.name],
        )
        if rows:
            rec.id = int(rows[0]["id"])
        else:
            new.append(rec)
        by_key[(a.prompt_id, a.model_alias)] = rec
    if new:
        run_id = store.start_run(catalog_id, catalog, mode="import")
        store.save_responses(new, run_id=run_id, catalog_id=catalog_id)
        store.finish_run(run_id)
    ratings = Ratings(store, rater)
    votes = 0
    for v in imported.votes:
        left, right = by_key[(v.prompt_id, v.model_a)], by_key[(v.prompt_id, v.model_b)]
        who = v.rater or ratings.default_rater
        current = [
            r
            for r in ratings.for_prompt(catalog.name, v.prompt_id, rater=who)
            if r.kind == "pair"
            and {r.content_hash, r.other_content_hash} == {left.content_hash, right.content_hash}
        ]
        if current:
            continue
        value = cast("Preference", v.value)
        ratings.prefer(left, right, value, rater=who, comment=v.comment, catalog_name=catalog.name)
        votes += 1
    return len(new), votes
