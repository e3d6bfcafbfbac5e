"""Pairwise preference data from annotation tools, in and out.

Import: a Label Studio JSON export (tasks with ``data`` and ``annotations``; a ``Pairwise``
result ``{"selected": "left"|"right"}`` or a ``Choices`` result naming A / B / Tie / Both bad) or
an Argilla export (records with ``fields`` and ``responses``; a label question naming the
preferred response field, or a ranking whose first entry is preferred). Each task or record is a
prompt, its two answers stored as answers of the two models (``model_a`` / ``model_b`` in the
data or metadata, else ``model_a`` and ``model_b``), each submitted judgement a pair vote under
its annotator's name (or ``--rater``).

Export: the same shapes, written from a rated export's lines: every prompt with two models'
answers, and the pair votes on them as annotations (Label Studio) or responses (Argilla), so
exporting and importing again gives the same answers and votes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genaicompare.interop._rows import alias_of, json_with_positions, model_string
from genaicompare.interop.report import ImportReport
from genaicompare.interop.writing import Imported, ImportedAnswer, ImportedVote, slug, unique

PROMPT_KEYS = ("prompt", "question", "input", "instruction")
ANSWER_KEYS = (
    ("text1", "text2"),
    ("answer_a", "answer_b"),
    ("response_a", "response_b"),
    ("response1", "response2"),
    ("chosen", "rejected"),
)
_CHOICES = {
    "a": "a",
    "left": "a",
    "answer a": "a",
    "response a": "a",
    "a is better": "a",
    "b": "b",
    "right": "b",
    "answer b": "b",
    "response b": "b",
    "b is better": "b",
    "tie": "tie",
    "same": "tie",
    "equal": "tie",
    "both bad": "both_bad",
    "both_bad": "both_bad",
    "neither": "both_bad",
}
CHOICE_LABELS = {"a": "A", "b": "B", "tie": "Tie", "both_bad": "Both bad"}
LABEL_CONFIG = """<View>
  <Text name="prompt" value="$prompt"/>
  <Pairwise name="pw" toName="text1,text2" leftClass="text1" rightClass="text2"/>
  <Text name="text1" value="$text1"/>
  <Text name="text2" value="$text2"/>
  <Choices name="preference" toName="prompt" choice="single">
    <Choice value="A"/><Choice value="B"/><Choice value="Tie"/><Choice value="Both bad"/>
  </Choices>
