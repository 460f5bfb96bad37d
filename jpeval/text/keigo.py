"""A rule-based honorific (敬語) analyser on fugashi + unidic-lite.

UniDic has no honorific tag, so keigo is found from lemmas (in kanji: 仰る, 為る, 御, 下さる)
and token patterns:

* 尊敬語: 尊敬 verbs (いらっしゃる, 仰る, 召し上がる, 為さる, 下さる), 御覧,
  御 + (名詞|連用形) + に + 成る, 御 + 連用形 + 下さる (お待ちください), ご存じ,
  お + 連用形 + の|です|だ (お探しの靴, お持ちですか: the お〜だ type);
* 謙譲語 (Ⅰ and Ⅱ): 謙譲 verbs (申す, 申し上げる, 参る, 伺う, 致す, 頂く, 存じる, 拝見する …),
  御 + (サ変名詞|連用形) + 為る / 致す / 出来る / 頂く;
* 丁寧語: です, ます, ございます.

``benefactive`` marks お/ご〜いただく and 〜ていただく: 謙譲語Ⅰ that raises the one who does the
favour (お読みいただけましたか), the other common way, beside 尊敬語, of honouring the listener's
action.

Errors are those visible from the form alone (no knowledge of whose action it is):

* ``double_honorific``: れる/られる on a 尊敬 form (おっしゃられる, ご覧になられる);
* ``humble_plus_respect``: れる/られる on a 謙譲 form (申される, 拝見される);
* ``humble_request``: a 謙譲 form asked of the listener (ご利用してください, 伺ってください);
* ``humble_potential``: お/ご〜できる (ご利用できます).

Accepted and never flagged: 敬語連結 (召し上がっていらっしゃる), お〜いたす, お〜いただける,
いらっしゃる, お伺いする, お召し上がりになる, おられる (usage divided), passive and potential
れる/られる on plain verbs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jpeval.text.segment import words_with_spans

ANALYSER_VERSION = "2"

SONKEI_VERBS = {
    "仰る": "おっしゃる",
    "いらっしゃる": "いらっしゃる",
    "召し上がる": "召し上がる",
    "為さる": "なさる",
    "下さる": "くださる",
    "召す": "召す",
}
# 謙譲 verb -> its 尊敬 counterpart where that is unambiguous (None: depends on the meaning).
KENJO_VERBS: dict[str, str | None] = {
    "申す": "おっしゃる",
    "申し上げる": "おっしゃる",
    "参る": "いらっしゃる",
    "伺う": None,  # 聞く or 訪ねる
    "致す": "なさる",
    "頂く": None,  # もらう or 食べる
    "存じる": "ご存じだ",
    "存ずる": "ご存じだ",
    "存じ上げる": "ご存じだ",
    "差し上げる": None,
    "承る": None,
    "賜る": None,
}
KENJO_SURU_NOUNS = {
    "拝見": "ご覧になる",
    "拝読": "お読みになる",
    "拝借": "お借りになる",
    "拝聴": "お聞きになる",
    "頂戴": None,
}
RARERU = {"れる", "られる"}
POLITE = {"ます", "です", "御座る"}


@dataclass(frozen=True)
class KeigoError:
    kind: str  # double_honorific | humble_plus_respect | humble_request | humble_potential
    span: tuple[int, int]  # character offsets [start, end) in the analysed text
    suggestion: str | None = None


@dataclass
class Analysis:
    text: str
    sonkeigo: bool = False
    kenjogo: bool = False
    teineigo: bool = False
    benefactive: bool = False  # お〜いただく, 〜ていただく: raises the giver of the favour
    errors: list[KeigoError] = field(default_factory=list)


@dataclass(frozen=True)
class _Tok:
    surface: str
    lemma: str
    pos1: str
    pos3: str
    start: int
    end: int


def _tokens(text: str) -> list[_Tok]:
    out = []
    for w, start, end in words_with_spans(text):
        f = w.feature
        out.append(_Tok(w.surface, f.lemma or w.surface, f.pos1, f.pos3 or "", start, end))
    return out


def _lemma(toks: list[_Tok], i: int) -> str:
    return toks[i].lemma if 0 <= i < len(toks) else ""


def _o_go_stem(toks: list[_Tok], i: int) -> bool:
    """toks[i-1:i+1] is お/ご + (サ変 noun | verb 連用形): the stem of お〜する / お〜になる."""
    if i < 1 or toks[i - 1].lemma != "御":
        return False
    t = toks[i]
    if t.pos1 == "動詞" or (t.pos1 == "名詞" and "サ変" in t.pos3):
        return True
    # お + a verb's 連用形 that UniDic lists as a noun (お選び, お支払い), not お茶 or お菓子
    return t.pos1 == "名詞" and toks[i - 1].surface == "お" and "ぁ" <= t.surface[-1] <= "ゖ"


# お + a noun that is a plain word, not the お〜だ 尊敬語 of a verb (市のお知らせです)
_O_NOUNS = {
    "知らせ", "願い", "祝い", "礼", "詫び", "土産", "釣り", "見舞い", "勧め", "祭り", "年寄り",
    "握り", "代わり", "預かり", "返し", "支払い", "問い合わせ",
}  # fmt: skip


def _o_da(toks: list[_Tok], i: int) -> bool:
    """toks[i-1:i+2] is お + a verb's 連用形 + の|です|だ: 尊敬語 of the お〜だ type."""
    if i < 1 or i + 1 >= len(toks) or toks[i - 1].surface != "お":
        return False
    if not _o_go_stem(toks, i) or toks[i].lemma in _O_NOUNS or toks[i].pos1 not in {"動詞", "名詞"}:
        return False
    return toks[i + 1].lemma in {"の", "です", "だ"}


