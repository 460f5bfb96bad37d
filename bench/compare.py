"""jpeval against lm-evaluation-harness and a raw transformers floor, on the same items.

    .venv/bin/python bench/compare.py [--workloads tiny-mc,tiny-gen,gemma-mc,gemma-gen]
                                      [--runs 3] [--lmeval-venv bench/.venv-lmeval]

Items come from jpeval's own tasks (zero-shot, plain prompts). Each workload is written once as
a jpeval task folder and once as an lm-eval YAML task over the same JSONL file, then run by
jpeval, by lm-eval and by bench/raw_floor.py: same model, batch size 16, CPU, float32, offline.
Per run: wall time and the command's peak RSS (wait4); one warm-up run of each is not timed, and
a timed run that other processes disturbed is redone. Prints the tables and writes
bench/RESULTS.md; the text below its NOTES marker is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jpeval.task import Task  # noqa: E402

BIN = ROOT / ".venv/bin"
RESULTS = ROOT / "bench/RESULTS.md"
NOTES = "<!-- notes: everything below this line is kept when the file is rewritten -->"
BATCH = 16
MAX_TOKENS = 32
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
MC_SOURCES = [*sorted((ROOT / "tasks/culture").iterdir()), ROOT / "tasks/admin/procedures"]
GEN_SOURCES = [ROOT / "tasks/admin/notice_qa", ROOT / "tasks/admin/koyobun_rewrite"]
WORKLOADS = {  # name: (model, kind, items)
    "tiny-mc": ("tiny", "mc", 500),
    "tiny-gen": ("tiny", "gen", 200),
    "gemma-mc": ("gemma", "mc", 100),
    "gemma-gen": ("gemma", "gen", 50),
}
HARNESSES = ("jpeval", "lm-eval", "raw")
QUIET, RETRIES = 0.25, 2  # cores other processes may keep busy in a timed run; redos allowed


# ---- items and task files ------------------------------------------------------------------


def load_items(kind: str, n: int) -> list[dict]:
    """n items drawn once (seed 0) from jpeval's tasks, as context / choices / answer."""
    rows = []
    for folder in MC_SOURCES if kind == "mc" else GEN_SOURCES:
        task = Task.load(folder)
        for item in task.items:
            row = {"id": item.id, "context": task.render(item)}
            if "rationale" in item.fields:  # jpeval asks for it on multiple-choice items
                row["rationale"] = item.fields["rationale"]
            if kind == "mc":
                row["choices"] = [str(c) for c in item.fields[task.spec.choices]]
                row["answer"] = item.fields[task.spec.answer]
            else:
                answer = item.fields[task.spec.answer]
                row["answer"] = answer if isinstance(answer, str) else answer[0]
            rows.append(row)
    random.Random(0).shuffle(rows)
    return rows[:n]


def write_tasks(work: Path, kind: str, rows: list[dict]) -> tuple[str, str, Path]:
    """The same JSONL as a jpeval task folder and as an lm-eval task; their names and the file."""
    stem = f"{kind}_{len(rows)}"
    folder = work / "jpeval" / stem
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "test.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    jp = {
        "name": f"bench.{stem}",
        "category": "bench",
        "version": 1,
        "data": "test.jsonl",
        "prompt": "{{ context }}",
        "answer": "answer",
        "chat": "never",
    }
    lm = {
        "task": f"bench_{stem}",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test",
        "doc_to_text": "context",
        "doc_to_target": "answer",
        "target_delimiter": "",
    }
    if kind == "mc":
        jp |= {
            "kind": "multiple_choice",
            "choices": "choices",
            "target_delimiter": "",
            "metrics": ["accuracy"],
        }
        lm |= {
            "output_type": "multiple_choice",
            "doc_to_choice": "choices",
            "metric_list": [{"metric": "acc"}],
        }
    else:
        jp |= {
            "kind": "generate",
            "metrics": ["exact_match"],
            "generation": {"max_tokens": MAX_TOKENS, "stop": ["\n"]},
        }
        lm |= {
            "output_type": "generate_until",
            "metric_list": [{"metric": "exact_match"}],
            "generation_kwargs": {"until": ["\n"], "max_gen_toks": MAX_TOKENS, "do_sample": False},
        }
    (folder / "task.yaml").write_text(json.dumps(jp, ensure_ascii=False, indent=1), "utf-8")
    (work / "lmeval").mkdir(exist_ok=True)
    (work / "lmeval" / f"{stem}.yaml").write_text(json.dumps(lm, ensure_ascii=False, indent=1))
    return jp["name"], lm["task"], data


