"""promptfoo configs (``promptfooconfig.yaml``) in and out.

Import: ``prompts`` (strings, ``file://`` text and chat JSON files, ``{raw, label}`` objects) ×
``providers`` (ids mapped to litellm model strings where the mapping is clear) × ``tests``
(inline, or ``file://`` CSV / JSONL / YAML; ``vars`` with list values expanded as promptfoo does;
``defaultTest`` merged in). One catalog prompt per prompt × test. Assertions are mapped where
genaicompare's means the same; everything else is listed with its position, one line each.

Export: a catalog → a config promptfoo runs. A catalog whose prompts all use one template becomes
that template × one test per prompt; any other catalog becomes one chat prompt
(``{{ __messages | dump }}``, which promptfoo parses as a chat) and a test per prompt carrying its
rendered messages — what each model would be sent, system prompt, few-shot and context included.
What does not map (models without a promptfoo provider, assertions promptfoo lacks) is listed.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genaicompare.interop.report import ImportReport
from genaicompare.interop.writing import Imported, slug, unique

Loc = tuple[str | int, ...]
Locate = Callable[[Loc], tuple[int, int] | None]
_Test = tuple[dict[str, Any], Locate, Path, Loc]

MESSAGES_VAR = "__messages"
MESSAGES_PROMPT = "{{ " + MESSAGES_VAR + " | dump }}"
"""The chat prompt an exported config uses when the catalog has no single template."""

# promptfoo provider prefix → litellm prefix (only where the mapping is clear).
_PROVIDERS: dict[str, str] = {
    "openai:chat:": "openai/",
    "openai:": "openai/",
    "anthropic:messages:": "anthropic/",
    "anthropic:": "anthropic/",
    "google:": "gemini/",
    "vertex:": "vertex_ai/",
    "ollama:chat:": "ollama_chat/",
    "ollama:completion:": "ollama/",
    "ollama:": "ollama/",
    "mistral:": "mistral/",
    "groq:": "groq/",
    "bedrock:": "bedrock/",
    "azure:chat:": "azure/",
    "openrouter:": "openrouter/",
    "deepseek:": "deepseek/",
    "togetherai:": "together_ai/",
}
# litellm prefix → promptfoo prefix, for export.
_TO_PROMPTFOO: dict[str, str] = {
    "openai/": "openai:",
    "anthropic/": "anthropic:messages:",
    "gemini/": "google:",
    "vertex_ai/": "vertex:",
    "ollama_chat/": "ollama:chat:",
    "ollama/": "ollama:completion:",
    "mistral/": "mistral:",
    "groq/": "groq:",
    "bedrock/": "bedrock:",
    "azure/": "azure:chat:",
    "openrouter/": "openrouter:",
    "deepseek/": "deepseek:",
    "together_ai/": "togetherai:",
}
_PARAMS = {
    "temperature": "temperature",
    "max_tokens": "max_tokens",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NUNJUCKS = re.compile(r"\{%|\{#|\{\{(?!\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})")
_TOP_LEVEL = {"description", "prompts", "providers", "tests", "defaultTest"}
_TEST_KEYS = {"description", "vars", "assert", "options", "metadata"}
_REFERENCE_ASSERTS = {"similar": "similarity", "rouge-n": "rouge1", "bleu": "bleu"}
_DEFAULT_THRESHOLD = {"similar": 0.75, "rouge-n": 0.75, "bleu": 0.5}


def map_provider(provider_id: str) -> str | None:
    """litellm model string for a promptfoo provider id, or None when the mapping is unclear."""
    for prefix, target in _PROVIDERS.items():
        if provider_id.startswith(prefix) and len(provider_id) > len(prefix):
            return target + provider_id[len(prefix) :]
    return None


def _fmt(x: float) -> str:
    return f"{x:g}"


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.report = ImportReport()
        self.judge_model: str | None = None

    # -- files ----------------------------------------------------------------------------------
    def _data(self, path: Path) -> tuple[Any, Locate]:
        from genaicompare.catalog.yaml_reader import _yaml_data  # lazy: ruamel

        data, locate = _yaml_data(_read(path), path)
        return data, lambda loc: locate(loc, False)

    def _file(self, ref: str) -> Path:
        return self.path.parent / ref.removeprefix("file://")

    def skip(
        self, locate: Locate, loc: Loc, message: str, path: Path | None = None, prefix: Loc = ()
    ) -> None:
        self.report.skip(path or self.path, locate(loc), _dotted((*prefix, *loc)), message)

    # -- the config -----------------------------------------------------------------------------
    def read(self) -> Imported:
        from genaicompare.catalog.model import CatalogError

        text = _read(self.path)
        from genaicompare.catalog.yaml_reader import _yaml_data  # lazy: ruamel

        try:
            data, raw_locate = _yaml_data(text, self.path)
        except CatalogError as exc:
            if "top level must be a mapping" in exc.message:
                raise CatalogError(
                    self.path, "a promptfoo config is a mapping (prompts, providers, tests)", 1, 1
                ) from None
            raise

        def locate(loc: Loc) -> tuple[int, int] | None:
            return raw_locate(loc, False)

        for key in data:
            if key not in _TOP_LEVEL:
                self.report.skip(self.path, raw_locate((key,), True), key, "not a catalog field")
        name = str(data.get("description") or self.path.stem)
        prompts = self._prompts(data.get("prompts"), locate)
        models = self._providers(data.get("providers"), locate)
        default = data.get("defaultTest") or {}
        if isinstance(default, str):
            default, dlocate = self._data(self._file(default))
        else:
            dlocate = lambda loc: locate(("defaultTest", *loc))  # noqa: E731
        tests = self._tests(data.get("tests"), locate)
        grader = ((default.get("options") or {}) if isinstance(default, dict) else {}).get(
            "provider"
        )
        self.judge_model = map_provider(grader) if isinstance(grader, str) else None
        out_prompts: list[dict[str, Any]] = []
        templates: dict[str, str] = {}
        taken: set[str] = set()
        unused: dict[str, tuple[Locate, Loc, Path, Loc]] = {}
        rubric_seen = False
        for t_index, (test, tlocate, tpath, tprefix) in enumerate(tests):
            for key in test:
                if key not in _TEST_KEYS:
                    self.skip(tlocate, (key,), "not a catalog field", tpath, tprefix)
            metadata = test.get("metadata") or {}
            base_vars = {**(default.get("vars") or {}), **(test.get("vars") or {})}
            base_id = str(test.get("description") or metadata.get("id") or f"test-{t_index + 1}")
            for v_index, values in enumerate(self._expand(base_vars, tlocate, tpath, tprefix)):
                asserts: dict[str, Any] = {}
                refs: list[str] = []
                sources: list[tuple[Any, Locate, Loc, Path, Loc]] = [
                    (a, dlocate, ("assert", i), self.path, ("defaultTest",))
                    for i, a in enumerate(default.get("assert") or [])
                ]
                sources += [
                    (a, tlocate, ("assert", i), tpath, tprefix)
                    for i, a in enumerate(test.get("assert") or [])
                ]
                for spec, alocate, aloc, apath, aprefix in sources:
                    if self._assertion(spec, values, asserts, refs, alocate, aloc, apath, aprefix):
                        rubric_seen = True
                for p_label, kind, body in prompts:
                    pid = base_id if v_index == 0 else f"{base_id}-{v_index + 1}"
                    if len(prompts) > 1:
                        pid = f"{pid}-{p_label}"
                    entry: dict[str, Any] = {"id": unique(slug(pid, f"test-{t_index + 1}"), taken)}
                    used = self._prompt_entry(entry, p_label, kind, body, values, templates)
                    for var in values:
                        if var not in used and var != MESSAGES_VAR:
                            unused.setdefault(var, (tlocate, ("vars", var), tpath, tprefix))
                    if refs:
                        entry["reference"] = refs[0]
                        if len(refs) > 1:
                            entry["references"] = refs
                    elif isinstance(metadata.get("reference"), str):
                        entry["reference"] = metadata["reference"]
                    if isinstance(metadata.get("tags"), list):
                        entry["tags"] = [str(t) for t in metadata["tags"]]
                    if asserts:
                        entry["assert"] = dict(asserts)
                    out_prompts.append(entry)
                    self.report.count("prompts")
            for key in metadata:
                if key not in ("reference", "tags", "id"):
                    self.skip(tlocate, ("metadata", key), "promptfoo metadata", tpath, tprefix)
        for vlocate, loc, vpath, vprefix in unused.values():
            self.skip(vlocate, loc, "used by no prompt", vpath, vprefix)
        catalog: dict[str, Any] = {"name": name, "version": "1"}
        if models:
            catalog["models"] = models
        if templates:
            catalog["templates"] = templates
        catalog["prompts"] = out_prompts
        if rubric_seen and self.judge_model:
            catalog["judge"] = {"model": self.judge_model, "mode": "score"}
        return Imported(catalog=catalog, report=self.report)

    # -- prompts --------------------------------------------------------------------------------
    def _prompts(self, raw: Any, locate: Locate) -> list[tuple[str, str, Any]]:
        """``(label, kind, body)``: kind ``text`` (a template string) or ``chat`` (messages)."""
        items = [raw] if isinstance(raw, (str, dict)) and not _is_label_map(raw) else raw
        if _is_label_map(raw):
            items = [{"raw": k, "label": v} for k, v in raw.items()]
        out: list[tuple[str, str, Any]] = []
        labels: set[str] = set()
        for i, item in enumerate(items or []):
            loc: Loc = ("prompts", i)
            label: str | None = None
            if isinstance(item, dict):
                for key in item:
                    if key not in ("raw", "label", "id"):
                        self.skip(locate, (*loc, key), "prompt option")
                label = item.get("label") or item.get("id")
                item = item.get("raw")
            if not isinstance(item, str):
                self.skip(locate, loc, "a prompt must be text, a file:// path or chat JSON")
                continue
            bodies: list[tuple[str, Any]] = []
            if item.startswith("file://"):
                file = self._file(item)
                suffix = file.suffix.lower()
                if suffix in (".py", ".js", ".ts", ".mjs", ".cjs") or ":" in item[7:]:
                    self.skip(locate, loc, f"{item}: prompt functions are code")
                    continue
                try:
                    body = _read(file)
                except OSError as exc:
                    self.skip(locate, loc, f"{item}: {exc.strerror or exc}")
                    continue
                if suffix == ".json" or (suffix in (".yaml", ".yml")):
                    bodies.append(("chat", body))
                else:
                    parts = re.split(r"^---$", body, flags=re.M) if suffix == ".txt" else [body]
                    bodies += [("text", p.strip("\n")) for p in parts if p.strip()]
                default_label = file.stem
            else:
                stripped = item.strip()
                bodies.append(("chat" if stripped.startswith("[") else "text", item))
                default_label = f"prompt-{i + 1}"
            for j, (kind, body) in enumerate(bodies):
                if kind == "chat":
                    messages = _chat(body)
                    if messages is None:
                        self.skip(locate, loc, "chat prompt is not a list of {role, content}")
                        continue
                    texts = [m["content"] for m in messages]
                else:
                    if body.strip() == MESSAGES_PROMPT:
                        kind, messages, texts = "messages", None, []
                    else:
                        messages, texts = None, [body]
                if any(_NUNJUCKS.search(t) for t in texts):
                    self.skip(
                        locate, loc, "Nunjucks tags, filters or expressions (only {{var}} maps)"
                    )
                    continue
                name = slug(str(label or default_label), f"prompt-{i + 1}")
                name = unique(name if j == 0 else f"{name}-{j + 1}", labels)
                out.append((name, kind, messages if kind == "chat" else body))
                self.report.count("templates" if kind == "text" else "chat prompts")
        return out

    def _prompt_entry(
        self,
        entry: dict[str, Any],
        label: str,
        kind: str,
        body: Any,
        values: dict[str, Any],
        templates: dict[str, str],
    ) -> set[str]:
        """Fill ``entry``'s prompt fields; return the variables the prompt uses."""
        from genaicompare.catalog.model import fill_template

        if kind == "messages":
            messages = values.get(MESSAGES_VAR)
            entry["messages"] = messages if isinstance(messages, list) else []
            return {MESSAGES_VAR}
        if kind == "chat":
            used = {n for m in body for n in _PLACEHOLDER.findall(m["content"])}
            fill = {n: _text(values.get(n, "")) for n in used}
            entry["messages"] = [
                {"role": m["role"], "content": fill_template(m["content"], fill)} for m in body
            ]
            return used
        used = set(_PLACEHOLDER.findall(body))
        if not used:
            entry["prompt"] = body
            return used
        templates[label] = body
        entry["template"] = label
        entry["vars"] = {n: _scalar(values.get(n, "")) for n in sorted(used)}
        return used

    # -- providers ------------------------------------------------------------------------------
    def _providers(self, raw: Any, locate: Locate) -> list[dict[str, Any]]:
        items = [raw] if isinstance(raw, (str, dict)) else raw
        if (
            isinstance(raw, dict)
            and all(isinstance(v, dict) for v in raw.values())
            and "id" not in raw
        ):
            items = [{"id": k, **v} for k, v in raw.items()]
        out: list[dict[str, Any]] = []
        taken: set[str] = set()
        for i, item in enumerate(items or []):
            loc: Loc = ("providers", i)
            config: dict[str, Any] = {}
            label = None
            if isinstance(item, dict):
                pid, label, config = item.get("id"), item.get("label"), item.get("config") or {}
                for key in item:
                    if key not in ("id", "label", "config"):
                        self.skip(locate, (*loc, key), "provider option")
            else:
                pid = item
            model = map_provider(pid) if isinstance(pid, str) else None
            if model is None:
                self.skip(locate, loc, f"provider {pid!r} has no clear litellm model string")
                continue
            spec: dict[str, Any] = {
                "id": unique(
                    slug(str(label or model.split("/", 1)[1]), f"model-{i + 1}")[:64], taken
                ),
                "model": model,
            }
            params: dict[str, Any] = {}
            for key, value in config.items():
                if key in _PARAMS:
                    params[_PARAMS[key]] = value
                elif key == "apiBaseUrl" and isinstance(value, str):
                    spec["api_base"] = value
                elif key == "apiKeyEnvar" and isinstance(value, str):
                    spec["api_key_env"] = value
                else:
                    self.skip(locate, (*loc, "config", key), "provider config option")
            if params:
                spec["params"] = params
            out.append(spec)
            self.report.count("models")
        return out

    # -- tests ----------------------------------------------------------------------------------
    def _tests(self, raw: Any, locate: Locate) -> list[_Test]:
        items = [raw] if isinstance(raw, str) else raw or []
        out: list[_Test] = []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                out.append((item, _under(locate, ("tests", i)), self.path, ("tests", i)))
            elif isinstance(item, str) and item.startswith("file://"):
                out += self._test_file(
                    self._file(item), locate, ("tests", i) if items is raw else ("tests",)
                )
            else:
                self.skip(locate, ("tests", i), "a test must be a mapping or a file:// path")
        return out

    def _test_file(self, file: Path, locate: Locate, loc: Loc) -> list[_Test]:
        try:
            text = _read(file)
        except OSError as exc:
            self.skip(locate, loc, f"{file}: {exc.strerror or exc}")
            return []
        suffix = file.suffix.lower()
        if suffix == ".csv":
            return self._csv_tests(file, text)
        if suffix == ".jsonl":
            out: list[_Test] = []
            for n, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    obj = json.loads(line)
                    out.append((obj, _fixed({}, (n, 1)), file, (f"line {n}",)))
            return out
        if suffix in (".yaml", ".yml", ".json"):
            data, flocate = self._data(file)
            data = data if isinstance(data, list) else [data]
            return [(t, _under(flocate, (i,)), file, (i,)) for i, t in enumerate(data)]
        self.skip(locate, loc, f"{file.name}: test files must be CSV, JSONL, YAML or JSON")
        return []

    def _csv_tests(self, file: Path, text: str) -> list[_Test]:
        rows = list(csv.reader(text.splitlines()))
        if not rows:
            return []
        header: list[str] = rows[0]
        out: list[_Test] = []
        for r, row in enumerate(rows[1:], 2):
            test: dict[str, Any] = {"vars": {}, "assert": []}
            positions: dict[Loc, tuple[int, int]] = {}
            for k, (name, value) in enumerate(zip(header, row, strict=False)):
                pos = (r, _csv_col(text, r - 1, k))
                if name.startswith("__expected"):
                    if value:
                        positions[("assert", len(test["assert"]))] = pos
                        test["assert"].append(_expected(value))
                elif name == "__description":
                    test["description"] = value
                elif name.startswith("__"):
                    self.report.skip(file, pos, name, "promptfoo CSV column")
                else:
                    positions[("vars", name)] = pos
                    test["vars"][name] = value
            out.append((test, _fixed(positions, (r, 1)), file, (f"row {r}",)))
        return out

    def _expand(
        self, values: dict[str, Any], locate: Locate, path: Path, prefix: Loc
    ) -> list[dict[str, Any]]:
        """promptfoo runs a test once per combination of list-valued vars."""
        fixed: dict[str, Any] = {}
        lists: dict[str, list[Any]] = {}
        for name, value in values.items():
            if isinstance(value, str) and value.startswith("file://"):
                try:
                    value = _read(self._file(value))
                except OSError as exc:
                    self.skip(
                        locate, ("vars", name), f"{value}: {exc.strerror or exc}", path, prefix
                    )
                    continue
            if name == MESSAGES_VAR or isinstance(value, (str, int, float, bool)):
                fixed[name] = value
            elif isinstance(value, list) and all(
                isinstance(v, (str, int, float, bool)) for v in value
            ):
                lists[name] = value
            else:
                self.skip(locate, ("vars", name), "objects as variables", path, prefix)
        if not lists:
            return [fixed]
        names = list(lists)
        return [
            {**fixed, **dict(zip(names, combo, strict=True))}
            for combo in itertools.product(*lists.values())
        ]

    # -- assertions -----------------------------------------------------------------------------
    def _assertion(
        self,
        spec: Any,
        values: dict[str, Any],
        asserts: dict[str, Any],
        refs: list[str],
        locate: Locate,
        loc: Loc,
        path: Path,
        prefix: Loc = (),
    ) -> bool:
        """Map one promptfoo assertion into ``asserts``/``refs``; True for an llm-rubric."""
        from genaicompare.catalog.model import fill_template

        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            self.skip(locate, loc, "an assertion is a mapping with a type", path, prefix)
            return False
        kind: str = spec["type"]
        value = spec.get("value")
        threshold = spec.get("threshold")
        if isinstance(value, str):
            needed = set(_PLACEHOLDER.findall(value))
            if needed <= set(values):
                value = fill_template(value, {n: _text(values[n]) for n in needed})
        for key in spec:
            if key not in ("type", "value", "threshold"):
                self.skip(locate, (*loc, key), f"assertion option of {kind}", path, prefix)

        def put(name: str, condition: Any) -> None:
            if name in asserts and asserts[name] != condition:
                self.skip(
                    locate, loc, f"{kind}: a second '{name}' check on one prompt", path, prefix
                )
                return
            asserts[name] = condition
            self.report.count("assertions")

        if kind in ("contains", "icontains", "equals", "regex", "not-contains") and isinstance(
            value, str
        ):
            put(kind.replace("-", "_"), value)
        elif kind == "starts-with" and isinstance(value, str):
            put("regex", "^" + re.escape(value))
        elif kind in ("contains-any", "icontains-any", "contains-all", "icontains-all") and (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        ):
            flags = "(?is)" if kind.startswith("i") else "(?s)"
            if kind.endswith("any"):
                put("regex", flags + "|".join(re.escape(v) for v in value))
            else:
                put("regex", flags + "^" + "".join(f"(?=.*{re.escape(v)})" for v in value))
        elif kind in _REFERENCE_ASSERTS and isinstance(value, str):
            t = (
                float(threshold)
                if isinstance(threshold, (int, float))
                else _DEFAULT_THRESHOLD[kind]
            )
            if refs and value not in refs and kind != "similar":
                self.skip(locate, loc, f"{kind} against a second expected text", path, prefix)
                return False
            if value not in refs:
                refs.append(value)
            if kind == "similar" and refs[0] != value:
                self.skip(locate, loc, "similar against a second expected text", path, prefix)
                return False
            put(_REFERENCE_ASSERTS[kind], f">= {_fmt(t * 100 if kind == 'bleu' else t)}")
        elif kind in ("latency", "cost") and isinstance(threshold, (int, float)):
            put("latency_ms" if kind == "latency" else "cost_usd", f"<= {_fmt(threshold)}")
        elif kind == "llm-rubric":
            how = (
                f"judged by {self.judge_model} (catalog judge:)"
                if self.judge_model
                else "no defaultTest.options.provider genaicompare can call; add judge.model"
            )
            self.skip(
                locate,
                loc,
                "llm-rubric: the rubric text (genaicompare's judge scores helpfulness, relevance, "
                f"accuracy and detail; {how})",
                path,
                prefix,
            )
            return True
        elif kind == "levenshtein":
            self.skip(
                locate, loc, "levenshtein: genaicompare has no edit-distance metric", path, prefix
            )
        else:
            self.skip(locate, loc, f"assertion type {kind}", path, prefix)
        return False


