"""Builds the multiple-choice forms of admin.koyobun_rewrite and admin.notice_qa.

    .venv/bin/python tasks/admin/build_mc_items.py

Reads the generation items (koyobun_rewrite/ and notice_qa/, test.jsonl and dev.jsonl) and
the wrong answers in koyobun_rewrite_mc/distractors.jsonl and notice_qa_mc/distractors.jsonl
(one line per item: id, three distractors, why), and writes test.jsonl and dev.jsonl of
koyobun_rewrite_mc/ and notice_qa_mc/. Each item keeps its id, prompt fields and rationale;
its choices are the reference (the first answer) inserted among the three distractors at
position index % 4 of its file, so gold positions are balanced. The build stops, naming the
item, when the ids of the two files differ, an item has not exactly three distractors, its
choices are not pairwise different, or a wrong answer could pass as right:
  koyobun_rewrite: the reference breaks a rule of the 公用文 checker, the first distractor is
    not the original sentence, or another distractor breaks no rule (the original sentence
    itself is wrong by the generation task's own labels, even where the checker cannot see it);
  notice_qa: a distractor equals an accepted answer after normalisation (NFKC, no spaces).
(jpeval never runs Python from task folders; this script is for the tasks' authors.)
"""

from __future__ import annotations

import json
from pathlib import Path

from jpeval.text.koyobun import check as koyobun_check
from jpeval.text.normalize import normalize

HERE = Path(__file__).parent
SPLITS = ("test", "dev")
PROMPT_FIELDS = {"koyobun_rewrite": ("document", "sentence"), "notice_qa": ("notice", "question")}


class BuildError(SystemExit):
    pass


def fail(task: str, item_id: str, problem: str) -> None:
    raise BuildError(f"{task}_mc {item_id}: {problem}")


def read_jsonl(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


def squash(text: str) -> str:
    """The normalised answer with no spaces at all (「市役所 1階」 == 「市役所1階」)."""
    return normalize(text).replace(" ", "")


def load_distractors(task: str, item_ids: list[str]) -> dict[str, list[str]]:
    path = HERE / f"{task}_mc" / "distractors.jsonl"
    rows = read_jsonl(path)
    by_id: dict[str, list[str]] = {}
    for row in rows:
        if row["id"] in by_id:
            fail(task, row["id"], f"listed twice in {path.name}")
        by_id[row["id"]] = row["distractors"]
    missing = [i for i in item_ids if i not in by_id]
    extra = [i for i in by_id if i not in set(item_ids)]
    if missing:
        fail(task, missing[0], f"no line in {path.name} ({len(missing)} item(s) missing)")
    if extra:
        fail(task, extra[0], f"in {path.name} but not an item of {task} ({len(extra)} extra)")
    for item_id, wrong in by_id.items():
        if not isinstance(wrong, list) or len(wrong) != 3:
            fail(task, item_id, f"expected 3 distractors, got {wrong!r:.80}")
        if not all(isinstance(w, str) and w.strip() for w in wrong):
            fail(task, item_id, "every distractor must be a non-empty string")
    return by_id


def check_koyobun(item: dict, wrong: list[str]) -> None:
    task, ref = "koyobun_rewrite", item["answer"][0]
    if found := koyobun_check(ref):
        fail(task, item["id"], f"reference {ref!r} breaks {[v.rule for v in found]}")
    if wrong[0] != item["sentence"]:
        fail(task, item["id"], f"first distractor must be the original sentence, got {wrong[0]!r}")
    for w in wrong:
        if w in item["answer"]:
            fail(task, item["id"], f"distractor {w!r} is an accepted answer")
        if w != item["sentence"] and not koyobun_check(w):
            fail(task, item["id"], f"distractor {w!r} breaks no rule of the checker")


def check_notice(item: dict, wrong: list[str]) -> None:
    accepted = {squash(a) for a in item["answer"]}
    for w in wrong:
        if squash(w) in accepted:
            fail("notice_qa", item["id"], f"distractor {w!r} normalises to an accepted answer")
    if len({squash(c) for c in [item["answer"][0], *wrong]}) != 4:
        fail("notice_qa", item["id"], "choices are not pairwise different after normalisation")


def build(task: str) -> dict[str, int]:
    items = {s: read_jsonl(HERE / task / f"{s}.jsonl") for s in SPLITS}
    all_ids = [r["id"] for s in SPLITS for r in items[s]]
    if len(set(all_ids)) != len(all_ids):
        dup = next(i for i in all_ids if all_ids.count(i) > 1)
        fail(task, dup, "id used twice in the generation items")
    distractors = load_distractors(task, all_ids)
    checker = check_koyobun if task == "koyobun_rewrite" else check_notice
    counts = {}
    for split in SPLITS:
        out = []
        for i, item in enumerate(items[split]):
            wrong = distractors[item["id"]]
            checker(item, wrong)
            choices = list(wrong)
            gold = i % 4
            choices.insert(gold, item["answer"][0])
            if len(set(choices)) != 4:
                fail(task, item["id"], "choices are not pairwise different")
            keep = {k: item[k] for k in PROMPT_FIELDS[task]}
            out.append(
                {
                    "id": item["id"],
                    **keep,
                    "choices": choices,
                    "answer": gold,
                    "rationale": item["rationale"],
                }
            )
        write_jsonl(HERE / f"{task}_mc" / f"{split}.jsonl", out)
        counts[split] = len(out)
    return counts


if __name__ == "__main__":
    for name in PROMPT_FIELDS:
        n = build(name)
        print(f"{name}_mc: " + ", ".join(f"{k} {v}" for k, v in n.items()))
