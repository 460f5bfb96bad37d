"""jpeval's transformers backend on a GPU against the raw transformers floor, on the same items.

    python bench/gpu.py --gemma-config DIR [--runs 2] [--output bench/RESULTS-gpu.md]

Run on a CUDA machine with torch and transformers installed and jpeval importable (its
checkout on PYTHONPATH is enough; fugashi is not needed). The items and task files are
bench/compare.py's; each workload runs through `python -m jpeval run --model hf:PATH --device
cuda` and through bench/raw_floor.py, one warm-up run (outputs compared) and `--runs` timed.

Models: the tests' tiny Llama, and a Gemma-3-270M-shaped model with seeded random weights built
from DIR (config.json and tokenizer files, e.g. a copy of `jpeval prepare-model gemma-3-270m`'s
folder without its weights): the cost of a 262k vocabulary without the 1 GB download. Random
weights make near-ties between options common, so argmax agreement is reported in float32, where
both sides compute the same sums; bfloat16 is timed too (the hf backend's default on CUDA).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare

ROOT = compare.ROOT
WORKLOADS = {  # name: (model, kind, items, dtypes)
    "tiny-mc": ("tiny", "mc", 500, ("float32",)),
    "tiny-gen": ("tiny", "gen", 200, ("float32",)),
    "gemma-mc": ("gemma", "mc", 500, ("float32", "bfloat16")),
    "gemma-gen": ("gemma", "gen", 100, ("float32", "bfloat16")),
}


def build_gemma(config_dir: Path, dest: Path) -> Path:
    """A Gemma-3-shaped model with seeded random weights and the given tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(config_dir)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(dest)
    for f in config_dir.iterdir():
        if f.name.startswith(("tokenizer", "special_tokens", "generation_config")):
            shutil.copy(f, dest / f.name)
    return dest


def commands(model: str, kind: str, folder: Path, task: str, data: Path, out: Path, dtype: str,
             bos: bool | None, device: str) -> dict[str, list[str]]:  # fmt: skip
    jp_args = f"dtype={dtype}" + ("" if bos is None else f",add_bos_token={str(bos).lower()}")
    raw_bos = [] if bos is None else ["--add-bos" if bos else "--no-bos"]
    return {
        "jpeval": [sys.executable, "-m", "jpeval", "run", "--model", f"hf:{model}",
                   "--include-path", str(folder), "--tasks", task, "--batch-size",
                   str(compare.BATCH), "--no-cache", "--model-args", jp_args, "--device", device,
                   "--output", str(out / "jpeval")],
        "raw": [sys.executable, str(ROOT / "bench/raw_floor.py"), "--model", model, "--items",
                str(data), "--kind", kind, "--batch-size", str(compare.BATCH), "--output",
                str(out / "raw.jsonl"), "--device", device, "--dtype", dtype, *raw_bos],
    }  # fmt: skip


def split_head(model: str, dtype: str, device: str) -> bool:
    """Whether the hf backend scores through its decoder/LM-head split on this device and dtype."""
    from jpeval.backends.hf import HFBackend

    return HFBackend(model, dtype=dtype, device=device)._split_head()


def cuda_vs_cpu(model: str, n: int) -> str:
    """The hf backend's log-likelihoods on CUDA against the CPU's, float32, n MC items."""
    from jpeval.backends.hf import HFBackend
    from jpeval.requests import Loglikelihood

    reqs = [
        Loglikelihood(r["context"], c) for r in compare.load_items("mc", n) for c in r["choices"]
    ]
    got = {
        d: [x.logprob for x in HFBackend(model, dtype="float32", device=d, add_bos_token=True)
            .loglikelihood(reqs)]
        for d in ("cuda", "cpu")
    }  # fmt: skip
    diff = [abs(a - b) for a, b in zip(got["cuda"], got["cpu"], strict=True)]
    above = sum(d > 1e-3 for d in diff)
    return f"max abs dLL {max(diff):.1e} over {len(reqs)} requests, {above} above 1e-3"


def run(name: str, model: str, dtype: str, work: Path, args: argparse.Namespace) -> dict:
    model_name, kind, n, _ = WORKLOADS[name]
    rows = compare.load_items(kind, min(n, args.limit or n))
    folder = work / f"{name}-{dtype}"
    task, _, data = compare.write_tasks(folder, kind, rows)
    res: dict = {"name": name, "dtype": dtype, "kind": kind, "n": len(rows), "times": {}}
    bos = compare.ADD_BOS[model_name]
    for r in range(args.runs + 1):
        out = folder / f"out{r}"
        cmds = commands(model, kind, folder / "jpeval", task, data, out, dtype, bos, args.device)
        res["commands"] = cmds
        for h, argv in cmds.items():
            wall, rss, _ = compare.timed(argv, folder / f"{h}-{r}.log")
            print(f"  {name} {dtype} {h:6s} run {r}: {wall:6.2f} s {rss:6.0f} MiB", flush=True)
            if r:
                res["times"].setdefault(h, []).append(wall)
        if r == 0:
            preds = {h: compare.predictions(h, out, kind) for h in cmds}
            merged = compare.merged_at_boundary(model, rows) if kind == "mc" else set()
            res["agree"] = compare.agreement(rows, preds["jpeval"], preds["raw"], merged)
    return res


