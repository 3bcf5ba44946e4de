"""Where a question is about: the regions it names (gazetteer and the indexed reports'
own names; English names; one-character 简称), resolved once — a parent naming its child
qualifies it ("重庆江北区"), namesakes both indexed go to the higher level, a region named
as a yardstick ("居宁波全市第一", "高于全国") is not a subject — and a place that neither
knows ("火星2020年GDP"). Part of the question analysis (:mod:`rag.query`).
"""
from __future__ import annotations

import functools
import re

from .gazetteer import NATIONAL_KEY, gazetteer
from .lexicon import lexicon, pattern
from .text.tokenize import stop_words


def _raw(name: str) -> str:
    """A ``cues.toml [patterns]`` entry as text, to be joined into a larger pattern."""
    return lexicon().cues["patterns"][name]


def region_hits(q: str, low: str, english: bool, corpus_aliases: dict[str, tuple[str, ...]]):
    """(region keys asked, names as written, unknown places)."""
    g = gazetteer()
    corpus_keys = {k for ks in corpus_aliases.values() for k in ks}
    hits = g.find(q, extra=corpus_aliases, safe_only=True)
    words = None
    out: list[tuple[int, int, str, tuple[str, ...]]] = []
    endings = tuple(lexicon().regions["entity_endings"])
    for h in hits:
        if q.startswith(endings, h.end) and h.alias not in corpus_aliases:
            continue  # "广州港", "浙江大学": a proper name, not the region
        trusted = h.alias in corpus_aliases or len(h.alias) >= 3 or h.alias in lexicon().regions["national"]["aliases"]
        if not trusted:
            # a two-character name must be a word of its own here ("合作" in "区域合作" is not 合作市)
            if words is None:
                from .text.tokenize import words as cut

                bounds, pos = set(), 0
                for w in cut(q):
                    bounds.add(pos)
                    pos += len(w)
                bounds.add(pos)
                words = bounds
            if h.start not in words or h.end not in words:
                continue
        out.append((h.start, h.end, h.alias, h.keys))
    if re.search(r"[A-Za-z]{3,}", q):  # English names, also inside a mostly Chinese question
        for h in g.find_english(q):
            if not any(s <= h.start < e for s, e, _, _ in out):
                out.append((h.start, h.end, h.alias, h.keys))
    # one-character 简称 ("沪2025年…") only right before a year or a figure word
    abbr = lexicon().regions["abbreviations"]
    # … also several run together ("渝皖两地", "京津冀2024年")
    chars = "".join(abbr)
    for m in re.finditer(rf"(?<![\u4e00-\u9fff])([{chars}]{{1,4}})(?:{_raw('abbreviations_next')}|{_raw('short_name_next')})", q):
        for i, ch in enumerate(m.group(1)):
            if not any(s <= m.start() + i < e for s, e, _, _ in out):
                out.append((m.start() + i, m.start() + i + 1, ch, (abbr[ch],)))
    nat = lexicon().regions["national"]
    for m in re.finditer(rf"({'|'.join(map(re.escape, nat.get('subject_aliases', [])))}){_raw('national_next')}", q):
        if not any(s <= m.start() < e for s, e, _, _ in out):
            out.append((m.start(), m.end(), m.group(1), (NATIONAL_KEY,)))
    out.sort()
    keys: list[str] = []
    names: list[str] = []
    for i, (s, e, alias, cand) in enumerate(out):
        # a parent naming its child right after it qualifies it: "重庆江北区", "宁波市海曙区"
        nxt = out[i + 1] if i + 1 < len(out) else None
        qualifies = lambda a, b: re.fullmatch(r"\s*(?:的|市|省)?\s*", q[a:b]) is not None  # noqa: E731
        if nxt and qualifies(e, nxt[0]) and any(c in (g.get(k).ancestors() if g.get(k) else []) for k in nxt[3] for c in cand):
            continue
        prev = out[i - 1] if i > 0 else None
        if prev and qualifies(prev[1], s):
            narrowed = tuple(k for k in cand if g.get(k) and any(p in g.get(k).ancestors() for p in prev[3]))
            cand = narrowed or cand
        in_corpus = tuple(k for k in cand if k in corpus_keys)
        chosen = in_corpus[0] if len(in_corpus) >= 1 else cand[0]
        if len(in_corpus) > 1:  # namesakes both indexed: the higher level ("吉林" = 吉林省)
            chosen = min(in_corpus, key=lambda k: (len(k.split("/")), k))
        elif not in_corpus and len(cand) > 1:
            chosen = min(cand, key=lambda k: (len(k.split("/")), k))
        if chosen not in keys:
            keys.append(chosen)
            names.append(q[s:e])
    unknown = _unknown_place(q, low, english, out)
    if len(keys) > 1:
        # "在宁波全市排第一", "居全省前列": a region named as the yardstick, not the subject
        spans = {q[s:e]: (s, e) for s, e, _, _ in out}
        context = [k for k, n in zip(keys, names) if n in spans and (
            pattern("yardstick_before").search(q[:spans[n][0]]) or pattern("yardstick_after").match(q[spans[n][1]:]))]
        # an ancestor of another named region, not joined to it by 和/与/and: the yardstick
        joined = pattern("place_joiner")
        for k, n in zip(keys, names):
            others = [(k2, n2) for k2, n2 in zip(keys, names) if k2 != k]
            if any(g.get(k2) and k in g.get(k2).ancestors() for k2, _ in others) and n in spans:
                s0, e0 = spans[n]
                near = [spans[n2] for _, n2 in others if n2 in spans]
                compared = pattern("compared").search(low)
                between_has_joiner = any(pattern("between_joiner").search(q[min(e0, e1): max(s0, s1)]) for s1, e1 in near)
                if not any(joined.match(q[min(e0, e1): max(s0, s1)]) for s1, e1 in near) and not (compared and between_has_joiner):
                    context.append(k)
        context = list(dict.fromkeys(context))  # found by both rules, still one region
        if context and len(context) < len(keys):
            keep = [(k, n) for k, n in zip(keys, names) if k not in context]
            keys, names = [k for k, _ in keep], [n for _, n in keep]
    if NATIONAL_KEY in keys and len(keys) > 1:
        # "全国第一", "高于全国平均": the nation is the yardstick, not the subject
        i = keys.index(NATIONAL_KEY)
        keys, names = keys[:i] + keys[i + 1:], names[:i] + names[i + 1:]
    return tuple(keys), tuple(names), unknown


