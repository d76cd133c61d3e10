"""docs/marketing.md's tables are the worked examples as the engine prices them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newretail.marketing import doc_table

DOCUMENT = Path(__file__).parents[2] / "docs" / "marketing.md"


def test_docs_marketing_shows_the_tables_the_worked_examples_produce() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")

    # (regenerate: python -m newretail.marketing.doc_table --write docs/marketing.md)
    assert doc_table.replace_tables(text) == text


def test_writing_the_tables_replaces_only_the_marked_section(tmp_path: Path) -> None:
    document = tmp_path / "offers.md"
    document.write_text(f"# Offers\n\n{doc_table.START}\nstale\n{doc_table.END}\n\nAfter.\n")

    doc_table.main(["--write", str(document)])

    assert document.read_text() == (
        f"# Offers\n\n{doc_table.START}\n{doc_table.render_tables()}\n{doc_table.END}\n\nAfter.\n"
    )


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_the_tables_do_not_depend_on_the_process_hash_seed(seed: str) -> None:
    # a till and a server price in different processes: set order must not leak in
    done = subprocess.run(
        [sys.executable, "-m", "newretail.marketing.doc_table"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": seed},
        timeout=120,
    )

    assert done.stdout == doc_table.render_tables() + "\n"


def test_a_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="pricing-tables:start"):
        doc_table.replace_tables("# Offers\n")