</View>"""
"""A Label Studio labeling config for exported tasks (the README shows where it goes)."""


class _Builder:
    def __init__(self, path: Path, name: str | None, tool: str) -> None:
        self.path = path
        self.report = ImportReport()
        self.tool = tool
        self.prompts: list[dict[str, Any]] = []
        self.models: dict[str, str] = {}
        self.answers: list[ImportedAnswer] = []
        self.votes: list[ImportedVote] = []
        self.taken: set[str] = set()
        self.name = name or path.stem

    def item(
        self, fields: dict[str, Any], meta: dict[str, Any], raw_id: Any, where: Any, field: str
    ) -> tuple[str, str, str] | None:
        """Add one prompt with its two answers; return (prompt id, alias a, alias b)."""
        prompt = next((fields[k] for k in PROMPT_KEYS if isinstance(fields.get(k), str)), None)
        pair = next(
            (k for k in ANSWER_KEYS if all(isinstance(fields.get(x), str) for x in k)), None
        )
        if prompt is None or pair is None:
            self.report.skip(
                self.path,
                where,
                field,
                "needs a prompt and two answers "
                f"(keys {', '.join(PROMPT_KEYS)} and e.g. text1/text2)",
            )
            return None
        for key in fields:
            if key not in (*PROMPT_KEYS, *pair, "model_a", "model_b", "prompt_id"):
                self.report.skip(self.path, where, f"{field}.{key}", "not a catalog field")
        names = [
            str(meta.get("model_a") or fields.get("model_a") or "model_a"),
            str(meta.get("model_b") or fields.get("model_b") or "model_b"),
        ]
        aliases = []
        for n in names:
            alias = alias_of(n)
            self.models.setdefault(alias, model_string(n))
            aliases.append(alias)
        if aliases[0] == aliases[1]:
            self.report.skip(self.path, where, field, "both answers come from one model")
            return None
        given = fields.get("prompt_id") or meta.get("prompt_id") or raw_id
        pid = unique(
            slug(str(given), f"item-{len(self.prompts) + 1}")
            if given is not None
            else f"item-{len(self.prompts) + 1}",
            self.taken,
        )
        self.prompts.append({"id": pid, "prompt": prompt})
        self.answers += [
            ImportedAnswer(pid, aliases[0], fields[pair[0]]),
            ImportedAnswer(pid, aliases[1], fields[pair[1]]),
        ]
        self.report.count("prompts")
        self.report.count("answers", 2)
        return pid, aliases[0], aliases[1]

    def vote(self, pid: str, a: str, b: str, value: str, rater: str, comment: Any = None) -> None:
        self.votes.append(
            ImportedVote(pid, a, b, value, rater, comment if isinstance(comment, str) else None)
        )
        self.report.count("votes")

    def done(self) -> Imported:
        catalog = {
            "name": self.name,
            "version": "1",
            "models": [{"id": a, "model": m} for a, m in self.models.items()],
            "prompts": self.prompts,
        }
        return Imported(catalog=catalog, report=self.report, answers=self.answers, votes=self.votes)


def import_label_studio(
    path: str | Path, name: str | None = None, rater: str | None = None
) -> Imported:
    from genaicompare.catalog.model import CatalogError

    path = Path(path)
    data, locate = json_with_positions(path)
    if not isinstance(data, list):
        raise CatalogError(path, "a Label Studio export is a JSON list of tasks", 1, 1)
    b = _Builder(path, name, "label-studio")
    for i, task in enumerate(data):
        loc = (i,)
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            b.report.skip(path, locate(loc), str(i), "a task has a 'data' mapping")
            continue
        got = b.item(task["data"], {}, task.get("id"), locate((i, "data")), f"{i}.data")
        if got is None:
            continue
        pid, ma, mb = got
        for j, ann in enumerate(task.get("annotations") or []):
            aloc = (i, "annotations", j)
            if not isinstance(ann, dict) or ann.get("was_cancelled"):
                continue
            who = rater or _annotator(ann.get("completed_by"), "label-studio")
            value, listed = None, False
            for k, res in enumerate(ann.get("result") or []):
                v = res.get("value") if isinstance(res, dict) else None
                if not isinstance(v, dict):
                    continue
                if isinstance(v.get("selected"), str):
                    value = _CHOICES.get(v["selected"].lower())
                elif isinstance(v.get("choices"), list) and v["choices"]:
                    value = _CHOICES.get(str(v["choices"][0]).lower())
                else:
                    listed = True
                    b.report.skip(
                        path,
                        locate((*aloc, "result", k)),
                        f"{i}.annotations.{j}.result.{k}",
                        f"a {res.get('type')} result (only pairwise and choices map)",
                    )
            if value is None:
                if not listed:
                    b.report.skip(
                        path,
                        locate(aloc),
                        f"{i}.annotations.{j}",
                        "no pairwise choice genaicompare reads",
                    )
                continue
            b.vote(pid, ma, mb, value, who)
        for j, _ in enumerate(task.get("predictions") or []):
            b.report.skip(
                path,
                locate((i, "predictions", j)),
                f"{i}.predictions.{j}",
                "predictions are a model's, not a rater's",
            )
    return b.done()


def import_argilla(path: str | Path, name: str | None = None, rater: str | None = None) -> Imported:
    from genaicompare.catalog.model import CatalogError

    path = Path(path)
    data, locate = json_with_positions(path)
    prefix: tuple[str | int, ...] = ()
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data, prefix = data["records"], ("records",)
    if not isinstance(data, list):
        raise CatalogError(path, "an Argilla export is a JSON list of records", 1, 1)
    b = _Builder(path, name, "argilla")
    for i, rec in enumerate(data):
        loc = (*prefix, i)
        if not isinstance(rec, dict) or not isinstance(rec.get("fields"), dict):
            b.report.skip(path, locate(loc), ".".join(map(str, loc)), "a record has 'fields'")
            continue
        fields = rec["fields"]
        got = b.item(
            fields,
            rec.get("metadata") or {},
            rec.get("id") or rec.get("external_id"),
            locate((*loc, "fields")),
            f"{'.'.join(map(str, loc))}.fields",
        )
        if got is None:
            continue
        pid, ma, mb = got
        pair = next(k for k in ANSWER_KEYS if all(isinstance(fields.get(x), str) for x in k))
        responses = rec.get("responses") or {}
        for question, answers in responses.items() if isinstance(responses, dict) else []:
            for j, resp in enumerate(answers or []):
                rloc = (*loc, "responses", question, j)
                if not isinstance(resp, dict) or resp.get("status", "submitted") != "submitted":
                    continue
                value = _argilla_value(resp.get("value"), pair)
                if value is None:
                    b.report.skip(
                        path,
                        locate(rloc),
                        ".".join(map(str, rloc)),
                        f"response {resp.get('value')!r} names neither answer",
                    )
                    continue
                b.vote(pid, ma, mb, value, rater or _annotator(resp.get("user_id"), "argilla"))
    return b.done()


def _argilla_value(value: Any, pair: tuple[str, str]) -> str | None:
    if isinstance(value, list) and value:  # a ranking: the first is preferred
        first = value[0]
        if isinstance(first, dict):
            ranked = sorted(value, key=lambda r: r.get("rank", 0) or 0)
            if len(ranked) > 1 and ranked[0].get("rank") == ranked[1].get("rank"):
                return "tie"
            first = ranked[0].get("value")
        value = first
    if not isinstance(value, str):
        return None
    if value == pair[0]:
        return "a"
    if value == pair[1]:
        return "b"
    return _CHOICES.get(value.lower())


def _annotator(who: Any, tool: str) -> str:
    if isinstance(who, dict):
        who = who.get("email") or who.get("username") or who.get("id")
    return str(who) if who not in (None, "") else tool


# -- export -------------------------------------------------------------------------------------
def pairs_from_rated(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per prompt with answers of at least two models: the first two models' latest answers
    (in model order of the file), their texts, metrics and the pair votes between them."""
    by_prompt: dict[str, dict[str, dict[str, Any]]] = {}
    prompts: dict[str, dict[str, Any]] = {}
    for line in lines:
        rated = line.get("rated")
        if not isinstance(rated, dict) or rated.get("state") not in ("complete", "length"):
            continue
        pid = str(line["id"])
        prompts.setdefault(pid, line)
        by_prompt.setdefault(pid, {})[rated["model_alias"]] = rated
    out = []
    for pid, answers in by_prompt.items():
        if len(answers) < 2:
            continue
        (ma, ra), (mb, rb) = list(answers.items())[:2]
        hashes = {ra["content_hash"]: "a", rb["content_hash"]: "b"}
        votes = []
        seen: set[tuple[str, str]] = set()
        for pref in [*ra.get("preferences", []), *rb.get("preferences", [])]:
            if {pref.get("content_hash"), pref.get("other_content_hash")} != set(hashes):
                continue
            key = (pref["uid"], pref["rater"])
            if key in seen:
                continue
            seen.add(key)
            value = pref["value"]
            if hashes[pref["content_hash"]] == "b" and value in ("a", "b"):
                value = "b" if value == "a" else "a"  # recorded with B on the left
            votes.append({"rater": pref["rater"], "value": value, "comment": pref.get("comment")})
        user = [m["content"] for m in ra["messages"] if m["role"] == "user"]
        out.append(
            {
                "prompt_id": pid,
                "prompt": user[-1] if user else "",
                "model_a": ra["model"]
                if "/" in ra["model"] and not ra["model"].startswith("imported/")
                else ma,
                "model_b": rb["model"]
                if "/" in rb["model"] and not rb["model"].startswith("imported/")
                else mb,
                "alias_a": ma,
                "alias_b": mb,
                "text_a": ra["output"],
                "text_b": rb["output"],
                "metrics_a": ra.get("metrics") or {},
                "metrics_b": rb.get("metrics") or {},
                "tags": list(prompts[pid].get("tags") or []),
                "votes": votes,
            }
        )
    return out