def _unknown_place(q: str, low: str, english: bool, found) -> tuple[str, ...]:
    """A place the question is about that neither the reports nor the region list know:
    "火星2020年GDP…", "the population of the moon"."""
    lex = lexicon()
    if english:
        named = re.search(r"\b((?:[A-Z][\w\-]*\s+){1,3})(?:City|Province|District|County|Prefecture|Municipality|Region|Banner)\b", q)
        if named and not found:
            return (named.group(0).strip(),)
        m = re.search(r"\b(?:of|in|on|for|at)\s+(?:the\s+)?([a-z][a-z\-]+)\s*(?:'s)?\s*[?.!]?\s*$", low)
        if m and m.group(1) not in _known_english():
            return (m.group(1),)
        return ()
    if found and found[0][0] <= 1:
        return ()
    m = pattern("place_lead").match(q)
    if not m:
        return ()
    word = m.group(1)
    if pattern("not_place").match(word):
        return ()
    known = set(stop_words()) | set(lex.cue("relative_years", "this")) | set(lex.cue("relative_years", "last"))
    if word in known or lex.asked(word):
        return ()
    return (word,)


@functools.lru_cache(maxsize=1)
def _known_english() -> frozenset[str]:
    lex = lexicon()
    words = set(stop_words())
    for i in lex.indicators:
        for e in i.english:
            words |= set(e.split())
    for group in lex.cues.values():
        for v in group.values():
            if isinstance(v, list):
                for w in v:
                    words |= set(str(w).lower().split())
    words |= {"year", "years", "period", "plan", "report", "reports", "growth", "rate", "target", "targets", "economy",
              "country", "nation", "region", "regions", "province", "provinces", "city", "cities", "district", "county"}
    return frozenset(words)
