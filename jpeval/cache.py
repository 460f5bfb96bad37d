"""SQLite request cache: resume is running the same command again.

Keys are (backend fingerprint, request hash); values are JSON. Each backend batch
is committed as one transaction, so a run killed at any moment keeps every batch
that finished. A file that SQLite cannot read is moved aside and rebuilt.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jpeval.results import to_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    fingerprint TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (fingerprint, key)
) WITHOUT ROWID
"""


class RequestCache:
    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as e:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            print(
                f"jpeval: request cache {path} is unreadable ({e}); moved to {aside}, rebuilding",
                file=sys.stderr,
            )
            path.rename(aside)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            db.execute("SELECT count(*) FROM results").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, value FROM results WHERE fingerprint=? AND key IN ({marks})",
                [self.fingerprint, *chunk],
            )
            out.update((k, json.loads(v)) for k, v in rows)
        return out

    def put_many(self, values: Mapping[str, Any]) -> None:
        rows = [(self.fingerprint, k, to_json(v)) for k, v in values.items()]
        with self._db:  # one transaction
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)

    def count(self) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM results WHERE fingerprint=?", [self.fingerprint]
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()