def to_label_studio(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tasks = []
    for n, p in enumerate(pairs, 1):
        annotations = [
            {
                "completed_by": {"email": v["rater"]},
                "was_cancelled": False,
                "result": [
                    {
                        "from_name": "preference",
                        "to_name": "prompt",
                        "type": "choices",
                        "value": {"choices": [CHOICE_LABELS[v["value"]]]},
                    }
                ],
            }
            for v in p["votes"]
        ]
        tasks.append(
            {
                "id": n,
                "data": {
                    "prompt_id": p["prompt_id"],
                    "prompt": p["prompt"],
                    "text1": p["text_a"],
                    "text2": p["text_b"],
                    "model_a": p["model_a"],
                    "model_b": p["model_b"],
                },
                "annotations": annotations,
            }
        )
    return tasks


def to_argilla(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    values = {"a": "response1", "b": "response2", "tie": "tie", "both_bad": "both bad"}
    return [
        {
            "id": p["prompt_id"],
            "fields": {"prompt": p["prompt"], "response1": p["text_a"], "response2": p["text_b"]},
            "metadata": {"model_a": p["model_a"], "model_b": p["model_b"]},
            "responses": {
                "preference": [
                    {"value": values[v["value"]], "user_id": v["rater"], "status": "submitted"}
                    for v in p["votes"]
                ]
            },
        }
        for p in pairs
    ]
