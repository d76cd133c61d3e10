"""The CSV import toolkit: rows numbered as a spreadsheet shows them, cells stripped, a file
without a required column refused before any row, every rejected row recorded."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest

from newretail.core.csvimport import (
    ImportReport,
    RejectedRow,
    RowError,
    count_rows,
    decimal_amount,
    in_batches,
    read_file,
    read_rows,
    required,
    whole_number,
)
from newretail.core.errors import InvalidInput


def test_rows_are_numbered_from_2_with_stripped_cells_and_a_bom_ignored(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes('\ufeff sku , quantity\nA1 , 3\n"B 2"," 4 "\n'.encode())
    assert list(read_file(path, ["sku", "quantity"])) == [
        (2, {"sku": "A1", "quantity": "3"}),
        (3, {"sku": "B 2", "quantity": "4"}),
    ]


def test_a_missing_column_is_refused_before_any_row() -> None:
    rows = read_rows(io.StringIO("sku,qty\nA1,3\n"), ["sku", "quantity", "location"])
    with pytest.raises(InvalidInput) as raised:
        next(rows)
    assert (raised.value.field, raised.value.message) == (
        "header",
        "missing columns: quantity, location",
    )


def test_count_rows_counts_records_not_lines(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('name,note\na,"two\nlines"\nb,one\n', encoding="utf-8")
    assert count_rows(path) == 2
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert count_rows(tmp_path / "empty.csv") == 0


def test_cell_rules_name_the_column_and_the_reason() -> None:
    row = {"quantity": "0", "price": "-1", "name": "", "big": "2000001", "nan": "NaN"}
    faults = []
    for check in (
        lambda: required(row, "name"),
        lambda: whole_number(row, "quantity", 1_000_000),
        lambda: whole_number(row, "big", 1_000_000),
        lambda: whole_number(row, "price", 10),
        lambda: decimal_amount(row, "price", Decimal(100)),
        lambda: decimal_amount(row, "nan", Decimal(100)),
        lambda: decimal_amount({"p": "100"}, "p", Decimal(100)),
    ):
        with pytest.raises(RowError) as raised:
            check()
        faults.append(raised.value.at(7))
    assert faults == [
        RejectedRow(7, "name", "is required"),
        RejectedRow(7, "quantity", "must be at least 1"),
        RejectedRow(7, "big", "must be at most 1000000"),
        RejectedRow(7, "price", "must be at least 1"),
        RejectedRow(7, "price", "must be 0 or more"),
        RejectedRow(7, "nan", "is not a decimal amount"),
        RejectedRow(7, "p", "must be less than 100"),
    ]
    assert whole_number({"q": "12"}, "q", 100) == 12
    assert decimal_amount({"p": "12.5"}, "p", Decimal(100)) == Decimal("12.5")


def test_the_report_lists_rejections_by_row_and_batches_keep_order() -> None:
    report = ImportReport(rows=5, accepted=2)
    report.reject(9, "sku", "no SKU with this code")
    report.reject(3, "store", "no store with this code")
    assert report.as_dict() == {
        "rows": 5,
        "accepted": 2,
        "rejected": [
            {"row": 3, "field": "store", "reason": "no store with this code"},
            {"row": 9, "field": "sku", "reason": "no SKU with this code"},
        ],
    }
    assert list(in_batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(in_batches([], 3)) == []
