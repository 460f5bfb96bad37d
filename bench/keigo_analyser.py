"""Precision and recall of the keigo analyser per error kind, and its speed.

    .venv/bin/python bench/keigo_analyser.py

Reads the labelled sentences in tests/data/keigo_labelled.jsonl. A detected error counts as a
true positive when its kind matches a labelled error and its span overlaps the labelled
surface. Speed: sentences per second on one core, analysing the set repeatedly.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from jpeval.text.keigo import analyze

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "keigo_labelled.jsonl"
KINDS = ("double_honorific", "humble_plus_respect", "humble_request", "humble_potential")


def load() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict]) -> tuple[dict[str, dict[str, float]], dict[str, float], list[str]]:
    """Per-kind precision/recall, flag accuracies, and a description of every mistake."""
    tp, fp, fn = Counter(), Counter(), Counter()
    flags = Counter()
    mistakes = []
    for row in rows:
        text = row["text"]
        a = analyze(text)
        gold = []
        for e in row["errors"]:
            start = text.find(e["surface"])
            gold.append((e["kind"], start, start + len(e["surface"])))
        matched = set()
        for e in a.errors:
            hit = next(
                (g for g in gold if g[0] == e.kind and g not in matched and e.span[0] < g[2] and g[1] < e.span[1]),
                None,
            )
            if hit:
                tp[e.kind] += 1
                matched.add(hit)
            else:
                fp[e.kind] += 1
                mistakes.append(f"FP {e.kind}: {row['id']} {text} [{text[e.span[0]:e.span[1]]}]")
        for g in gold:
            if g not in matched:
                fn[g[0]] += 1
                mistakes.append(f"FN {g[0]}: {row['id']} {text} [{text[g[1]:g[2]]}]")
        for flag in ("sonkeigo", "kenjogo", "teineigo"):
            flags[flag] += getattr(a, flag) == row[flag]
    table = {}
    for k in KINDS:
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else 1.0
        r = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else 1.0
        table[k] = {"precision": p, "recall": r, "support": tp[k] + fn[k]}
    return table, {f: flags[f] / len(rows) for f in ("sonkeigo", "kenjogo", "teineigo")}, mistakes


def speed(rows: list[dict], seconds: float = 2.0) -> float:
    texts = [r["text"] for r in rows]
    analyze(texts[0])  # load the dictionary first
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for t in texts:
            analyze(t)
        n += len(texts)
    return n / (time.perf_counter() - t0)


def main() -> None:
    rows = load()
    table, flags, mistakes = evaluate(rows)
    print(f"{len(rows)} labelled sentences ({DATA.name})\n")
    print("| error kind | precision | recall | support |\n|---|---:|---:|---:|")
    for k, v in table.items():
        print(f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |")
    print("\nflag accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in flags.items()))
    print(f"speed: {speed(rows):,.0f} sentences/s on one core")
    for m in mistakes:
        print(m)


if __name__ == "__main__":
    main()
