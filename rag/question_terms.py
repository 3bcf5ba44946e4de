"""The words of a question that a supporting sentence should echo: key terms (content words
minus places, years and cue words), the content left after question words, the topic a
summary question names, and the text retrieval searches with (English questions get the
Chinese names of what they ask). Part of the question analysis (:mod:`rag.query`).
"""
from __future__ import annotations

import re

from .lexicon import lexicon
from .question_cues import YEAR, cue_words, cues
from .question_parts import Part, blank
from .text.tokenize import stop_words, tokenize

_CUE_GROUPS = ("intent", "measure", "figure", "relative_years", "parts", "followup")


def _without(q: str, names: tuple[str, ...]) -> str:
    for n in names:
        q = q.replace(n, " ")
    return YEAR.sub(" ", q)


def key_terms(q: str, parts: list[Part], names: tuple[str, ...], english: bool) -> tuple[str, ...]:
    """Key terms: the question's content words, minus places, years, cue words."""
    lex = lexicon()
    text = q
    for n in names:
        text = text.replace(n, " ")
    text = blank(text.lower(), lex.asked(text.lower()))
    text = YEAR.sub(" ", text)
    skip = cue_words(*_CUE_GROUPS)
    out = [t for t in tokenize(text) if not (t in skip or t.isdigit() or (english and t.isascii()))]
    named = set()
    for p in parts:
        if p.indicator:  # one term: any of the indicator's report names ("实际使用外资|实际利用外资|…")
            names = lex.search_names(p.indicator)
            named |= set(names)
            out.append("|".join(dict.fromkeys(names + tuple(t for t in lex.by_id[p.indicator].terms if not t.isascii()))))
    if english:
        out += [t for t in english_terms(q.lower()) if t not in named]
        # a figure the question quotes ("more than 2,600 registered companies") is written
        # the same in the report: the one word an English question shares with it
        out += [n.replace(",", "") for n in re.findall(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d{3,}", YEAR.sub(" ", q))]
    return tuple(dict.fromkeys(out))


def english_terms(low: str) -> list[str]:
    """Chinese words for an English question's content: indicators from the lexicon, other
    words from the glossary ("港|港口": any of the wordings counts)."""
    lex = lexicon()
    out = [n for h in lex.asked(low) for n in lex.search_names(h.indicator)]
    out += ["|".join(alts) for alts in lex.translate(blank(low, lex.asked(low)))]
    return out


def content(q: str, names: tuple[str, ...]) -> str:
    """The question without places, years, stop words and cue words."""
    text = _without(q, names)
    words = set(stop_words()) | cue_words(*_CUE_GROUPS)
    for w in sorted(words, key=lambda w: (-len(w), w)):  # longest first; ties in a fixed order
        if len(w) >= 2:
            text = text.replace(w, " ")
    return re.sub(r"[\s\W_]+", " ", text).strip()


def topic(q: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The words naming the part a summary question is about: quoted text first
    ("“全方位扩大内需”这部分"), else the content words between the place/year and the cue."""
    period = set(cues()["period"]["words"])
    quoted = [x for x in re.findall(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]", q) if x not in period and len(x) >= 4]
    if quoted:
        return tuple(quoted)
    stop = set(stop_words()) | set(cues()["topic"]["generic"])
    if not re.search(r"[\u4e00-\u9fff]", q):
        # English: the glossary's Chinese for its phrases, the indicators' plain words among
        # them ("stabilising foreign trade and foreign investment": 外贸, 外资)
        return tuple(dict.fromkeys(f[0] for f in lexicon().translate(q) if f[0] not in stop and len(f[0]) >= 2))
    text = _without(q, names)
    for w in sorted(cues()["intent"]["summary"] + cues()["topic"]["frame"], key=len, reverse=True):
        text = text.replace(w, " ")
    from .text.tokenize import words

    toks = [t for t in words(text) if len(t) >= 2 and t not in stop and re.search(r"[\u4e00-\u9fff]", t)
            and not re.fullmatch(r"[一二三四五六七八九十两\d]+[个项类条件大]", t)]  # "五个" counts, names nothing
    return tuple(dict.fromkeys(toks))


def search_text(q: str, parts: list[Part], english: bool, time: str) -> str:
    """What retrieval embeds and tokenises: the question, plus the Chinese names of what it asks."""
    lex = lexicon()
    extra = [lex.names_of(p.indicator)[0] for p in parts if p.indicator]
    if english:
        extra += [t.replace("|", " ") for t in english_terms(q.lower())]
        if time == "target":
            extra.append("目标")
        extra += ["增长" for p in parts if p.measure == "growth"]
    return q + (" " + " ".join(dict.fromkeys(extra)) if extra else "")
