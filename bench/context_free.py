"""A real model's options-only baseline: each multiple-choice task scored with its question
removed (the prompt is just 「答え：」, no few-shot), beside the same model's score with it.

    .venv/bin/python bench/context_free.py [--model gemma-3-270m] [--tasks 'keigo.*,admin.*']

The artifact check's options-only classifier learns cues from character n-grams; a language
model brings a stronger prior: which option reads as more natural Japanese. Where a model
scores as well without the question as with it, the task measures what the options give away
to such a reader more than the reading the task names. Copies of the tasks (renamed
probe.<task>) are written to a temporary folder and run with `jpeval run --include-path`;
the scores with the question are read from the newest results file of the model under
results/. Prints the table and writes bench/RESULTS-context-free.md (the text below its NOTES
marker is kept).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from fnmatch import fnmatch
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jpeval.registry import discover_tasks  # noqa: E402
from jpeval.task import Task  # noqa: E402

RESULTS = ROOT / "bench/RESULTS-context-free.md"
NOTES = "<!-- notes: everything below this line is kept when the file is rewritten -->"


def probe_copies(names: list[str], found: dict[str, Path], into: Path) -> None:
    """Each task copied with its prompt replaced by 「答え：」 and no few-shot examples."""
    for name in names:
        dst = into / name.replace(".", "_")
        shutil.copytree(found[name], dst)
        spec = yaml.safe_load((dst / "task.yaml").read_text(encoding="utf-8"))
        spec.update(name=f"probe.{name.replace('.', '_')}", category="probe", prompt="答え：")
        for key in ("choice_prompt", "fewshot"):
            spec.pop(key, None)
        (dst / "task.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def scores(run_file: Path) -> dict[str, float]:
    data = json.loads(run_file.read_text(encoding="utf-8"))
    return {name: float(t["score"]) for name, t in data["tasks"].items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--tasks", default="keigo.*,culture.*,admin.*")
    args = ap.parse_args()
    found = discover_tasks()
    globs = args.tasks.split(",")
    names = sorted(
        n
        for n in found
        if any(fnmatch(n, g) for g in globs) and Task.load(found[n]).spec.kind == "multiple_choice"
    )
    runs = sorted((ROOT / "results" / args.model).glob("*.json"))
    if not runs:
        raise SystemExit(f"no results under results/{args.model}: run `make eval` first")
    full = scores(runs[-1])
    with tempfile.TemporaryDirectory() as tmp:
        probe_copies(names, found, Path(tmp) / "tasks")
        out = Path(tmp) / "out"
        cmd = [str(ROOT / ".venv/bin/jpeval"), "run", "--model", args.model, "--tasks", "probe.*",
               "--include-path", str(Path(tmp) / "tasks"), "--output", str(out)]  # fmt: skip
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        probe = scores(next((out / args.model).glob("*.json")))
    rows = [
        "| task | chance | with the question | options only | difference |",
        "|---|---:|---:|---:|---:|",
    ]
    for n in names:
        task = Task.load(found[n])
        k = len(task.items[0].fields[task.spec.choices or ""])
        p, f = probe[f"probe.{n.replace('.', '_')}"], full.get(n)
        shown = f"{f:.3f}" if f is not None else "—"
        diff = f"{f - p:+.3f}" if f is not None else "—"
        rows.append(f"| {n} | {1 / k:.3f} | {shown} | {p:.3f} | {diff} |")
    table = "\n".join(rows)
    print(table)
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    RESULTS.write_text(
        f"# Options-only baseline of a real model ({args.model})\n\n"
        f"`.venv/bin/python bench/context_free.py --model {args.model}`; with the question: "
        f"`{runs[-1].relative_to(ROOT)}`.\n\n{table}\n\n{NOTES}{notes}",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
