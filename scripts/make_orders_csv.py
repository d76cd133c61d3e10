"""Write a deterministic POS order history for `newretail import orders`, with known bad rows.

    .venv/bin/python scripts/make_orders_csv.py OUT_DIR --orders 100000 --bad 3 [--setup DATA_DIR]

Writes OUT_DIR/products.csv (brand b1, SKUs SKU0000…), OUT_DIR/stock.csv (every SKU at every
store) and OUT_DIR/orders.csv: `--orders` orders of 1 to 3 lines at stores S01…S08, over 60
days. `--bad` of them are one-line orders with one broken field each (an unknown store, a time
without a zone, a quantity that is not a number, in turn), spread evenly through the file; their
row numbers (the header is row 1) are printed as JSON, so an import must report exactly those
rows and record the other orders. The same arguments always write the same files.

With `--setup DATA_DIR` the script also creates, through the CLI, an organisation `bulk` in that
embedded data dir with brand b1 and the stores, and imports the products and the stock; then
run the import itself in a terminal to see the progress bar:

    .venv/bin/newretail --data-dir DATA_DIR import orders --org bulk OUT_DIR/orders.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

STORES = [f"S{i:02d}" for i in range(1, 9)]
START = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
BAD_KINDS = [
    ("store", "no store with this code"),
    ("ordered_at", "must include a time zone"),
    ("quantity", "is not a whole number"),
]
HEADER = ["external_order_id", "store", "ordered_at", "sku", "quantity", "unit_price"]


@dataclass(frozen=True)
class BadRow:
    row: int
    field: str
    reason: str


def sku_codes(count: int) -> list[str]:
    return [f"SKU{i:04d}" for i in range(count)]


def price_of(index: int) -> str:
    return f"{9 + (index * 7) % 90}.90"


def write_products(path: Path, skus: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["brand", "product_code", "product_name", "category", "sku_code", "sku_name", "price"]
        )
        for index, code in enumerate(sku_codes(skus)):
            product = f"P{index // 4:03d}"
            writer.writerow(
                ["b1", product, f"Product {product}", "Bulk/Items", code, code, price_of(index)]
            )


def write_stock(path: Path, skus: int, quantity: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["location", "sku", "quantity"])
        for store in STORES:
            for code in sku_codes(skus):
                writer.writerow([store, code, quantity])


def write_orders(
    path: Path,
    orders: int,
    bad: int,
    codes: list[str],
    stores: list[str] = STORES,
    seed: int = 7,
) -> list[BadRow]:
    """Write the order file; returns the bad rows (row number, field, reason) in file order."""
    rng = random.Random(seed)  # noqa: S311 - test data, reproducible on purpose
    skus = len(codes)
    bad_orders = {(k + 1) * orders // (bad + 1) for k in range(bad)}
    rejected: list[BadRow] = []
    step = timedelta(days=60) / max(orders, 1)
    row = 1
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for number in range(orders):
            store = stores[rng.randrange(len(stores))]
            ordered_at = (START + step * number).isoformat()
            external = f"H-{number:07d}"
            picked = rng.sample(
                range(skus), 1 if number in bad_orders else rng.randint(1, min(3, skus))
            )
            for index in picked:
                line = [external, store, ordered_at, codes[index], rng.randint(1, 4)]
                line.append(price_of(index))
                if number in bad_orders:
                    field, reason = BAD_KINDS[len(rejected) % len(BAD_KINDS)]
                    if field == "store":
                        line[1] = "NOPE"
                    elif field == "ordered_at":
                        line[2] = ordered_at.removesuffix("+00:00")
                    else:
                        line[4] = "two"
                    rejected.append(BadRow(row + 1, field, reason))
                writer.writerow(line)
                row += 1
    return rejected


def setup(data_dir: Path, out: Path) -> None:
    """Organisation `bulk`, brand b1, stores S01…S08, products and stock, through the CLI."""
    cli = [str(Path(sys.executable).with_name("newretail")), "--data-dir", str(data_dir)]

    def run(*args: str) -> None:
        subprocess.run([*cli, *args], check=True, stdout=subprocess.DEVNULL)  # noqa: S603

    run("org", "create", "Bulk import", "--slug", "bulk", "--owner-email", "bulk@example.com")
    run("brand", "create", "b1", "Brand one", "--org", "bulk")
    for index, code in enumerate(STORES):
        channel = "counter" if index % 4 == 3 else "store"
        run(
            "store", "create", "--org", "bulk", "--code", code, "--name", f"Store {code}",
            "--channel-type", channel, "--brand", "b1", "--city", "Shanghai",
        )  # fmt: skip
    run("import", "products", "--org", "bulk", str(out / "products.csv"), "--json")
    run("import", "stock", "--org", "bulk", str(out / "stock.csv"), "--json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--bad", type=int, default=3)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--stock", type=int, default=10_000)
    parser.add_argument("--setup", type=Path, metavar="DATA_DIR")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_products(args.out / "products.csv", args.skus)
    write_stock(args.out / "stock.csv", args.skus, args.stock)
    rejected = write_orders(args.out / "orders.csv", args.orders, args.bad, sku_codes(args.skus))
    if args.setup:
        setup(args.setup, args.out)
    print(json.dumps({"orders": args.orders, "bad_rows": [r.__dict__ for r in rejected]}))


if __name__ == "__main__":
    main()
