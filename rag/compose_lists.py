"""List answers, item by item: the items a sentence announces or enumerates right after it
("要重点把握以下几个方面：一是…二是…"), the members of a named group the report states one
by one ("实施…攻坚行动。…实施…攻坚行动。"), and the members named right before a counted
name ("量子信息、聚变能源、深空探测三大科创引领高地"). The words are data
(``lexicon/headings.toml [items]``, ``lexicon/cues.toml [groups]``).
"""
from __future__ import annotations

import functools
import re

from .corpus import Corpus
from .lexicon import lexicon, pattern
from .query import Query
from .route import Route
from .text.numbers import count_value
from .text.sentences import split_clauses, split_sentences
from .types import Piece


def items_after(text: str, end: int, limit: int = 2500, max_items: int = 12) -> list[tuple[int, int]]:
    """The enumerated items right after ``end``: "一是…。…二是…。…" — the sentences that open
    with the next ordinal, across the detail sentences in between, up to the next part."""
    out: list[tuple[int, int]] = []
    start, part = pattern("start", "items"), pattern("part_start", "items")
    for s, e in split_sentences(text, end, min(len(text), end + limit)):
        if start.match(text[s:e]):
            out.append((s, e))
            if len(out) >= max_items:
                break
        elif part.match(text[s:e]):
            break  # the next part of the report
    return out


def parallel_heads(text: str, start: int, end: int, max_chars: int = 20, min_items: int = 3) -> list[tuple[int, int]]:
    """Run-in heads in parallel right after ``start``, each followed by its detail: sentences
    of one paragraph that open with the same two characters ("坚持高质量发展。…坚持稳中求进、
    以进促稳。…"; "围绕打造科技创新策源地，…。围绕打造新兴产业聚集地，…。"), else the first
    sentences of the paragraphs that follow ("这五年，综合实力显著增强。…\n这五年，发展质量
    持续提升。…"). A head is a short sentence without a figure, or a long sentence's short
    first clause; heads that are all one lead ("这五年") are not a list."""
    end = min(end, len(text))
    stop = text.find("\n", start)
    inside = _parallel(text, split_sentences(text, start, end if stop < 0 else min(end, stop)), max_chars)
    if len(inside) >= min_items or stop < 0:
        return inside if len(inside) >= min_items else []
    firsts, part = [], pattern("part_start", "items")
    for para in re.finditer(r"[^\n]+", text[stop:end]):
        sents = split_sentences(text, stop + para.start(), stop + para.end())
        if not sents or part.match(text[sents[0][0]:sents[0][1]]):
            break  # the next part of the report
        firsts.append(sents[0])
    lead = _parallel(text, firsts, max_chars)
    return lead if len(lead) >= min_items and firsts and lead[0][0] == firsts[0][0] else []


