"""The default offline model, Gemma-3-270M from PyPI wheels: prepare it, score with it, run it.

Preparation happens once per machine (into the same cache `make eval` uses), about a minute.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from jpeval.backends.hf import HFBackend
from jpeval.models import declare_added_tokens, model_path, resolve_model
from jpeval.requests import Loglikelihood
from jpeval.results import RunResult
from tests.conftest import USER_CACHE, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gemma() -> Iterator[HFBackend]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JPEVAL_CACHE_DIR", str(USER_CACHE))
        proc = run_cli("prepare-model", "gemma-3-270m", env={"JPEVAL_CACHE_DIR": str(USER_CACHE)})
        assert "gemma-3-270m: ready at" in proc.stdout
        path = model_path(resolve_model("gemma-3-270m"))
        assert path is not None and (path / "model.safetensors").is_file()
        yield HFBackend(str(path), batch_size=8)


def test_prepared_model_knows_basic_facts(gemma: HFBackend) -> None:
    pairs = [
        ("日本の首都は", "東京です。", "パリです。"),
        ("富士山は日本で一番", "高い山です。", "低い川です。"),
        ("おはようございます。今日は良い", "天気ですね。", "電話帳ですね。"),
    ]
    reqs = [Loglikelihood(ctx, o) for ctx, good, bad in pairs for o in (good, bad)]
    res = gemma.loglikelihood(reqs)
    for i in range(len(pairs)):
        assert res[2 * i].logprob > res[2 * i + 1].logprob, pairs[i]


def test_prepared_tokenizer_lists_added_tokens_and_encodes_as_saved(
    gemma: HFBackend, tmp_path: Path
) -> None:
    """The added-token list in tokenizer_config.json only speeds loading: same ids, same text."""
    from transformers import AutoTokenizer

    path = model_path(resolve_model("gemma-3-270m"))
    assert path is not None
    listed = json.loads((path / "tokenizer_config.json").read_text())["added_tokens_decoder"]
    added = json.loads((path / "tokenizer.json").read_text())["added_tokens"]
    assert {int(i) for i in listed} == {t["id"] for t in added} and len(added) > 6000

    saved = tmp_path / "as-saved"  # what transformers wrote, as copies prepared earlier have it
    saved.mkdir()
    shutil.copy(path / "tokenizer.json", saved)
    cfg = json.loads((path / "tokenizer_config.json").read_text())
    del cfg["added_tokens_decoder"]
    (saved / "tokenizer_config.json").write_text(json.dumps(cfg))
    texts = [
        "質問：令和元年は西暦何年ですか。\n答え：2019年",
        "<bos>お客様が<start_of_turn>user\nいらっしゃいました。<end_of_turn><eos>",
        "  全角　空白と\t\tタブ 😀🍣 ＡＢＣ①",
    ]
    for bos in (False, True):
        a = AutoTokenizer.from_pretrained(path, add_bos_token=bos)
        b = AutoTokenizer.from_pretrained(saved, add_bos_token=bos)
        assert (a(texts[0]).input_ids[0] == a.bos_token_id == 2) == bos
        for text in texts:
            ids = a(text).input_ids
            assert ids == b(text).input_ids
            for skip in (False, True):
                kw = {"skip_special_tokens": skip}
                assert a.decode(ids, **kw) == b.decode(ids, **kw)

    declare_added_tokens(saved)  # what `prepare-model` does to a copy prepared earlier
    cfg = json.loads((saved / "tokenizer_config.json").read_text())
    assert cfg["added_tokens_decoder"] == listed


def test_kv_reuse_matches_full_forward_on_gemma(gemma: HFBackend) -> None:
    """Gemma 3 mixes sliding-window and global attention layers: the cache path must still agree."""
    reqs = [
        Loglikelihood("質問：令和元年は西暦何年ですか。\n答え：", o)
        for o in ("2019年", "1989年です", "二〇一九")
    ] + [Loglikelihood("お客様が", "いらっしゃいました。")]
    got = gemma.loglikelihood(reqs)
    for req, res in zip(reqs, got, strict=True):
        ctx, cont = gemma.encode_pair(req)
        with torch.no_grad():
            lp = gemma.model(torch.tensor([ctx + cont])).logits.float().log_softmax(-1)[0]
        plain = sum(lp[len(ctx) - 1 + j, t].item() for j, t in enumerate(cont))
        # float32 sums over a 262k vocabulary, added up in another order: 1e-5 relative
        assert res.logprob == pytest.approx(plain, rel=1e-5, abs=1e-4)


def test_quick_suite_runs_on_default_model(gemma: HFBackend, tmp_path: Path) -> None:
    proc = run_cli(
        "run",
        "--model",
        "gemma-3-270m",
        "--suite",
        "quick",
        "--limit",
        "4",
        "--output",
        str(tmp_path),
        env={"JPEVAL_CACHE_DIR": str(USER_CACHE)},
    )
    assert "keigo.form_choice" in proc.stdout
    result = RunResult.model_validate_json(next(tmp_path.glob("gemma-3-270m/*.json")).read_text())
    assert set(result.categories) == {"keigo", "culture", "admin"}
    assert all(t.n == 4 for t in result.tasks.values())
    assert result.model.origin == "global" and result.model.fingerprint["revision"].startswith(
        "sha256:"
    )
