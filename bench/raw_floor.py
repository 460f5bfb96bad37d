"""The naive transformers floor: only the forward passes an evaluation needs, batched, nothing else.

Multiple choice: every context+option sequence runs whole (right-padded, 16 a batch, in item
order); log_softmax over the full logits; the option's tokens are gathered and summed.
Generation: left-padded batches in item order (prompts cut from the left to fit the model),
greedy, 32 new tokens, stop at "\\n".

    python bench/raw_floor.py --model PATH --items items.jsonl --kind mc|gen --output out.jsonl
                              [--device cpu|cuda] [--dtype float32|bfloat16]
"""

from __future__ import annotations

import argparse
import json

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def encoder(tok, add_bos: bool | None):
    """Text -> ids; BOS put first (once) or taken away as asked, else the tokenizer's default."""

    def encode(text: str) -> list[int]:
        ids = tok(text).input_ids
        has = ids[:1] == [tok.bos_token_id]
        if add_bos and not has:
            return [tok.bos_token_id, *ids]
        return ids[1:] if add_bos is False and has else ids

    return encode


def batches(seq: list, size: int):
    return (seq[i : i + size] for i in range(0, len(seq), size))


@torch.inference_mode()
def multiple_choice(model, tok, encode, items: list[dict], batch_size: int) -> list[dict]:
    requests = []  # (item index, sequence ids, number of continuation tokens)
    for i, item in enumerate(items):
        n_ctx = len(encode(item["context"]))
        for choice in item["choices"]:
            whole = encode(item["context"] + choice)
            requests.append((i, whole, len(whole) - n_ctx))
    scores: list[list[float]] = [[] for _ in items]
    for batch in batches(requests, batch_size):
        width = max(len(ids) for _, ids, _ in batch)
        ids = torch.full((len(batch), width), tok.pad_token_id)
        mask = torch.zeros_like(ids)
        for r, (_, seq, _) in enumerate(batch):
            ids[r, : len(seq)], mask[r, : len(seq)] = torch.tensor(seq), 1
        ids, mask = ids.to(model.device), mask.to(model.device)
        logprobs = model(input_ids=ids, attention_mask=mask).logits.float().log_softmax(-1)
        for r, (i, seq, n) in enumerate(batch):
            steps = logprobs[r, len(seq) - n - 1 : len(seq) - 1]
            target = torch.tensor(seq[len(seq) - n :], device=model.device)
            scores[i].append(steps.gather(1, target[:, None]).sum().item())
    return [
        {"id": item["id"], "loglikelihoods": s, "pred_index": max(range(len(s)), key=s.__getitem__)}
        for item, s in zip(items, scores, strict=True)
    ]


@torch.inference_mode()
def generate(
    model, tok, encode, items: list[dict], batch_size: int, max_new_tokens: int = 32
) -> list[dict]:
    tok.padding_side = "left"
    room = model.config.max_position_embeddings - max_new_tokens  # keep the prompt's end
    out = []
    for batch in batches(items, batch_size):
        ids = [encode(item["context"])[-room:] for item in batch]
        enc = tok.pad({"input_ids": ids}, return_tensors="pt").to(model.device)
        gen = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
            stop_strings=["\n"],
            tokenizer=tok,
        )
        texts = tok.batch_decode(gen[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
        out += [
            {"id": item["id"], "generation": text.split("\n")[0]}
            for item, text in zip(batch, texts, strict=True)
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--items", required=True, help="JSONL: id, context, choices (mc)")
    ap.add_argument("--kind", choices=["mc", "gen"], required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--output", required=True)
    ap.add_argument("--add-bos", action=argparse.BooleanOptionalAction, default=None)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    args = ap.parse_args()
    tok = AutoTokenizer.from_pretrained(args.model)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    dtype = getattr(torch, args.dtype)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype).to(args.device).eval()
    with open(args.items, encoding="utf-8") as f:
        items = [json.loads(line) for line in f]
    run = multiple_choice if args.kind == "mc" else generate
    rows = run(model, tok, encoder(tok, args.add_bos), items, args.batch_size)
    with open(args.output, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


if __name__ == "__main__":
    main()
