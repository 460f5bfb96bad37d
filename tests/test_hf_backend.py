"""The transformers backend against plain transformers computations."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from jpeval.backends import BackendOptions, cut_at_stop
from jpeval.backends.hf import HFBackend, local_weights_digest
from jpeval.errors import JpevalError
from jpeval.metrics import argmax
from jpeval.paths import cache_dir
from jpeval.requests import Generate, Loglikelihood, LoglikelihoodResult, Message
from jpeval.spec import ModelSpec
from tests.tiny_model import LINES

CONTEXTS = [
    "質問：日本の首都はどこですか。\n答え：",
    "お客様が",
    "令和元年は西暦",
    "敬語を正しく使うことは大切です。お客様がいらっしゃいました。こちらで",
    "節",
]
OPTIONS = [
    ["東京", "大阪です。", "京都府の京都市", "名古屋"],
    ["いらっしゃいました。", "参りました。", "来た"],
    ["2019年です。", "1989年", "2"],
    ["お待ちください。", "待て", "お待ちしてください。長い続きの文章がここに入ります。", "お"],
    ["分", "分には豆をまきます。"],
]


def _requests() -> list[Loglikelihood]:
    return [Loglikelihood(c, o) for c, opts in zip(CONTEXTS, OPTIONS, strict=True) for o in opts]


def _plain_logprob(model: AutoModelForCausalLM, ctx: list[int], cont: list[int]) -> float:
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        lp = model(ids).logits.float().log_softmax(-1)[0]
    return sum(lp[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))


@pytest.mark.parametrize(
    ("batch_size", "head"),
    [
        (1, "split"),
        (2, "split"),  # contexts' options cut into pieces of 2
        (16, "split"),
        (16, "split, 3-row chunks"),
        (16, "split, 3-row chunks of 64-entry tiles"),
        (4, "full logits"),
        (4, "full logits, 192-entry tiles"),
    ],
)
def test_loglikelihood_matches_full_forward(
    tiny_model: Path, batch_size: int, head: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exact log-likelihoods whichever way the LM head runs: on hidden states gathered across
    batches (in chunks that split batches, over the vocabulary in tiles, the last one short),
    or, for a model whose logits the split does not reproduce, on the model's own logits."""
    backend = HFBackend(str(tiny_model), batch_size=batch_size)
    if "3-row" in head:
        backend.head_rows = 3
    if "tiles" in head:  # 501 entries: 64 x 7 + 53, or 192 x 2 + 117
        backend.logits_bytes = 4 * 3 * 64
    if head == "full logits":  # the split head would soft-cap; this model's forward does not
        backend.model.config.final_logit_softcapping = 0.5
    reference = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    reqs = [*_requests(), Loglikelihood("東京", "")]
    got = backend.loglikelihood(reqs)
    assert backend._split is (head != "full logits")
    assert got[-1] == LoglikelihoodResult(0.0, True, 0)
    reqs, got = reqs[:-1], got[:-1]
    assert len(got) == len(reqs)
    for req, res in zip(reqs, got, strict=True):
        ctx, cont = backend.encode_pair(req)
        assert res.n_tokens == len(cont) > 0
        assert res.logprob == pytest.approx(_plain_logprob(reference, ctx, cont), abs=1e-4)


def test_a_context_twice_in_one_batch(tiny_model: Path) -> None:
    """More options than the batch size: the context's pieces may share a batch, each its row."""
    backend = HFBackend(str(tiny_model), batch_size=2)
    reqs = [Loglikelihood("お客様が", o) for o in ("い", "ま", "お", "来", "参")]
    ctx = tuple(backend.encode_pair(reqs[0])[0])
    groups = {ctx: [(i, backend.encode_pair(r)[1]) for i, r in enumerate(reqs)]}
    assert [[c for c, _ in b] for b in backend._batches(groups)] == [[ctx, ctx], [ctx]]
    reference = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    for req, res in zip(reqs, backend.loglikelihood(reqs), strict=True):
        c, cont = backend.encode_pair(req)
        assert res.logprob == pytest.approx(_plain_logprob(reference, c, cont), abs=1e-4)


def test_math_attention_scores_alike_and_is_recorded(tiny_model: Path) -> None:
    """The math attention kernel (held on CUDA) scores and generates as the default one does,
    and the fingerprint says it ran, so results cached under one are not reused for the other."""
    default, math = HFBackend(str(tiny_model)), HFBackend(str(tiny_model))
    math._math_attention = True
    reqs = _requests()
    for a, b in zip(default.loglikelihood(reqs), math.loglikelihood(reqs), strict=True):
        assert b.logprob == pytest.approx(a.logprob, abs=1e-5) and b.n_tokens == a.n_tokens
    gen = [Generate("お客様が", 8), Generate("令和元年は西暦", 6)]
    assert math.generate(gen) == default.generate(gen)
    assert "attention" not in default.fingerprint()
    assert math.fingerprint()["attention"] == "sdpa-math"