def _parallel(text: str, sents: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """The largest group of sentences opening alike, as head spans (see parallel_heads)."""
    by_open: dict[str, list[tuple[int, int]]] = {}
    for a, b in sents:
        head = _head(text, a, b, max_chars)
        if head is not None:
            by_open.setdefault(text[a:a + 2], []).append(head)
    best = max(by_open.values(), key=len, default=[])
    return best if len({text[a:b] for a, b in best}) == len(best) else []


def _head(text: str, a: int, b: int, max_chars: int) -> tuple[int, int] | None:
    """The head of sentence ``text[a:b]``: itself when short and without a figure, else its
    first clause (up to ，：； not 、) when that is short, and, in a sentence with a figure,
    holds none and leaves the rest as its detail."""
    sentence = text[a:b]
    figure = re.search(r"\d", sentence)
    if not figure and len(sentence.strip("。！； ")) <= max_chars:
        return a, b
    clause = re.match(r"[^，,：:；;。]+", sentence)
    if not clause or len(clause.group()) > max_chars:
        return None
    if figure and (re.search(r"\d", clause.group()) or clause.end() >= len(sentence.rstrip("。！； "))):
        return None
    return a, a + clause.end()


def announced_end(text: str, a: int, b: int, limit: int = 600, enum_only: bool = False) -> int:
    """A sentence that announces a list ("要重点把握以下几个方面。") runs on through the
    items that follow it (一是…、二要…、（一）…); returns the new end. Items run on with
    semicolons ("包括：A；B；C。") end at the first full stop."""
    end = b
    start = pattern("start", "items")
    semis = text[a:b].rstrip().endswith(("；", ";"))
    for s, e in split_sentences(text, b, min(len(text), b + limit)):
        if e - a > limit or (enum_only and not start.match(text[s:e])):
            break
        end = e
        if semis and not text[s:e].rstrip().endswith(("；", ";")):
            break
    return end


def announces(sentence: str) -> bool:
    """"…以下几个方面：": the sentence announces a list."""
    return pattern("announce", "items").search(sentence) is not None


def _items(text: str) -> int:
    return max((c.count("、") + len(re.findall(r"[\u4e00-\u9fff]和[\u4e00-\u9fff]", c)) + 1
                for c in re.split(r"[，,；;。：:]", text)), default=1)


def lists_about(text: str, a: int, b: int, n: int) -> bool:
    """The sentence (or the enumerated items right after it) lists about ``n`` things."""
    if _items(text[a:b]) >= n - 1:
        return True
    return len(items_after(text, b)) >= n - 1


@functools.lru_cache(maxsize=1)
def _groups() -> dict:
    g = lexicon().cues["groups"]
    alt = lambda words: "|".join(map(re.escape, sorted(words, key=len, reverse=True)))  # noqa: E731
    counters = alt(g["counters"])
    return {
        "heads": tuple(g["heads"]),
        "counters": counters,
        "count_prefix": re.compile(rf"^(?:哪|这)?[一二三四五六七八九十两\d]+(?:{counters})"),
        "counted_name": re.compile(rf"[一二三四五六七八九十两\d]+(?:{counters})[\u4e00-\u9fff“]"),
        "lead": re.compile(rf"^(?:{alt(g['adverbs'])})*(?:{alt(g['verbs'])})"),
        "lead_optional": re.compile(rf"(?:{alt(g['adverbs'])})*(?:{alt(g['verbs'])})?"),
    }


def group_pieces(q: Query, route: Route, corpus: Corpus, weights) -> list[Piece]:
    """A named group whose members the report states one by one ("实施重大基础设施建设攻坚
    行动。…实施城中村改造攻坚行动。…"): each member's clause, cited, in order."""
    from .text.tokenize import words

    g = _groups()
    phrases = [t for t in q.topic if len(t) >= 4] or [q.content.replace(" ", "")]
    noun, mods = "", []
    for ph in phrases:
        ph = g["count_prefix"].sub("", re.sub(r"[“”\"「」]", "", ph))
        ws = [w for w in words(ph) if re.search(r"[\u4e00-\u9fff]", w)]
        if not ws:
            continue
        # the head noun: the last word(s) ending in a group word ("攻坚行动", "产业集群")
        for n in (2, 1):
            cand = "".join(ws[-n:])
            if cand.endswith(g["heads"]) and len(cand) >= 2:
                noun, mods = cand, [w for w in ws[:-n] if len(w) >= 2 and not g["count_prefix"].match(w)][-1:]
                break
        if noun:
            break
    if len(noun) < 3:
        return []  # "十项行动": a bare 行动 gathers any action the report names
    want = q.list_count or 0
    part = {"target": "plan", "result": "review"}.get(route.time, "")
    for key in route.reports:
        text = corpus.text(key)
        pieces: list[Piece] = []
        for ks, ke in corpus.keep(key) or [(0, len(text))]:
            for a, b in split_sentences(text, ks, ke):
                sent = text[a:b]
                if part and noun in sent:
                    sec = corpus.section_at(key, a)
                    if sec is not None and sec.kind in ("plan", "review") and sec.kind != part:
                        continue  # a target's members are in the plan, a result's in the review
                if noun not in sent or any(m not in sent for m in mods):
                    continue
                clauses = split_clauses(text, a, b)
                for ci, (ca, cb) in enumerate(clauses):
                    # members named together: "乳业、稀土新材料、现代煤化工入选…" is one clause
                    while ci > 0 and text[clauses[ci - 1][1] - 1] == "、" and clauses[ci - 1][1] - clauses[ci - 1][0] <= 12:
                        ci -= 1
                        ca = clauses[ci][0]
                    clause = text[ca:cb]
                    at = clause.find(noun)
                    if at < 0 or (mods and not all(m in clause for m in mods)):
                        continue
                    item = clause[: at + len(noun)].strip("，,；;。：:、“”\" \u3000")
                    item = g["lead"].sub("", item)
                    item = item.strip("，,；;。：:、“”\" ")
                    if g["count_prefix"].search(item) or g["counted_name"].search(item):
                        continue  # the group's own name ("城建“六大攻坚行动”"), not a member
                    later = [m for m in item.split("、")[1:] if m]  # a list already given in another clause
                    if len(item) > len(noun) + 1 and not any(p.text == item or any(m in p.text for m in later)
                                                             for p in pieces):
                        pieces.append(Piece(route.label, item, key, ca, cb, ""))
        parts = {(corpus.section_at(key, p.start).path[:2] if corpus.section_at(key, p.start) else ()) for p in pieces}
        members = sum(p.text.count("、") + 1 for p in pieces)
        if members >= max(2, want - 1 if want else 2) and len(parts) <= 2:
            return pieces[: max(want, 2) if want else weights.max_summary_lines]
    return []


def counted_pieces(q: Query, route: Route, corpus: Corpus) -> list[Piece]:
    """"三大科创引领高地是什么?": the members the report names right before the counted
    name ("量子信息、聚变能源、深空探测三大科创引领高地"), exactly as many as counted."""
    n = q.list_count or 0
    m = pattern("counted_group").search(q.content.replace(" ", ""))
    if n < 2 or n > 12 or not m:
        return []
    name = m.group(1).strip("“”")
    member = r"[\u4e00-\u9fff“”]{2,10}?"
    pat = re.compile(rf"(?:^|(?<=[，,。；;：:\n\s]))((?:{member}[、和及]){{{n - 1}}}{member})(?:等)?"
                     rf"([一二三四五六七八九十两]+|\d+)(?:{_groups()['counters']})?[“\"]?{re.escape(name)}")
    for key in route.reports:
        text = corpus.text(key)
        for ks, ke in corpus.keep(key) or [(0, len(text))]:
            for hit in pat.finditer(text, ks, ke):
                if count_value(hit.group(2)) != n:
                    continue
                a = hit.start(1)
                lead = _groups()["lead_optional"].match(text[a:hit.end(1)])
                a += lead.end() if lead else 0
                return [Piece(route.label, text[a:hit.end()], key, a, hit.end(), "")]
    return []
