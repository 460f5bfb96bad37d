"""The artifact check: each no-knowledge baseline catches the cue planted for it, and a task
without cues passes."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from jpeval.artifacts import check
from jpeval.task import Task
from tests.conftest import gen_rows, make_task, run_cli

N = 200  # items per fixture: chance ± 0.10 is then more than 3 standard errors
POOL = [chr(c) for c in range(ord("あ"), ord("ん"))]  # hiragana, minus the two markers below
POOL = [c for c in POOL if c not in "ぬゑ"]

Options = Callable[[random.Random, str], tuple[str, list[str]]]  # -> (gold, distractors)


def _word(rng: random.Random, lo: int = 10, hi: int = 16) -> str:
    return "".join(rng.choice(POOL) for _ in range(rng.randint(lo, hi)))


def _edit(rng: random.Random, base: str, at: int) -> str:
    """``base`` with the character at ``at`` replaced by a different one."""
    new = rng.choice([c for c in POOL if c != base[at]])
    return base[:at] + new + base[at + 1 :]


def clean(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    """Unrelated options, or (every other item) four edits of one string none of which is
    its centre: no option stands out."""
    if rng.random() < 0.5:
        return _word(rng), [_word(rng) for _ in range(3)]
    base = _word(rng, 14, 14)
    gold, *wrong = [_edit(rng, base, at) for at in rng.sample(range(14), 4)]
    return gold, wrong


def longest(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    return _word(rng, 18, 22), [_word(rng, 8, 14) for _ in range(3)]


def shortest(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    return _word(rng, 6, 9), [_word(rng, 12, 18) for _ in range(3)]


def echoes_prompt(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    start = rng.randint(0, len(prompt) - 12)
    return prompt[start : start + 12], [_word(rng, 12, 12) for _ in range(3)]


def distractors_echo_prompt(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    starts = rng.sample(range(len(prompt) - 12), 3)
    return _word(rng, 12, 12), [prompt[s : s + 12] for s in starts]


def star(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    """The gold at the centre: each distractor changes one different character of it."""
    gold = _word(rng, 14, 14)
    return gold, [_edit(rng, gold, at) for at in rng.sample(range(14), 3)]


def odd_one_out(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    """Three near-copies of one string, and the gold unlike them."""
    base = _word(rng, 14, 14)
    return _word(rng, 14, 14), [_edit(rng, base, at) for at in rng.sample(range(14), 3)]


def marker(rng: random.Random, prompt: str) -> tuple[str, list[str]]:
    """The gold always holds one character that no distractor has (they hold another)."""

    def with_mark(mark: str) -> str:
        w = _word(rng, 12, 12)
        at = rng.randint(0, len(w))
        return w[:at] + mark + w[at:]

    return with_mark("ぬ"), [with_mark("ゑ") for _ in range(3)]


def mc_fixture(root: Path, name: str, options: Options, gold_at: Callable[[int], int]) -> Task:
    rng = random.Random(name)
    rows = []
    for i in range(N):
        prompt = _word(rng, 40, 60)
        gold, wrong = options(rng, prompt)
        pos = gold_at(i)
        rows.append(
            {
                "id": f"q{i}",
                "question": prompt,
                "choices": [*wrong[:pos], gold, *wrong[pos:]],
                "answer": pos,
                "rationale": "テスト用。",
            }
        )
    return Task.load(make_task(root, f"test.{name}", rows))


def flagged(task: Task) -> set[str]:
    return {b.name for b in check(task).flags()}


def test_a_task_without_cues_passes(tmp_path: Path) -> None:
    report = check(mc_fixture(tmp_path, "clean", clean, lambda i: i % 4))
    assert report.flags() == []
    for b in report.baselines:
        assert b.score is not None and abs(b.score - 0.25) < 0.08, b


PLANTED = [
    ("position", clean, lambda i: 0, "always the same position (the best one)"),
    ("longest", longest, lambda i: i % 4, "longest option"),
    ("shortest", shortest, lambda i: i % 4, "shortest option"),
    ("prompt", echoes_prompt, lambda i: i % 4, "most overlap with the prompt"),
    ("antiprompt", distractors_echo_prompt, lambda i: i % 4, "least overlap with the prompt"),
    ("medoid", star, lambda i: i % 4, "most like the other options (medoid)"),
    ("majority", star, lambda i: i % 4, "per-feature majority vote (small-edit option sets)"),
    ("outlier", odd_one_out, lambda i: i % 4, "least like the other options (outlier)"),
    ("marker", marker, lambda i: i % 4, "options-only classifier (char n-grams, 5-fold)"),
]


@pytest.mark.parametrize(
    ("name", "options", "gold_at", "heuristic"), PLANTED, ids=[p[0] for p in PLANTED]
)
def test_each_heuristic_catches_its_cue(
    tmp_path: Path, name: str, options: Options, gold_at: Callable[[int], int], heuristic: str
) -> None:
    report = check(mc_fixture(tmp_path, name, options, gold_at))
    found = {b.name: b for b in report.baselines}
    assert heuristic in {b.name for b in report.flags()}
    assert found[heuristic].score is not None and found[heuristic].score > 0.5


def test_the_marker_is_invisible_to_the_surface_heuristics(tmp_path: Path) -> None:
    """Only the classifier can see a cue that lives in which characters an option holds."""
    task = mc_fixture(tmp_path, "marker", marker, lambda i: i % 4)
    assert flagged(task) == {"options-only classifier (char n-grams, 5-fold)"}


def test_ties_count_one_over_k(tmp_path: Path) -> None:
    """Options of equal length: the length heuristics cannot decide and score exactly chance."""
    rows = [
        {"id": f"q{i}", "question": "問い", "choices": ["あい", "うえ", "おか", "きく"],
         "answer": i % 4, "rationale": "テスト用。"}
        for i in range(40)
    ]  # fmt: skip
    report = check(Task.load(make_task(tmp_path, "test.ties", rows)))
    scores = {b.name: b.score for b in report.baselines}
    assert scores["longest option"] == scores["shortest option"] == 0.25


def test_generation_copy_and_empty_baselines(tmp_path: Path) -> None:
    rows = [
        {"id": f"g{i}", "sentence": f"文{i}をそのまま", "answer": [f"文{i}をそのまま"],
         "rationale": "テスト用。"}
        for i in range(30)
    ]  # fmt: skip
    copied = make_task(
        tmp_path,
        "test.copy",
        rows,
        kind="generate",
        prompt="{{ sentence }}",
        metrics=["exact_match"],
    )
    scores = {b.name: b.score for b in check(Task.load(copied)).flags()}
    assert scores == {"copy of `sentence`": 1.0}
    # references that normalise to nothing reward saying nothing
    blank = [{**r, "answer": ["。"]} for r in rows]
    empty = make_task(
        tmp_path, "test.empty", blank, kind="generate", prompt="{{ sentence }}",
        metrics=["exact_match"],
    )  # fmt: skip
    assert {b.name for b in check(Task.load(empty)).flags()} == {"empty answer"}
    fine = make_task(tmp_path, "test.fine", gen_rows(30), kind="generate", metrics=["exact_match"])
    assert check(Task.load(fine)).flags() == []


def test_cli_prints_the_table_and_strict_fails(tmp_path: Path) -> None:
    mc_fixture(tmp_path, "longest", longest, lambda i: i % 4)
    folder = tmp_path / "test_longest"
    loose = run_cli("validate", str(folder), "--artifacts")
    assert "longest option" in loose.stdout and "FLAG" in loose.stdout
    strict = run_cli("validate", str(folder), "--artifacts", "--strict", check=False)
    assert strict.returncode == 1
    assert "test.longest: longest option scores" in strict.stderr
    assert (
        run_cli("validate", str(folder), "--artifacts", "--strict", "--tolerance", "0.9").returncode
        == 0
    )


def _rule_items(shared: bool) -> list[dict[str, object]]:
    """Ten rules, each with its own wrong spelling (a character only its distractors hold), or
    (``shared``) one mark of the gold common to every rule."""
    rng = random.Random(f"rules-{shared}")
    marks = POOL[:10]
    pool = [c for c in POOL if c not in marks]
    rows = []
    for i in range(N):
        rule = i % 10

        def word(mark: str = "") -> str:
            w = "".join(rng.choice(pool) for _ in range(12))
            return w[:6] + mark + w[6:]

        if shared:
            gold, wrong = word("ぬ"), [word("ゑ") for _ in range(3)]
        else:
            gold, wrong = word(rng.choice(pool)), [word(marks[rule]) for _ in range(3)]
        pos = i % 4
        rows.append({"id": f"q{i}", "question": word(), "rule": f"rule-{rule}",
                     "choices": [*wrong[:pos], gold, *wrong[pos:]], "answer": pos,
                     "rationale": "テスト用。"})  # fmt: skip
    return rows


def test_grouped_classifier_counts_only_cues_that_carry_across_rules(tmp_path: Path) -> None:
    """A wrong spelling learnt from other items of its rule is the skill; a mark of the gold
    shared by every rule is a shortcut."""
    classifier = "options-only classifier (char n-grams, 5-fold by group)"
    own = make_task(tmp_path, "test.own", _rule_items(False), artifact_group="rule")
    shared = make_task(tmp_path, "test.shared", _rule_items(True), artifact_group="rule")
    plain = make_task(tmp_path, "test.plain", _rule_items(False))
    assert flagged(Task.load(own)) == set()
    assert classifier in flagged(Task.load(shared))
    assert "options-only classifier (char n-grams, 5-fold)" in flagged(Task.load(plain))


def test_artifact_group_field_must_be_on_every_item(tmp_path: Path) -> None:
    from jpeval.errors import ValidationError

    rows = _rule_items(False)[:5]
    del rows[2]["rule"]
    with pytest.raises(ValidationError) as e:
        Task.load(make_task(tmp_path, "test.nogroup", rows, artifact_group="rule"))
    assert "test.jsonl:3: rule: expected a non-empty string" in str(e.value)