def import_config(path: str | Path) -> Imported:
    """Read a promptfoo config into catalog data and a report."""
    return _Reader(Path(path)).read()


# -- export -------------------------------------------------------------------------------------
def export_config(catalog: Any) -> tuple[dict[str, Any], list[str]]:
    """A promptfoo config for ``catalog`` (a :class:`~genaicompare.catalog.Catalog`), and what did
    not map, one line each."""
    missing: list[str] = []
    providers: list[dict[str, Any]] = []
    for m in catalog.models:
        pid = next(
            (to + m.model[len(fr) :] for fr, to in _TO_PROMPTFOO.items() if m.model.startswith(fr)),
            None,
        )
        if pid is None:
            missing.append(f"models.{m.id}: {m.model} has no promptfoo provider")
            continue
        provider: dict[str, Any] = {"id": pid, "label": m.id}
        config = dict(catalog.params_for(m))
        if m.api_base:
            config["apiBaseUrl"] = m.api_base
        if m.api_key_env:
            config["apiKeyEnvar"] = m.api_key_env
        if m.system is not None:
            missing.append(f"models.{m.id}.system: a model's own system prompt")
        if config:
            provider["config"] = config
        providers.append(provider)
    templates = {p.template for p in catalog.prompts}
    single = (
        len(templates) == 1
        and None not in templates
        and catalog.defaults.system is None
        and all(not p.system and not p.few_shot and not p.context for p in catalog.prompts)
    )
    tests: list[dict[str, Any]] = []
    for p in catalog.prompts:
        test: dict[str, Any] = {"description": p.id}
        if single:
            test["vars"] = dict(p.vars)
        else:
            test["vars"] = {MESSAGES_VAR: catalog.render(p).messages}
        asserts, metadata = _export_asserts(p, missing)
        if asserts:
            test["assert"] = asserts
        if metadata:
            test["metadata"] = metadata
        tests.append(test)
    prompts: list[Any]
    if single:
        name = next(iter(templates))
        prompts = [{"label": name, "raw": catalog.templates[name]}]
    else:
        prompts = [{"label": "messages", "raw": MESSAGES_PROMPT}]
    if catalog.judge is not None:
        missing.append("judge: promptfoo grades with llm-rubric assertions, which need a rubric")
    config = {
        "description": catalog.name,
        "prompts": prompts,
        "providers": providers,
        "tests": tests,
    }
    return config, missing


