"""ledger: a nightly batch job that balances the books.

Reads double-entry transactions as CSV (the file named by $LEDGER_CSV, else a built-in
sample), loads them into an in-memory SQLite database, sums every account with exact
decimal arithmetic, and prints a JSON summary: balances, the median expense, a stable
uuid5 per account and the closing time of the period in $LEDGER_TZ (tz database from
$PYTHONTZPATH). With $LEDGER_EXPORT set, it also writes
the balances there as xz-compressed CSV. Every field is deterministic, so tests can
check it.
"""

import csv
import io
import json
import lzma
import os
import sqlite3
import statistics
import sys
import uuid
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # uuid.NAMESPACE_URL

SAMPLE = """date,debit,credit,amount,memo
2024-01-01,assets:bank,equity:opening,10000.00,opening balance
2024-01-03,expenses:rent,assets:bank,1450.00,January rent
2024-01-05,expenses:food,assets:bank,84.37,groceries
2024-01-09,assets:bank,income:salary,3210.55,salary
2024-01-12,expenses:food,assets:bank,23.10,lunch
2024-01-15,expenses:travel,assets:bank,312.80,train tickets
2024-01-19,expenses:food,assets:bank,61.02,groceries
2024-01-22,assets:savings,assets:bank,500.00,monthly saving
2024-01-26,expenses:utilities,assets:bank,129.99,power
2024-01-31,assets:bank,income:interest,0.42,interest
"""


def load(db, text):
    db.execute("CREATE TABLE tx (id INTEGER PRIMARY KEY, date TEXT, debit TEXT, credit TEXT, cents INTEGER, memo TEXT)")
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        cents = int(Decimal(row["amount"]) * 100)
        rows.append((row["date"], row["debit"], row["credit"], cents, row["memo"]))
    db.executemany("INSERT INTO tx (date, debit, credit, cents, memo) VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def balances(db):
    query = """
        SELECT account, SUM(cents) FROM (
            SELECT debit AS account, cents FROM tx
            UNION ALL
            SELECT credit AS account, -cents FROM tx
        ) GROUP BY account ORDER BY account
    """
    return {account: Decimal(cents) / 100 for account, cents in db.execute(query)}


def export(path, books):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["account", "id", "balance"])
    for account, amount in books.items():
        writer.writerow([account, uuid.uuid5(NAMESPACE, account), f"{amount:.2f}"])
    data = out.getvalue().encode()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with lzma.open(path, "wb", preset=6) as f:
        f.write(data)
    return len(data)


def main():
    path = os.environ.get("LEDGER_CSV")
    text = open(path, encoding="utf-8").read() if path else SAMPLE
    db = sqlite3.connect(":memory:")
    count = load(db, text)
    books = balances(db)
    (last,) = db.execute("SELECT MAX(date) FROM tx").fetchone()
    zone = os.environ.get("LEDGER_TZ", "Europe/London")
    closing = datetime.combine(datetime.fromisoformat(last).date(), time(23, 59, 59), ZoneInfo(zone))
    spent = [Decimal(c) / 100 for (c,) in db.execute("SELECT cents FROM tx WHERE debit LIKE 'expenses:%'")]
    summary = {
        "sqlite": sqlite3.sqlite_version,
        "transactions": count,
        "closing": closing.isoformat(),
        "balances": {a: f"{b:.2f}" for a, b in books.items()},
        "total": f"{sum(books.values(), Decimal(0)):.2f}",
        "median_expense": f"{statistics.median(spent):.2f}",
        "ids": {a: str(uuid.uuid5(NAMESPACE, a)) for a in books},
    }
    target = os.environ.get("LEDGER_EXPORT")
    if target:
        summary["export"] = {"path": target, "bytes": export(target, books)}
    json.dump(summary, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