def _o_me_ni_kakaru(toks: list[_Tok], i: int) -> bool:
    """toks[i] is かかる of お目にかかる (謙譲語Ⅰ of 会う)."""
    return toks[i].lemma == "掛かる" and [_lemma(toks, i - k) for k in (3, 2, 1)] == [
        "御",
        "目",
        "に",
    ]


def analyze(text: str) -> Analysis:
    """Keigo types present in ``text`` and the errors visible from form alone."""
    toks = _tokens(text)
    a = Analysis(text)
    for i, t in enumerate(toks):
        nxt = _lemma(toks, i + 1)
        prev_go = i >= 1 and toks[i - 1].lemma == "御"
        if t.lemma in POLITE:
            a.teineigo = True
        # 尊敬語 forms
        if t.lemma in SONKEI_VERBS:
            a.sonkeigo = True
        if t.lemma == "御覧" or (prev_go and t.lemma in {"存ずる", "存じる"} and t.pos1 == "動詞"):
            a.sonkeigo = True
        honorific_naru = (
            t.lemma == "成る"
            and _lemma(toks, i - 1) == "に"
            and (
                _lemma(toks, i - 2) == "御覧"
                or _o_go_stem(toks, i - 2)
                or (i >= 3 and toks[i - 3].lemma == "御")
            )
        )
        if honorific_naru or _o_da(toks, i):
            a.sonkeigo = True
        if t.lemma == "頂く" and (_lemma(toks, i - 1) in {"て", "で"} or _o_go_stem(toks, i - 1)):
            a.benefactive = True
        # 謙譲語 forms
        humble_idiom = _o_me_ni_kakaru(toks, i)
        humble_verb = (t.lemma in KENJO_VERBS and not prev_go) or humble_idiom
        humble_suru = t.lemma == "為る" and (
            _o_go_stem(toks, i - 1) or _lemma(toks, i - 1) in KENJO_SURU_NOUNS
        )
        if (
            humble_verb
            or humble_suru
            or (t.lemma in {"致す", "出来る", "頂く"} and _o_go_stem(toks, i - 1))
        ):
            a.kenjogo = True
        if t.lemma == "居る" and t.surface.startswith("お"):
            a.kenjogo = True  # おる (謙譲語Ⅱ), not いる

        if nxt in RARERU and toks[i + 1].pos1 == "助動詞":
            end = toks[i + 1].end
            if t.lemma in SONKEI_VERBS and t.lemma != "召す":
                a.errors.append(
                    KeigoError("double_honorific", (t.start, end), SONKEI_VERBS[t.lemma])
                )
            elif honorific_naru:
                start = _naru_start(toks, i)
                a.errors.append(
                    KeigoError(
                        "double_honorific",
                        (toks[start].start, end),
                        text[toks[start].start : t.start] + "なる",
                    )
                )
            elif humble_idiom:
                span = (toks[i - 3].start, end)
                a.errors.append(KeigoError("humble_plus_respect", span, "お会いになる"))
            elif humble_verb:
                a.errors.append(
                    KeigoError("humble_plus_respect", (t.start, end), KENJO_VERBS[t.lemma])
                )
            elif t.lemma == "為る" and _lemma(toks, i - 1) in KENJO_SURU_NOUNS:
                noun = toks[i - 1]
                a.errors.append(
                    KeigoError(
                        "humble_plus_respect", (noun.start, end), KENJO_SURU_NOUNS[noun.lemma]
                    )
                )
        # お/ご〜できる
        if t.lemma == "出来る" and _o_go_stem(toks, i - 1):
            stem = text[toks[i - 2].start : toks[i - 1].end]
            a.errors.append(
                KeigoError("humble_potential", (toks[i - 2].start, t.end), stem + "になれる")
            )
        # a 謙譲 form + て + 下さる: asking the listener to act humbly
        if t.lemma == "下さる" and _lemma(toks, i - 1) in {"て", "で"} and i >= 2:
            j = i - 2
            verb = toks[j]
            if verb.lemma == "為る" and _o_go_stem(toks, j - 1):
                stem = text[toks[j - 2].start : toks[j - 1].end]
                a.errors.append(
                    KeigoError("humble_request", (toks[j - 2].start, t.end), stem + "ください")
                )
            elif verb.lemma == "為る" and _lemma(toks, j - 1) in KENJO_SURU_NOUNS:
                noun = toks[j - 1]
                sugg = KENJO_SURU_NOUNS[noun.lemma]
                request = sugg.removesuffix("になる") + "ください" if sugg else None
                a.errors.append(KeigoError("humble_request", (noun.start, t.end), request))
            elif verb.lemma in KENJO_VERBS and _lemma(toks, j - 1) != "御":
                a.errors.append(KeigoError("humble_request", (verb.start, t.end), None))
            elif verb.lemma == "致す" and _o_go_stem(toks, j - 1):
                stem = text[toks[j - 2].start : toks[j - 1].end]
                a.errors.append(
                    KeigoError("humble_request", (toks[j - 2].start, t.end), stem + "ください")
                )
    if any(e.kind in {"double_honorific", "humble_plus_respect"} for e in a.errors):
        a.sonkeigo = True  # the added れる/られる is meant as 尊敬
    if any(e.kind != "double_honorific" for e in a.errors):
        a.kenjogo = True
    return a


def _naru_start(toks: list[_Tok], i: int) -> int:
    """Index of the first token of お〜になる / ご覧になる ending at toks[i] (成る)."""
    j = i - 2  # the stem or 御覧
    if toks[j].lemma == "御覧":
        return j
    k = j
    while k > 0 and toks[k - 1].lemma != "御":
        k -= 1
    return k - 1 if k > 0 else j
