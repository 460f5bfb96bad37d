"""Builds the multiple-choice forms of admin.koyobun_rewrite and admin.notice_qa.

    .venv/bin/python tasks/admin/build_mc_items.py [koyobun_rewrite|notice_qa]

Reads the generation items (koyobun_rewrite/ and notice_qa/, test.jsonl and dev.jsonl) and
the wrong answers in koyobun_rewrite_mc/distractors.jsonl and notice_qa_mc/distractors.jsonl
(one line per item: id, three distractors, why), and writes test.jsonl and dev.jsonl of
koyobun_rewrite_mc/ and notice_qa_mc/. Each item keeps its id, prompt fields and rationale;
its choices are the key inserted among the three distractors at position index % 4 of its
output file, so gold positions are balanced. The build stops, naming the item, when the ids of the two
files differ, an item has not exactly three distractors, its choices are not pairwise different,
or a wrong answer could pass as right:
  koyobun_rewrite: each line also names `key` ("answer": the reference, the first answer;
    "sentence": the original sentence, where it already follows the 2022 document and its only
    "error" is a form the document allows), `allowed` (the checker's rules whose hits are such
    allowed forms in this item: long_vowel, punctuation (「，」 only), arabic_numerals
    (full-width digits only), kanji_conjunction (kana 及び/又は… in notices for residents)),
    `rule` (what the options test: the section of the 2022 document, 漢字の使い方 /
    数字の使い方 / 符号の使い方, the task's artifact_group) and `why`. The key must break no
    rule outside `allowed`; every distractor must break one (a hit of the checker outside
    `allowed`, or one of the spellings in WRONG_SPELLINGS), must differ from every accepted
    answer, and the original sentence may be a distractor only where it is wrong itself;
  notice_qa: a distractor equals an accepted answer after normalisation (NFKC, no spaces);
    a line may name `key`, another of the accepted answers, to stand as the correct option.
A line with `drop` (its reason) and no distractors leaves the item out of the multiple-choice
form (koyobun_rewrite: items whose sentence offers a single place where a rewrite can go wrong;
notice_qa: items whose notice holds no other value of the answer's kind to draw wrong answers
from, so that the correct option would be the only one copied from the notice).
The rationale is the item's (or the line's own `rationale`, where the key is the original
sentence) followed by `why`.
(jpeval never runs Python from task folders; this script is for the tasks' authors.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jpeval.text.koyobun import check as koyobun_check
from jpeval.text.normalize import normalize

HERE = Path(__file__).parent
SPLITS = ("test", "dev")
PROMPT_FIELDS = {"koyobun_rewrite": ("document", "sentence"), "notice_qa": ("notice", "question")}


# 2022 document rules the checker does not see: words written in kana in 公用文 (補助動詞,
# 形式名詞, 助動詞・助詞), characters or readings outside the 常用漢字表, 「．」 as a full stop, and
# 送り仮名 that follow a 許容 of 「送り仮名の付け方」 where 公用文 writes the 本則 (行なう -> 行う).
WRONG_SPELLINGS = {
    "補助動詞「ください」は仮名": r"下さい",
    "「できる」は仮名": r"出来",
    "補助動詞「いる」は仮名": r"[てで]居[るまな]",
    "「ある」は仮名": r"[がで]有[るりっ]",
    "「ない」は仮名": r"[がの]無[いく]",
    "「ため」は仮名（表外訓）": r"為",
    "助動詞「ように」は仮名": r"様に",
    "「とおり」は仮名": r"通り",
    "補助動詞「いただく」は仮名": r"て頂",
    "「迄」は表外字": r"迄",
    "「依る」は表外訓": r"に依[るりっ]",
    "「判る」は表外訓": r"判[りるっ]",
    "「…について」は仮名": r"に就いて",
    "「於」は表外字": r"に於いて",
    "「なる」は仮名": r"[ばにと]成[らりるっ]",
    "形式名詞「ところ」は仮名": r"[るた]所",
    "句点は「。」": r"．",
    "語を構成する数・概数は漢数字": r"1時的|1時停止|の1部|数10|1人1人",
    "横書きでは算用数字": r"(?<![数何一])(?:[二三四五六七八九十百千][一二三四五六七八九十百千]*|一[十百千]"
    r"[一二三四五六七八九十]*)(?:年|月|日|人|円|件|回|歳|時|分|部|冊|枚|台|世帯)",
    "3桁ごとの区切りの誤り": r"\d{4,},\d|\d,(?:\d{1,2}|\d{4,})(?!\d)",
    "「ヶ・カ・ケ」でなく「か」": r"\d[ヶカケ][月所]",
    "送り仮名は本則（許容の「行なう」でなく「行う」）": r"行な[わいうえおっ]",
}
ALLOWED_FORMS = {  # rule -> the hits that are allowed forms (the 2022 document allows them)
    "long_vowel": r".*",
    "punctuation": r"，",
    "arabic_numerals": r"[０-９]+",
    "kanji_conjunction": r".*",
}


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


def load_distractors(task: str, item_ids: list[str]) -> dict[str, dict]:
    path = HERE / f"{task}_mc" / "distractors.jsonl"
    rows = read_jsonl(path)
    by_id: dict[str, dict] = {}
    for row in rows:
        if row["id"] in by_id:
            fail(task, row["id"], f"listed twice in {path.name}")
        by_id[row["id"]] = row
    missing = [i for i in item_ids if i not in by_id]
    extra = [i for i in by_id if i not in set(item_ids)]
    if missing:
        fail(task, missing[0], f"no line in {path.name} ({len(missing)} item(s) missing)")
    if extra:
        fail(task, extra[0], f"in {path.name} but not an item of {task} ({len(extra)} extra)")
    for item_id, row in by_id.items():
        if row.get("drop"):  # left out of the multiple-choice form, for the reason given
            continue
        wrong = row["distractors"]
        if not isinstance(wrong, list) or len(wrong) != 3:
            fail(task, item_id, f"expected 3 distractors, got {wrong!r:.80}")
        if not all(isinstance(w, str) and w.strip() for w in wrong):
            fail(task, item_id, "every distractor must be a non-empty string")
    return by_id


def koyobun_errors(text: str, allowed: list[str]) -> list[str]:
    """What is wrong in ``text`` by the 2022 document, leaving out the allowed forms."""
    found = []
    for v in koyobun_check(text):
        hit = text[v.span[0] : v.span[1]]
        if v.rule in allowed and re.fullmatch(ALLOWED_FORMS[v.rule], hit):
            continue
        found.append(f"{v.rule}:{hit}")
    found += [name for name, rx in WRONG_SPELLINGS.items() if re.search(rx, text)]
    return found


def koyobun_key(item: dict, row: dict) -> str:
    return item["sentence"] if row.get("key") == "sentence" else item["answer"][0]


def check_koyobun(item: dict, wrong: list[str], row: dict) -> None:
    task = "koyobun_rewrite"
    allowed = row.get("allowed", [])
    if unknown := set(allowed) - set(ALLOWED_FORMS):
        fail(task, item["id"], f"unknown allowed rule(s) {sorted(unknown)}")
    if row.get("key", "answer") not in ("answer", "sentence"):
        fail(task, item["id"], f"key must be 'answer' or 'sentence', got {row.get('key')!r}")
    if not (isinstance(row.get("rule"), str) and row["rule"].strip()):
        fail(task, item["id"], "every line names the `rule` its options test")
    key = koyobun_key(item, row)
    if found := koyobun_errors(key, allowed):
        fail(task, item["id"], f"key {key!r} breaks {found}")
    for w in wrong:
        if w in item["answer"] or w == key:
            fail(task, item["id"], f"distractor {w!r} is an accepted answer")
        if not koyobun_errors(w, allowed):
            fail(task, item["id"], f"distractor {w!r} breaks no rule")


def notice_key(item: dict, row: dict) -> str:
    """The reference, or the accepted answer the line names as `key` (another accepted form)."""
    return row.get("key") or item["answer"][0]


def check_notice(item: dict, wrong: list[str], row: dict) -> None:
    if row.get("key") and row["key"] not in item["answer"]:
        fail("notice_qa", item["id"], f"key {row['key']!r} is not an accepted answer")
    accepted = {squash(a) for a in item["answer"]}
    for w in wrong:
        if squash(w) in accepted:
            fail("notice_qa", item["id"], f"distractor {w!r} normalises to an accepted answer")
    if len({squash(c) for c in [notice_key(item, row), *wrong]}) != 4:
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
            row = distractors[item["id"]]
            if row.get("drop"):
                continue
            wrong = row["distractors"]
            checker(item, wrong, row)
            choices = list(wrong)
            gold = len(out) % 4
            key = koyobun_key(item, row) if task == "koyobun_rewrite" else notice_key(item, row)
            choices.insert(gold, key)
            if len(set(choices)) != 4:
                fail(task, item["id"], "choices are not pairwise different")
            keep = {k: item[k] for k in PROMPT_FIELDS[task]}
            rationale = row.get("rationale") or item["rationale"]
            if row.get("why"):
                rationale = f"{rationale} {row['why']}"
            extra = {"rule": row["rule"]} if task == "koyobun_rewrite" else {}
            out.append(
                {
                    "id": item["id"],
                    **keep,
                    "choices": choices,
                    "answer": gold,
                    **extra,
                    "rationale": rationale,
                }
            )
        write_jsonl(HERE / f"{task}_mc" / f"{split}.jsonl", out)
        counts[split] = len(out)
    return counts


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or PROMPT_FIELDS:  # one task: build_mc_items.py notice_qa
        n = build(name)
        print(f"{name}_mc: " + ", ".join(f"{k} {v}" for k, v in n.items()))