def test_predictions_identical_across_batch_sizes(tiny_model: Path) -> None:
    reqs = _requests()
    runs = [HFBackend(str(tiny_model), batch_size=b).loglikelihood(reqs) for b in (1, 3, 16)]
    for res in runs[1:]:
        assert [r.is_greedy for r in res] == [r.is_greedy for r in runs[0]]
        start = 0
        for opts in OPTIONS:
            a = [r.logprob for r in runs[0][start : start + len(opts)]]
            b = [r.logprob for r in res[start : start + len(opts)]]
            assert argmax(a) == argmax(b)
            start += len(opts)


@pytest.mark.parametrize("tiles", ["whole vocabulary", "64-entry tiles"])
def test_is_greedy_agrees_with_argmax(tiny_model: Path, tiles: str) -> None:
    """is_greedy is true exactly when every continuation token is the model's argmax, however
    the vocabulary is cut while scoring."""
    backend = HFBackend(str(tiny_model), batch_size=4)
    if tiles == "64-entry tiles":
        backend.head_rows, backend.logits_bytes = 3, 4 * 3 * 64
    reference = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    reqs = []
    for line in LINES:  # greedy next tokens that survive a decode/encode round trip
        for k in range(2, len(line)):
            ids = backend.tokenizer(line[:k]).input_ids
            with torch.no_grad():
                top = int(reference(torch.tensor([ids])).logits[0, -1].argmax())
            text = backend.tokenizer.decode([top])
            if "\ufffd" not in text and backend.encode_pair(Loglikelihood(line[:k], text))[1] == [
                top
            ]:
                reqs += [Loglikelihood(line[:k], text), Loglikelihood(line[:k], text + "東京")]
    reqs += _requests()
    got = backend.loglikelihood(reqs)
    expected = []
    for req in reqs:
        ctx, cont = backend.encode_pair(req)
        with torch.no_grad():
            logits = reference(torch.tensor([ctx + cont])).logits[0]
        expected.append(
            all(int(logits[len(ctx) - 1 + j].argmax()) == t for j, t in enumerate(cont))
        )
    assert [r.is_greedy for r in got] == expected
    assert any(expected) and not all(expected)


PROMPTS = [
    "質問：令和元年は西暦何年ですか。\n答え：",
    "お",
    "敬語を正しく使うことは大切です。お客様がいらっしゃいました。",
    "東京は",
    "転入届は引っ越してから",
]


@pytest.mark.parametrize("batch_size", [1, 16])
def test_greedy_generation_matches_model_generate(tiny_model: Path, batch_size: int) -> None:
    backend = HFBackend(str(tiny_model), batch_size=batch_size)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    reqs = [Generate(p, max_tokens=12, stop=("。",)) for p in PROMPTS] + [
        Generate(PROMPTS[0], max_tokens=5)
    ]
    got = backend.generate(reqs)
    for req, text in zip(reqs, got, strict=True):
        assert isinstance(req.prompt, str)
        ids = torch.tensor([tok(req.prompt).input_ids])
        with torch.no_grad():
            out = model.generate(
                ids, max_new_tokens=req.max_tokens, do_sample=False, pad_token_id=tok.pad_token_id
            )
        expected = cut_at_stop(
            tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True), req.stop
        )
        assert text == expected


def test_chat_messages_use_the_template(tiny_chat_model: Path) -> None:
    backend = HFBackend(str(tiny_chat_model))
    assert backend.has_chat_template
    text, special = backend.prompt_text((Message("user", "こんにちは"),))
    assert text == "<s><user>こんにちは\n<assistant>" and special is False
    res = backend.loglikelihood([Loglikelihood((Message("user", "日本の首都は"),), "東京")])
    assert res[0].n_tokens > 0


