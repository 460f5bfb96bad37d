"""The built-in task modules: item quality, and chance/oracle checks through the real runner."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from jpeval.artifacts import check
from jpeval.registry import discover_tasks
from jpeval.requests import Loglikelihood, request_key
from jpeval.runner import RunConfig, run
from jpeval.task import Task
from tests.conftest import ScriptedBackend

FOUND = discover_tasks()
OWN_TASKS = {n: Task.load(p) for n, p in FOUND.items() if not n.startswith("external.")}
OWN = sorted(OWN_TASKS)
MC = [n for n in OWN if OWN_TASKS[n].spec.kind == "multiple_choice"]


@pytest.fixture
def tasks() -> dict[str, Task]:
    return OWN_TASKS


@pytest.mark.parametrize("name", OWN)
def test_items_are_unique_and_explained(tasks: dict[str, Task], name: str) -> None:
    task = tasks[name]
    questions = [task.render(i) for i in task.items + task.shots]
    assert len(set(questions)) == len(questions), "duplicate questions"
    assert all(i.fields["rationale"].strip() for i in task.items)


@pytest.mark.parametrize("name", OWN)
def test_no_shortcut_beats_chance(tasks: dict[str, Task], name: str) -> None:
    """`jpeval validate --artifacts --strict`: every no-knowledge baseline within chance ± 0.10
    (multiple choice), and nothing for an empty answer or a copy of the input (generation)."""
    flags = check(tasks[name]).flags()
    assert not flags, [f"{b.name}: {b.score:.3f} (chance {b.chance:.3f})" for b in flags]


@pytest.mark.parametrize("name", MC)
def test_gold_positions_are_balanced(tasks: dict[str, Task], name: str) -> None:
    task = tasks[name]
    n_opts = {len(i.fields[task.spec.choices or ""]) for i in task.items}
    assert len(n_opts) == 1
    counts = Counter(i.fields[task.spec.answer] for i in task.items)
    uniform = 1 / n_opts.pop()
    for pos, c in counts.items():
        assert abs(c / len(task.items) - uniform) <= 0.05, f"position {pos}: {c}/{len(task.items)}"


def test_culture_module_size(tasks: dict[str, Task]) -> None:
    culture = [t for n, t in tasks.items() if n.startswith("culture.")]
    assert len(culture) == 7
    assert all(len(t.items) >= 60 for t in culture)


def _gold_table(tasks: list[Task], chat: bool) -> dict[str, str]:
    table = {}
    for t in tasks:
        gen = t.generative(chat)
        for item in t.items:
            table[request_key(Loglikelihood(t.prompt(item, chat), ""))] = t.target(item, gen)
    return table


@pytest.mark.parametrize("chat", [False, True], ids=["loglikelihood", "generated-answer"])
def test_oracle_scores_one_and_constant_scores_chance(
    tasks: dict[str, Task], chat: bool, tmp_path: Path
) -> None:
    chosen = [tasks[n] for n in MC]
    gold = _gold_table(chosen, chat)
    cfg = RunConfig(model="hf:scripted", tasks=tuple(MC), output=tmp_path, use_cache=False)
    _, oracle, _ = run(cfg, backend=ScriptedBackend(gold, chat, oracle=True))
    _, constant, _ = run(cfg, backend=ScriptedBackend(gold, chat, oracle=False))
    for name in MC:
        assert oracle.tasks[name].score == 1.0, name
        assert oracle.tasks[name].mode == ("generate" if chat else "loglikelihood")
        chance = constant.tasks[name].chance  # 1 / number of options
        assert chance is not None and abs(constant.tasks[name].score - chance) <= 0.05, name


def test_oracle_scores_one_on_generation_tasks(tasks: dict[str, Task], tmp_path: Path) -> None:
    """Feeding back each item's first reference scores 1.0 under every task's primary metric
    (for keigo rewriting: the analyser accepts every reference and the overlap is total)."""
    names = [n for n in OWN if tasks[n].spec.kind == "generate"]
    gold = _gold_table([tasks[n] for n in names], chat=False)
    cfg = RunConfig(model="hf:scripted", tasks=tuple(names), output=tmp_path, use_cache=False)
    _, oracle, _ = run(cfg, backend=ScriptedBackend(gold, chat=False, oracle=True))
    assert {"keigo.correction", "keigo.conversion", "admin.wareki"} <= set(names)
    for name in names:
        assert oracle.tasks[name].score == 1.0, name
