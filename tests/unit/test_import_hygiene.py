"""Import boundaries (harlequin's test_import_hygiene idea), checked in fresh interpreters.

* The domain imports without Textual, litellm or torch.
* The TUI's modules import without litellm, torch or the embedding/toxicity stacks: those load in
  the background after the first paint, never on the path to it.
"""

import json
import subprocess
import sys

import pytest

DOMAIN = [
    "genaicompare",
    "genaicompare.catalog",
    "genaicompare.providers",
    "genaicompare.providers.collect",
    "genaicompare.providers.backends.litellm",
    "genaicompare.providers.backends.openai_compat",
    "genaicompare.session.comparison",
    "genaicompare.session.headless",
    "genaicompare.store",
    "genaicompare.core.records",
    "genaicompare.core.sanitize",
    "genaicompare.core.paths",
    "genaicompare.metrics",
    "genaicompare.ratings",
    "genaicompare.scoring",
    "genaicompare.exports",
    "genaicompare.gate",
    "genaicompare.gate.reports",
    "genaicompare.gate.verdict",
    "genaicompare.session.evaluation",
    "genaicompare.config",
    "genaicompare.cli",
]
HEAVY = ["litellm", "torch", "sentence_transformers", "detoxify", "llama_cpp", "transformers"]
APP = ["genaicompare.app.app", "genaicompare.commands.tui"]


def loaded_after_import(modules: list[str], watch: list[str]) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(json.dumps([h for h in {watch!r} if h in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_domain_imports_without_textual_litellm_or_torch():
    assert loaded_after_import(DOMAIN, ["textual", *HEAVY]) == []


@pytest.mark.parametrize("module", APP)
def test_tui_modules_import_without_litellm_or_torch(module):
    assert loaded_after_import([module], HEAVY) == []


def fresh_interpreter(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_store_does_not_import_pandas() -> None:
    # sqlite-utils would import pandas (0.5–2 s) for a column type we never insert; pandas still
    # imports and works afterwards
    code = (
        "import sys, genaicompare.store; "
        "assert 'pandas' not in sys.modules, 'pandas imported'; "
        "import pandas; print(pandas.DataFrame({'a': [1]}).shape)"
    )
    assert fresh_interpreter(code) == "(1, 1)"


def test_nltk_for_meteor_does_not_import_scipy() -> None:
    # nltk's import pulls scipy.stats (1.5–3 s) for statistics METEOR never uses; the stemmer is
    # nltk's own, and scipy still imports afterwards
    code = (
        "import sys; from genaicompare.metrics._nltk import porter_stemmer; "
        "s = porter_stemmer(); assert 'scipy' not in sys.modules, 'scipy imported'; "
        "from nltk.stem.porter import PorterStemmer; import scipy.stats; "
        "words = ['running', 'generously', 'happiness', 'cats', 'dying', 'oed']; "
        "print([s.stem(w) for w in words] == [PorterStemmer().stem(w) for w in words])"
    )
    assert fresh_interpreter(code) == "True"


# What the TUI's loading thread does between the first paint and the main screen (app.py's
# _load_in_thread): settings, the catalog with its ``assert`` entries checked, the main screen's
# module and its rows. None of these is needed there: numpy and rapidfuzz (the metrics engine,
# ≈0.2 s; the assert grammar and the metric names are light), sqlite-utils (the store opens after
# the main screen), Textual's Markdown widget (markdown_it and Pygments, ≈0.1 s: the panes mount
# it with their first finished answer), litellm and the models.
NOT_BEFORE_MAIN_SCREEN = [
    "numpy",
    "rapidfuzz",
    "sqlite_utils",
    "pandas",
    "markdown_it",
    "pygments",
    *HEAVY,
]


def _launch_quickstart(home: object) -> str:
    """Code for a fresh interpreter: the TUI's loading steps on the quickstart → ``launched``."""
    return (
        "import argparse, json, os, sys\n"
        f"os.environ['GENAICOMPARE_HOME'] = {str(home)!r}\n"
        "from genaicompare.commands import tui\n"
        "parser = argparse.ArgumentParser(); tui.add_arguments(parser)\n"
        "path = 'sample_catalogs/quickstart.yaml'\n"
        "launched = tui.launch(parser.parse_args([path]), path)\n"
    )


def test_the_main_screen_is_built_without_numpy_sqlite_utils_or_markdown(tmp_path) -> None:
    code = _launch_quickstart(tmp_path) + (
        "assert any(p.assert_ for p in launched.catalog.prompts)  # the check ran\n"
        "from genaicompare.app.themes import discover_themes_or_error\n"
        "discover_themes_or_error()\n"
        "from genaicompare.app.screens.main import prompt_rows\n"
        "prompt_rows(launched.catalog)\n"
        f"print(json.dumps([m for m in {NOT_BEFORE_MAIN_SCREEN!r} if m in sys.modules]))\n"
    )
    assert json.loads(fresh_interpreter(code).splitlines()[-1]) == []


def test_a_streaming_pane_s_metrics_are_drawn_without_the_metrics_engine(tmp_path) -> None:
    """While the first tokens stream, the metrics matrix redraws on the UI thread: the engine
    (numpy, rapidfuzz) loads on the metrics thread with the first finished answer, not there."""
    code = _launch_quickstart(tmp_path) + (
        "prompt = next(p for p in launched.catalog.prompts if p.assert_)\n"
        "from genaicompare.app.widgets.metrics_matrix import column\n"
        "from genaicompare.session.slots import Slot\n"
        "slot = Slot(0, 'terse', lambda s: None)\n"
        "slot.state = 'streaming'\n"
        "queued = column('terse', None, 0, prompt)\n"
        "live = column('terse', slot, 7, prompt)\n"
        "assert live.live and live.values['tokens_out'] == 7.0 and live.assertions is None\n"
        "print(json.dumps([m for m in ['numpy', 'rapidfuzz', 'genaicompare.metrics.lexical',\n"
        "    'genaicompare.metrics.engine', 'genaicompare.gate'] if m in sys.modules]))\n"
    )
    assert json.loads(fresh_interpreter(code).splitlines()[-1]) == []


def test_a_bad_assert_metric_is_still_refused_without_the_engine(tmp_path) -> None:
    catalog = tmp_path / "c.yaml"
    catalog.write_text(
        "name: c\nmodels: [{id: a, model: openai/x}]\n"
        "prompts:\n  - {id: p, prompt: hi, assert: {no_such_metric: '> 1'}}\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from genaicompare.commands._common import load_with_models\n"
        "from genaicompare.core.errors import KnownError\n"
        f"try: load_with_models({str(catalog)!r}, [], False)\n"
        "except KnownError as exc: print(exc)\n"
        "print('numpy' in sys.modules)\n"
    )
    out = fresh_interpreter(code).splitlines()
    assert "c.yaml:4:" in out[0] and "no_such_metric" in out[0], out
    assert out[-1] == "False"


def test_a_command_imports_only_its_own_module(tmp_path) -> None:
    """``genaicompare scores`` parses its arguments without importing ``run``'s module (the
    catalog's pydantic models, the providers: ≈0.35 s of every command's start)."""
    code = (
        "import json, os, sys\n"
        f"os.environ['GENAICOMPARE_HOME'] = {str(tmp_path)!r}\n"
        "from genaicompare.cli import main\n"
        f"main(['scores', 'none', '--db', {str(tmp_path / 'g.db')!r}])\n"
        "print(json.dumps(sorted(m for m in ('pydantic', 'genaicompare.commands.run',\n"
        "    'genaicompare.commands.export', 'genaicompare.session.headless')\n"
        "    if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "no such catalog file" in out.stderr, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