def test_fingerprint_changes_with_weights(tmp_path: Path, tiny_model: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    a = HFBackend(str(copy)).fingerprint()
    model = AutoModelForCausalLM.from_pretrained(copy)
    with torch.no_grad():
        model.lm_head.weight[0, 0] += 1.0
    model.save_pretrained(copy)
    b = HFBackend(str(copy)).fingerprint()
    assert a["revision"] != b["revision"]
    assert {k: v for k, v in a.items() if k != "revision"} == {
        k: v for k, v in b.items() if k != "revision"
    }


@pytest.mark.parametrize("add_bos", [None, True, False])
def test_bos_policy(tiny_chat_model: Path, add_bos: bool | None) -> None:
    """add_bos_token puts BOS first exactly once on plain prompts (or takes it away); the
    tokenizer's own choice otherwise; chat prompts keep the template's; provenance says which."""
    backend = HFBackend(str(tiny_chat_model), add_bos_token=add_bos)
    bos = backend.tokenizer.bos_token_id
    ctx, cont = backend.encode_pair(Loglikelihood("日本の首都は", "東京"))
    starts = add_bos is not False  # this tokenizer adds BOS by itself
    assert (ctx[0] == bos) is starts and ctx[1:].count(bos) == 0 and bos not in cont
    assert backend.fingerprint()["bos"] == ("bos" if starts else "none")
    (gen_ids,) = [backend.tok.encode_prompt("日本の首都は", 4)]
    assert gen_ids[: len(ctx)] == ctx
    chat, _ = backend.encode_pair(Loglikelihood((Message("user", "首都は"),), "東京"))
    assert chat[0] == bos and chat[1:].count(bos) == 0
    res = backend.loglikelihood([Loglikelihood("日本の首都は", "東京")])
    assert res[0].n_tokens == len(cont)


def test_model_options_are_checked(tiny_model: Path) -> None:
    opts = BackendOptions(batch_size=4)
    bad = ModelSpec(name="t", model=str(tiny_model), options={"add_bos_token": "yes"})
    with pytest.raises(JpevalError, match="add_bos_token must be true or false"):
        HFBackend.from_spec(bad, opts)
    typo = ModelSpec(name="t", model=str(tiny_model), options={"add_bos": True})
    with pytest.raises(JpevalError, match=r"unknown hf option\(s\) \['add_bos'\]"):
        HFBackend.from_spec(typo, opts)


def test_weights_digest_is_remembered_per_file_version(tmp_path: Path, tiny_model: Path) -> None:
    import shutil

    model = tmp_path / "m"
    shutil.copytree(tiny_model, model)
    first = local_weights_digest(model)
    memo = cache_dir() / "weights-digests.json"
    assert memo.is_file() and local_weights_digest(model) == first
    memo.write_text("{not json", "utf-8")  # a damaged memo is ignored and rewritten
    assert local_weights_digest(model) == first
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b" ")
    assert local_weights_digest(model) != first


def test_option_groups_cover_every_row_and_pad_little() -> None:
    from jpeval.backends.hf import _split_by_length

    lengths = [20, 19, 3, 2, 2, 2, 1, 1]
    groups = _split_by_length(lengths, max_rows=16)
    assert [i for lo, hi in groups for i in range(lo, hi)] == list(range(len(lengths)))
    assert groups == [(0, 2), (2, 8)]  # 2 x 20 + 6 x 3 padded tokens, two passes
    same = _split_by_length([5] * 40, max_rows=16)  # no padding to save: as few passes as fit
    assert len(same) == 3 and all(hi - lo <= 16 for lo, hi in same)
    assert _split_by_length([], max_rows=16) == []


def test_head_tiles_score_as_log_softmax_and_argmax() -> None:
    """The LM head's tiled scoring against log_softmax and argmax on whole rows, with the maximum
    tied across tiles (the first one is the argmax) and a tile of -inf logits."""
    from jpeval.backends.hf import _Head

    torch.manual_seed(0)
    logits = torch.randn(5, 300) * 4
    logits[1, 10] = logits[1, 250] = logits[1].max() + 1  # tied, in the first and last tiles
    logits[2, 64:128] = -torch.inf
    logits[3, :] = -torch.inf
    logits[3, 200] = 0.0
    entries = [(0, 7, 0), (0, 299, 1), (1, 10, 2), (1, 250, 3), (2, 5, 4), (3, 200, 5), (4, 70, 6)]

    def tiles(states: torch.Tensor, step: int):
        for v0 in range(0, states.shape[1], step):
            yield v0, states[:, v0 : v0 + step].clone()

    head = _Head(tiles, len(entries), rows=5, logits_bytes=4 * 5 * 64)  # 64-entry tiles
    head.add(logits.clone(), entries)
    head.flush()
    lp, top = logits.log_softmax(-1), logits.argmax(-1)
    for p, t, i in entries:
        assert head.logprob[i] == pytest.approx(lp[p, t].item(), abs=1e-5)
        assert head.greedy[i] == (top[p].item() == t)
    assert head.greedy[2] and not head.greedy[3] and head.logprob[5] == 0.0