def _export_asserts(p: Any, missing: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    out: list[dict[str, Any]] = []
    metadata: dict[str, Any] = {}
    reference_used = False
    metric_names = {v: k for k, v in _REFERENCE_ASSERTS.items()}
    for name, cond in (p.assert_ or {}).items():
        if (
            name in ("contains", "icontains", "equals", "regex", "not_contains")
            and isinstance(cond, str)
            and not re.match(r"^\s*[<>=!]", cond)
        ):
            out.append({"type": name.replace("_", "-"), "value": cond})
            continue
        m = re.match(r"^\s*(>=|<=)\s*([-+0-9.eE]+)\s*$", str(cond))
        if name in metric_names and m and m.group(1) == ">=" and p.reference is not None:
            t = float(m.group(2))
            kind = metric_names[name]
            out.append(
                {"type": kind, "value": p.reference, "threshold": t / 100 if kind == "bleu" else t}
            )
            reference_used = True
        elif name in ("latency_ms", "cost_usd") and m and m.group(1) == "<=":
            out.append(
                {
                    "type": "latency" if name == "latency_ms" else "cost",
                    "threshold": float(m.group(2)),
                }
            )
        else:
            missing.append(f"prompts.{p.id}.assert.{name}: {cond!r} has no promptfoo assertion")
    if p.reference is not None and not reference_used:
        metadata["reference"] = p.reference
    if p.tags:
        metadata["tags"] = list(p.tags)
    return out, metadata


# -- helpers ------------------------------------------------------------------------------------
def _under(locate: Locate, prefix: Loc) -> Locate:
    """``locate`` for paths inside the value at ``prefix``."""
    return lambda loc: locate((*prefix, *loc))


def _fixed(positions: dict[Loc, tuple[int, int]], default: tuple[int, int]) -> Locate:
    """Positions of a row-shaped test (CSV cells, a JSONL line)."""
    return lambda loc: positions.get(loc[:2], default)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in loc)