def report(results: list[dict], info: dict) -> str:
    out = [
        "# jpeval's hf backend on a GPU vs raw transformers",
        "",
        f"Written by `bench/gpu.py` on {info['date']}.",
        "",
        *[f"- {k}: {v}" for k, v in info["env"].items()],
        "",
        "Same items as bench/compare.py (batch size 16, zero-shot plain prompts, greedy 32 new "
        f"tokens, stop at `\\n`), on {info['env']['device']}. tiny = the tests' 4.2M-parameter "
        "Llama; gemma = Gemma-3-270M's shape and tokenizer with seeded random weights (so "
        "accuracy means nothing; the work per token is the real model's). `<bos>` first for "
        "gemma, as in configs/models/gemma-3-270m.yaml. Wall time of the whole command "
        f"(start-up, model load, scoring), median of {info['runs']} after a warm-up run whose "
        "outputs are compared.",
        "",
        *(
            [
                f"Gemma-shaped model, float32, {info['n_vs_cpu']} MC items, the hf backend on "
                f"CUDA vs on the CPU: {info['vs_cpu']}.",
                "",
            ]
            if "vs_cpu" in info
            else []
        ),
        "Decoder/LM-head split kept by the hf backend (scores through the head only where "
        "needed): " + ", ".join(f"{k}: {v}" for k, v in info["split"].items()) + ".",
        "",
        "| workload | dtype | items | jpeval (s) | raw (s) | jpeval / raw | same prediction |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        t = {h: statistics.median(v) for h, v in r["times"].items()}
        out.append(
            f"| {r['name']} | {r['dtype']} | {r['n']} | {t['jpeval']:.2f} | {t['raw']:.2f} "
            f"| {t['jpeval'] / t['raw']:.2f} | {compare.agree_cell(r['agree'])} |"
        )
    out += ["", "Commands (`$WORK` a temporary folder):", "", "```"]
    for r in results:
        for argv in r["commands"].values():
            out.append(" ".join(argv).replace(str(info["work"]), "$WORK"))
    return "\n".join([*out, "```", ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gemma-config", type=Path, required=True)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--output", type=Path, default=ROOT / "bench/RESULTS-gpu.md")
    ap.add_argument("--commit", help="jpeval's git commit, where the checkout has no .git")
    ap.add_argument("--device", default="cuda", help="cpu: a quick check of this script")
    ap.add_argument("--limit", type=int, help="at most N items a workload (a quick check)")
    args = ap.parse_args()
    import torch
    import transformers

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    info: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "runs": args.runs,
        "env": {
            "device": torch.cuda.get_device_name() if args.device == "cuda" else args.device,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "jpeval": args.commit
            or compare.sh(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=ROOT),
        },
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="jpeval-gpu-") as tmp:
        work = info["work"] = Path(tmp)
        from tests.tiny_model import build_tiny_model

        models = {
            "tiny": str(build_tiny_model(work / "tiny")),
            "gemma": str(build_gemma(args.gemma_config, work / "gemma")),
        }
        info["split"] = {
            f"{m} {d}": split_head(p, d, args.device)
            for m, p in models.items()
            for d in ("float32", "bfloat16")
        }
        print(info["split"], flush=True)
        if args.device == "cuda":
            info["n_vs_cpu"] = min(200, args.limit or 200)
            info["vs_cpu"] = cuda_vs_cpu(models["gemma"], info["n_vs_cpu"])
            print(info["vs_cpu"], flush=True)
        for name in args.workloads.split(","):
            for dtype in WORKLOADS[name][3]:
                results.append(run(name, models[WORKLOADS[name][0]], dtype, work, args))
                write(args.output, report(results, info))  # kept if cut short
    print(report(results, info))


def write(path: Path, text: str) -> None:
    """The report, and below it the notes already in the file (see compare.NOTES)."""
    old = path.read_text("utf-8") if path.exists() else ""
    kept = old[old.index(compare.NOTES) :] if compare.NOTES in old else compare.NOTES + "\n"
    path.write_text(text + "\n" + kept, "utf-8")


if __name__ == "__main__":
    main()