# fmt: off
def commands(model: str, kind: str, work: Path, jp_task: str, lm_task: str, data: Path,
             lmeval_bin: Path, out: Path, bos: bool | None) -> dict[str, list[str]]:
    jp_args, lm_args, raw_args = "dtype=float32", f"pretrained={model},dtype=float32", []
    if bos is not None:
        jp_args += f",add_bos_token={str(bos).lower()}"
        lm_args += f",add_bos_token={bos}"
        raw_args = ["--add-bos"] if bos else ["--no-bos"]
    return {
        "jpeval": [str(BIN / "jpeval"), "run", "--model", f"hf:{model}",
                   "--include-path", str(work / "jpeval"), "--tasks", jp_task,
                   "--batch-size", str(BATCH), "--no-cache", "--model-args", jp_args,
                   "--device", "cpu", "--output", str(out / "jpeval")],
        "lm-eval": [str(lmeval_bin / "lm_eval"), "run", "--model", "hf",
                    "--model_args", lm_args, "--tasks", lm_task,
                    "--include_path", str(work / "lmeval"), "--batch_size", str(BATCH),
                    "--device", "cpu", "--log_samples", "--output_path", str(out / "lmeval")],
        "raw": [str(BIN / "python"), str(ROOT / "bench/raw_floor.py"), "--model", model,
                "--items", str(data), "--kind", kind, "--batch-size", str(BATCH),
                "--output", str(out / "raw.jsonl"), *raw_args],
    }
# fmt: on


# ---- measuring -----------------------------------------------------------------------------


def busy_cpu_seconds() -> float:
    """CPU seconds spent by the whole machine (all processes) since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# A fresh interpreter starts each measured command: a process exec'd straight from this one
# would report this process's peak RSS as its own (Linux keeps the old memory's high-water mark).
LAUNCH = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[2:]); _, st, ru = os.wait4(p.pid, 0)"
    "; open(sys.argv[1], 'w').write(str(ru.ru_maxrss)); sys.exit(os.waitstatus_to_exitcode(st))"
)


def timed(argv: list[str], log: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed, and the cores that
    other processes kept busy meanwhile (the noise in that timing)."""
    with tempfile.NamedTemporaryFile("r") as peak, open(log or os.devnull, "w") as sink:
        start, busy = time.perf_counter(), busy_cpu_seconds()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCH, peak.name, *argv],
            env=ENV,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # usage includes the command's
        wall = time.perf_counter() - start
        others = busy_cpu_seconds() - busy - usage.ru_utime - usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise SystemExit(f"failed ({status}): {' '.join(argv)}\n{tail}")
        return wall, int(peak.read()) / 1024, max(0.0, others / wall)


def predictions(harness: str, out: Path, kind: str) -> dict[str, dict]:
    """id -> {"pred": argmax or text, "ll": log-likelihoods, "context": what the model saw}."""
    found = {}
    if harness == "jpeval":
        (path,) = out.glob("jpeval/**/samples/*.jsonl")
        for s in map(json.loads, path.open(encoding="utf-8")):
            pred = s["pred_index"] if kind == "mc" else s["generation"]
            found[s["id"]] = {"pred": pred, "ll": s.get("loglikelihoods"), "context": s["prompt"]}
    elif harness == "lm-eval":
        (path,) = out.glob("lmeval/**/samples_*.jsonl")
        for s in map(json.loads, path.open(encoding="utf-8")):
            args = list(s["arguments"].values())
            if kind == "mc":
                ll = [float(r[0][0]) for r in s["resps"]]
                assert [a["arg_1"] for a in args] == s["doc"]["choices"], "continuations differ"
                pred = max(range(len(ll)), key=ll.__getitem__)
            else:
                ll, pred = None, s["filtered_resps"][0]
            found[s["doc"]["id"]] = {"pred": pred, "ll": ll, "context": args[0]["arg_0"]}
    else:
        for s in map(json.loads, (out / "raw.jsonl").open(encoding="utf-8")):
            pred = s["pred_index"] if kind == "mc" else s["generation"]
            found[s["id"]] = {"pred": pred, "ll": s.get("loglikelihoods"), "context": None}
    return found


