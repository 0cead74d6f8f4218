"""Repository promises: the README's test command is exactly what CI runs."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'python -m pip install ".[test]" && python -m pytest'


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in readme
    assert TEST_COMMAND in ci.splitlines()  # the README's command, as is
    assert "python -m pytest -m slow" in ci.splitlines()  # and the slow end-to-end runs
    assert "python -m pip install . && siting rank --out ranking/" in readme
    assert "siting rank --out ranking/" in ci


def test_layer_reference_doc_is_generated_from_the_schema():
    from siting.schema import schema_markdown

    doc = (REPO / "docs" / "layers.md").read_text(encoding="utf-8")
    assert doc.strip() == schema_markdown().strip(), (
        "docs/layers.md is stale: regenerate with `siting layers --schema > docs/layers.md`"
    )
