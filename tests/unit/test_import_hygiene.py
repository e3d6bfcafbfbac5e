"""The domain imports without Textual, litellm or torch (harlequin's test_import_hygiene idea)."""

import json
import subprocess
import sys

DOMAIN = [
    "genaicompare",
    "genaicompare.catalog",
    "genaicompare.providers",
    "genaicompare.store",
    "genaicompare.records",
    "genaicompare.sanitize",
    "genaicompare.paths",
    "genaicompare.cli",
]
HEAVY = ["textual", "litellm", "torch", "sentence_transformers", "detoxify", "llama_cpp"]


def test_domain_imports_without_textual_litellm_or_torch():
    code = (
        "import importlib, json, sys\n"
        f"for m in {DOMAIN!r}: importlib.import_module(m)\n"
        f"print(json.dumps([h for h in {HEAVY!r} if h in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