def merged_at_boundary(model: str, rows: list[dict]) -> set[str]:
    """Items with an option whose first token merges with the context's last one (the tokens of
    context+option do not start with the context's): each harness splits those differently."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    merged = set()
    for r in rows:
        ctx = tok(r["context"]).input_ids
        if any(tok(r["context"] + c).input_ids[: len(ctx)] != ctx for c in r["choices"]):
            merged.add(r["id"])
    return merged


def agreement(rows: list[dict], a: dict, b: dict, merged: set[str]) -> dict:
    out = {
        "same": sum(a[r["id"]]["pred"] == b[r["id"]]["pred"] for r in rows),
        "n": len(rows),
        "differ": [r["id"] for r in rows if a[r["id"]]["pred"] != b[r["id"]]["pred"]],
    }
    if a[rows[0]["id"]]["ll"] is not None:
        for key, part in (("max_dll", False), ("max_dll_merged", True)):
            out[key] = max(
                (
                    abs(x - y)
                    for r in rows
                    if (r["id"] in merged) == part
                    for x, y in zip(a[r["id"]]["ll"], b[r["id"]]["ll"], strict=True)
                ),
                default=None,
            )
    return out


def run_workload(
    name: str, model: str, work: Path, lmeval_bin: Path, runs: int, limit: int | None = None
) -> dict:
    model_name, kind, n = WORKLOADS[name]
    rows = load_items(kind, min(n, limit or n))
    jp_task, lm_task, data = write_tasks(work / name, kind, rows)
    res: dict = {"name": name, "kind": kind, "n": len(rows), "times": {}, "rss": {}, "noise": 0.0}
    for r in range(runs + 1):  # run 0 is the warm-up; its outputs are checked
        out = work / name / f"out{r}"
        cmds = commands(
            model, kind, work / name, jp_task, lm_task, data, lmeval_bin, out, ADD_BOS[model_name]
        )
        res["commands"] = cmds
        for h in HARNESSES:
            for _ in range(1 + RETRIES * bool(r)):  # a timed run disturbed by others is redone
                wall, rss, others = timed(cmds[h], work / name / f"{h}-{r}.log")
                print(
                    f"  {name} {h:8s} run {r}: {wall:7.2f} s {rss:7.0f} MiB "
                    f"(other processes: {others:.2f} cores)",
                    flush=True,
                )
                if others <= QUIET:
                    break
            if r:
                res["times"].setdefault(h, []).append(wall)
                res["rss"].setdefault(h, []).append(rss)
                res["noise"] = max(res["noise"], others)
        if r == 0:
            preds = {h: predictions(h, out, kind) for h in HARNESSES}
            for h in ("jpeval", "lm-eval"):
                res[f"context_{h}"] = sum(
                    preds[h][x["id"]]["context"] == x["context"] for x in rows
                )
            merged = merged_at_boundary(model, rows) if kind == "mc" else set()
            res["merged"] = sorted(merged)
            res["vs_lmeval"] = agreement(rows, preds["jpeval"], preds["lm-eval"], merged)
            res["vs_raw"] = agreement(rows, preds["jpeval"], preds["raw"], merged)
            res["lmeval_vs_raw"] = agreement(rows, preds["lm-eval"], preds["raw"], merged)
    return res


def startup(lmeval_bin: Path, runs: int = 5) -> dict[str, float]:
    """Median wall time of short commands, started directly."""
    probes = {
        "jpeval --help": [str(BIN / "jpeval"), "--help"],
        "lm_eval --help": [str(lmeval_bin / "lm_eval"), "--help"],
        "jpeval tasks": [str(BIN / "jpeval"), "tasks"],
    }
    walls: dict[str, list[float]] = {k: [] for k in probes}
    for _ in range(runs + 1):  # the first round warms the file cache
        for k, argv in probes.items():
            start = time.perf_counter()
            subprocess.run(argv, env=ENV, stdout=subprocess.DEVNULL, check=True)
            walls[k].append(time.perf_counter() - start)
    return {k: statistics.median(v[1:]) for k, v in walls.items()}


# ---- the report ----------------------------------------------------------------------------


def sh(argv: list[str], **kw) -> str:
    return subprocess.run(
        argv, capture_output=True, text=True, env=ENV, check=True, **kw
    ).stdout.strip()


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem = next(ln.split()[1] for ln in meminfo if ln.startswith("MemTotal"))
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{int(mem) / 1024**2:.1f} GiB",
        "OS": platform.platform(),
    }


def versions(lmeval_bin: Path) -> dict[str, str]:
    import torch
    import transformers

    probe = (
        "import sys, torch, transformers; from importlib.metadata import version; "
        "print(sys.version.split()[0], torch.__version__, transformers.__version__, "
        "version('lm_eval'))"
    )
    lm = sh([str(lmeval_bin / "python"), "-c", probe]).split()
    commit = sh(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=ROOT)
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "jpeval": f"{sh([str(BIN / 'jpeval'), '--version'])} (git {commit})",
        "lm-eval": f"{lm[3]} (its venv: python {lm[0]}, torch {lm[1]}, transformers {lm[2]})",
    }


# Plain prompts start with BOS for Gemma (trained so; configs/models/gemma-3-270m.yaml says so,
# as its tokenizer converted from GGUF adds none); the tiny model's tokenizer decides for itself.
ADD_BOS = {"tiny": None, "gemma": True}


def bos_policy(name: str, model: str) -> str:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    adds = tok("質問：").input_ids[0] == tok.bos_token_id
    verb = "adds" if adds else "does not add"
    head = f"vocabulary {len(tok):,}; its tokenizer {verb} `{tok.bos_token}` by default"
    if ADD_BOS[name] is None:
        return head + ", and all three harnesses leave it to the tokenizer"
    return head + (
        "; all three put it first: jpeval `--model-args add_bos_token=true` (the model entry's "
        "option), lm-eval `add_bos_token=True`, the raw script `--add-bos`"
    )


# fmt: off
TARGETS = [  # workload, target, value from median times t and peak RSS m, met when value >= / <=
    ("gemma-mc", "jpeval ≥ 3× faster than lm-eval", lambda t, m: t["lm-eval"] / t["jpeval"],
     ">=", 3),
    ("gemma-mc", "jpeval ≥ 1.5× faster than the naive raw script",
     lambda t, m: t["raw"] / t["jpeval"], ">=", 1.5),
    ("gemma-mc", "jpeval peak RSS ≤ 1/3 of lm-eval's", lambda t, m: m["jpeval"] / m["lm-eval"],
     "<=", 1 / 3),
    ("tiny-mc", "jpeval ≥ 2× faster than lm-eval", lambda t, m: t["lm-eval"] / t["jpeval"],
     ">=", 2),
    ("tiny-gen", "jpeval time within 1.15× of the raw floor", lambda t, m: t["jpeval"] / t["raw"],
     "<=", 1.15),
    ("gemma-gen", "jpeval time within 1.15× of the raw floor", lambda t, m: t["jpeval"] / t["raw"],
     "<=", 1.15),
]
# fmt: on


def medians(res: dict) -> tuple[dict[str, float], dict[str, float]]:
    return (
        {h: statistics.median(v) for h, v in res["times"].items()},
        {h: max(v) for h, v in res["rss"].items()},
    )


def agree_cell(a: dict) -> str:
    cell = f"{a['same']}/{a['n']}"
    if a.get("max_dll") is not None:
        cell += f", max abs dLL {a['max_dll']:.1e}"
    if a.get("max_dll_merged") is not None:
        cell += f" ({a['max_dll_merged']:.2g} on boundary-merge items)"
    return cell + (f" (differ: {', '.join(a['differ'][:5])})" if a["differ"] else "")


def table(res: dict) -> str:
    t, m = medians(res)
    lines = [
        "| harness | wall median (s) | runs (s) | peak RSS (MiB) | time vs jpeval "
        "| agreement with jpeval |",
        "|---|---:|---|---:|---:|---|",
    ]
    for h in HARNESSES:
        ratio = "1" if h == "jpeval" else f"{t[h] / t['jpeval']:.2f}×"
        agree = {
            "jpeval": "—",
            "lm-eval": agree_cell(res["vs_lmeval"]),
            "raw": agree_cell(res["vs_raw"]),
        }[h]
        runs = ", ".join(f"{x:.2f}" for x in res["times"][h])
        lines.append(f"| {h} | {t[h]:.2f} | {runs} | {m[h]:.0f} | {ratio} | {agree} |")
    what = "argmax" if res["kind"] == "mc" else "greedy text"
    lines += [
        "",
        f"jpeval/lm-eval time {t['jpeval'] / t['lm-eval']:.2f}, jpeval/raw "
        f"{t['jpeval'] / t['raw']:.2f}; jpeval/lm-eval peak RSS {m['jpeval'] / m['lm-eval']:.2f}. "
        f"Agreement = same {what}; lm-eval vs raw: {agree_cell(res['lmeval_vs_raw'])}. "
        f"Context strings identical to the item's: jpeval {res['context_jpeval']}/{res['n']}, "
        f"lm-eval {res['context_lm-eval']}/{res['n']}. Other processes kept at most "
        f"{res['noise']:.2f} of {os.cpu_count()} cores busy during a timed run.",
    ]
    if res.get("merged"):
        lines[-1] += (
            f" {len(res['merged'])} items ({', '.join(res['merged'][:8])}) have an option whose "
            "first token merges with the context's last (context+option does not tokenise as "
            "context, then option), and each harness splits them its own way: jpeval scores the "
            "option tokenised alone after the context's tokens; lm-eval scores the tokens of "
            "context+option past the context's length, after the context's tokens; the raw "
            "script scores those same tokens after context+option's own prefix."
        )
    return "\n".join(lines)


def report(results: list[dict], start: dict, info: dict) -> str:
    by = {r["name"]: r for r in results}
    noise = max([r["noise"] for r in results] + [0.0])
    out = [
        "# jpeval vs lm-evaluation-harness vs raw transformers",
        "",
        f"Written by `make bench` (`bench/compare.py`) on {info['date']}. Load average "
        f"(1 min) at the start: {info['load_before']:.2f}; other processes kept at most "
        f"{noise:.2f} of {os.cpu_count()} cores busy during any timed run"
        + (" — **the machine was busy: timings are provisional**." if noise > QUIET else "."),
        "",
        "## Machine and versions",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in (info["machine"] | info["versions"]).items()]
    out += [
        "",
        "## Set-up",
        "",
        "Same model, same items, batch size 16, CPU, float32, offline (HF_HUB_OFFLINE=1, "
        "HF_DATASETS_OFFLINE=1), zero-shot plain prompts (no chat template). MC items: a "
        "seeded draw from tasks/culture/* and tasks/admin/procedures (prompt `質問：…\\n答え：`, "
        "four options scored as continuations, no delimiter). Generation: a seeded draw from "
        "tasks/admin/notice_qa and koyobun_rewrite, greedy, 32 new tokens, stop at `\\n`. "
        f"Each harness: 1 warm-up run (outputs checked), then {info['runs']} timed runs, "
        "interleaved; wall time and peak RSS of the command's process (wait4). A timed run "
        f"during which other processes kept more than {QUIET} cores busy is redone (at most "
        f"{RETRIES} times).",
        "",
        "Models: tiny = the tests' 4.2M-parameter Llama (`tests/tiny_model.py`, 2 layers); "
        "gemma = Gemma-3-270M (`jpeval prepare-model gemma-3-270m`: the Q4_K_M GGUF from PyPI, "
        "dequantised and saved as float32 safetensors).",
        "",
        "BOS policy:",
    ]
    out += [f"- {m}: {p}" for m, p in info["bos"].items()]
    out += ["", "## Results", ""]
    for r in results:
        model, kind, _ = WORKLOADS[r["name"]]
        what = "multiple-choice items (4 options)" if kind == "mc" else "generation prompts"
        out += [
            f"### {r['name']}: {model}, {r['n']} {what}",
            "",
            table(r),
            "",
        ]
    out += ["## Targets", "", "| workload | target | measured | result |", "|---|---|---:|---|"]
    s = start
    checks = [
        (wl, desc, value(*medians(by[wl])) if wl in by else None, op, bound)
        for wl, desc, value, op, bound in TARGETS
    ]
    checks += [
        ("start-up", "`jpeval --help` < 0.15 s", s["jpeval --help"], "<=", 0.15),
        ("start-up", "`jpeval tasks` < 1 s", s["jpeval tasks"], "<=", 1),
    ]
    for wl, desc, v, op, bound in checks:
        met = v is not None and (v >= bound if op == ">=" else v <= bound)
        shown = "—" if v is None else f"{v:.2f}"
        verdict = "not run" if v is None else "met" if met else "**missed**"
        out.append(f"| {wl} | {desc} | {shown} | {verdict} |")
    out += ["", "", "## Start-up (median of 5)", "", "| command | wall (s) |", "|---|---:|"]
    out += [f"| `{k}` | {v:.3f} |" for k, v in s.items()]
    out += [
        "",
        "## Commands",
        "",
        "Paths: `$WORK` is a temporary folder; `$TINY` and `$GEMMA` the model folders.",
        "",
    ]
    for r in results:
        out += [f"{r['name']}:", "", "```"]
        for argv in r["commands"].values():
            text = " ".join(argv).replace(str(info["work"]), "$WORK").replace(str(ROOT) + "/", "")
            for k, v in info["models"].items():
                text = text.replace(v, f"${k.upper()}")
            out.append(re.sub(r"/out\d+/", "/outN/", text))
        out += ["```", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="tiny-mc,tiny-gen,gemma-mc,gemma-gen")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lmeval-venv", type=Path, default=ROOT / "bench/.venv-lmeval")
    ap.add_argument("--output", type=Path, default=RESULTS)
    ap.add_argument("--limit", type=int, help="at most N items a workload (a quick check)")
    args = ap.parse_args()
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if unknown := set(names) - set(WORKLOADS):
        ap.error(f"unknown workloads {sorted(unknown)}; known: {', '.join(WORKLOADS)}")
    lmeval_bin = args.lmeval_venv / "bin"
    info: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "runs": args.runs,
        "load_before": os.getloadavg()[0],
        "machine": machine(),
        "versions": versions(lmeval_bin),
        "models": {},
        "bos": {},
    }
    with tempfile.TemporaryDirectory(prefix="jpeval-bench-") as tmp:
        work = info["work"] = Path(tmp)
        from tests.tiny_model import build_tiny_model

        info["models"]["tiny"] = str(build_tiny_model(work / "tiny"))
        if any(WORKLOADS[n][0] == "gemma" for n in names):
            prep = subprocess.run(
                [str(BIN / "jpeval"), "prepare-model", "gemma-3-270m"],
                capture_output=True,
                text=True,
                env=ENV,
            )
            if prep.returncode == 0:
                # "gemma-3-270m: ready at PATH"
                info["models"]["gemma"] = prep.stdout.strip().splitlines()[-1].split(" at ", 1)[1]
            else:
                print("gemma-3-270m could not be prepared; skipping its workloads:\n" + prep.stderr)
                names = [n for n in names if WORKLOADS[n][0] != "gemma"]
        info["bos"] = {m: bos_policy(m, p) for m, p in info["models"].items()}
        results = []
        for name in names:
            print(f"{name}:", flush=True)
            model = info["models"][WORKLOADS[name][0]]
            results.append(run_workload(name, model, work, lmeval_bin, args.runs, args.limit))
            print(table(results[-1]) + "\n", flush=True)
        start = startup(lmeval_bin)
        text = report(results, start, info)
    print(text[text.index("## Targets") :])
    old = args.output.read_text("utf-8") if args.output.exists() else ""
    kept = old[old.index(NOTES) :] if NOTES in old else NOTES + "\n"
    args.output.write_text(text + "\n\n" + kept, "utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