def _is_label_map(raw: Any) -> bool:
    return (
        isinstance(raw, dict)
        and not ({"raw", "label", "id"} & set(raw))
        and all(isinstance(v, str) for v in raw.values())
    )


def _chat(body: str) -> list[dict[str, str]] | None:
    try:
        data = json.loads(body)
    except ValueError:
        try:
            from genaicompare.catalog.yaml_reader import _yaml_data

            data, _ = _yaml_data(body, Path("prompt"))
        except Exception:
            return None
    if not isinstance(data, list) or not data:
        return None
    ok = all(
        isinstance(m, dict)
        and m.get("role") in ("system", "user", "assistant")
        and isinstance(m.get("content"), str)
        and set(m) == {"role", "content"}
        for m in data
    )
    return [{"role": m["role"], "content": m["content"]} for m in data] if ok else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) else _text(value)


_EXPECTED = re.compile(r"^(?P<type>[a-z][a-z-]*)(?:\((?P<t>[0-9.]+)\))?:\s?(?P<value>.*)$", re.S)


def _expected(cell: str) -> dict[str, Any]:
    """A promptfoo CSV ``__expected`` cell: ``type: value``, ``type(threshold): value``, or a
    bare value (equals). ``grade:`` is llm-rubric."""
    m = _EXPECTED.match(cell)
    if not m or m.group("type") in ("http", "https"):
        return {"type": "equals", "value": cell}
    kind = {"grade": "llm-rubric", "fn": "javascript", "eval": "javascript"}.get(
        m.group("type"), m.group("type")
    )
    spec: dict[str, Any] = {"type": kind}
    value = m.group("value")
    if kind.endswith(("-any", "-all")):
        spec["value"] = [v.strip() for v in next(csv.reader([value]))]
    elif value:
        spec["value"] = value
    if m.group("t"):
        spec["threshold"] = float(m.group("t"))
    return spec


def _csv_col(text: str, row: int, cell: int) -> int:
    """1-based column of cell ``cell`` on line ``row`` (0-based) of simple CSV text."""
    lines = text.splitlines()
    if row >= len(lines):
        return 1
    line, col, k, quoted = lines[row], 0, 0, False
    while col < len(line) and k < cell:
        ch = line[col]
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            k += 1
        col += 1
    return col + 1
