"""Section summaries: the part of a report a question names, summarised by its sub-heads
(also those run into its paragraphs), each with its lead sentence, or (without sub-heads)
by its opening and its key-figure sentences; every line cited.
"""
from __future__ import annotations

import re

from .corpus import Corpus
from .lexicon import lexicon, pattern
from .query import Query
from .route import Route, time_for
from .structure import children, subtree_end
from .text.numbers import figures
from .text.sentences import one_line, split_sentences
from .types import Piece


def _lead(text: str, s, limit: int = 80) -> tuple[int, int]:
    sents = split_sentences(text, s.body_start, s.end)
    if not sents:
        return s.start, s.end
    a, b = sents[0]
    head = s.path[-1].strip("。！；：: ") if s.path else ""
    run_in = bool(head) and text[a:b].strip().strip("。！；：: ").endswith(head)
    if (b - a < 12 or run_in) and len(sents) > 1:
        b = sents[1][1]  # a run-in head ("全力巩固外贸外资基本盘。…") leads into its first sentence
    return a, min(b, a + max(limit, b - a))


def _indent(text: str, pos: int) -> int:
    return len(text[pos:pos + 16]) - len(text[pos:pos + 16].lstrip())


def inline_heads(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sub-heads run into a paragraph ("…。新兴业态培育成长。…"): short sentences with no
    figure and no comma, each followed by more text."""
    sents = split_sentences(text, start, end)
    out = []
    for i, (a, b) in enumerate(sents[:-1]):
        head = pattern("inline_head", "items").match(text[a:b]) or (
            text[max(0, a - 4):a].rstrip(" \u3000\t").endswith("\n") and pattern("inline_head_line", "items").match(text[a:b]))
        if i and head and sents[i + 1][1] - sents[i + 1][0] > 20:
            out.append((a, b))
    return out


def _named(term: str, label: str) -> float:
    """How much of ``term`` a heading names: all of it, or half when the heading holds
    only the last two characters of a longer term, its head ("扩大内需" in "聚力扩内需、
    稳外需"; "对外开放" in "高水平开放"), since headings shorten what questions spell out."""
    if term in label:
        return len(term)
    head, generic = term[-2:], lexicon().cues["topic"]["generic"]
    if head in generic:  # a generic head ("重大任务" → "任务") names no part, its field may
        stem = term[:-2]  # ("生态建设" in "推动生态安全屏障建设", "绿色低碳发展" in "绿色低碳转型")
        return 0.5 * len(term) if len(stem) >= 2 and stem not in generic and stem in label else 0.0
    return 0.5 * len(term) if len(term) >= 3 and head in label else 0.0


def _part_kind(route: Route, rep) -> str:
    """The part of a report a route asks from: "plan" for a target, "review" for a result."""
    return {"target": "plan", "result": "review"}.get(time_for(route, rep) if rep else route.time, "")


def _topic_score(topic: list[str], label: str) -> float:
    """How well a heading or an opening names a summary's topic: each word counts equally."""
    return sum(_named(t, label) / len(t) for t in topic) / len(topic) if topic else 0.0


def section_pieces(q: Query, route: Route, corpus: Corpus, weights, min_match: float = 0.34) -> list[Piece]:
    """A summary of the section the question names: its sub-heads (also those run into its
    paragraphs), each with its lead sentence."""
    topic = [t for t in q.topic if len(t) >= 2]
    for key in route.reports:
        rep = corpus.report(key)
        want = _part_kind(route, rep)
        year = str(route.year or (rep.year if rep and want == "plan" else 0) or "")
        secs = corpus.sections(key)
        text = corpus.text(key)
        best, best_score = None, 0.0
        for i, s in enumerate(secs):
            if s.level == 0 or not s.path:
                continue
            label = s.path[-1]
            score = _topic_score(topic, label)
            if not topic and len(s.path) == 1 and want and s.kind == want:
                # the part of that time; of several, the one with sub-parts (the tasks), and
                # the one naming the year asked ("三、2021年主要工作安排", not "二、“十四五”…")
                score = 0.5 + (0.01 if len(children(secs, i)) > 1 else 0.0) + (0.02 if year and year in label else 0.0)
            elif want and s.kind and s.kind != want:
                score -= 0.25  # a plan question names a plan section, a review question a review one
            score -= 0.02 * (len(s.path) - 1)
            if score > best_score:
                best, best_score = i, score
        if best is None or best_score < min_match:
            continue
        if want and secs[best].kind in ("plan", "review") and secs[best].kind != want:
            continue  # a plan question is not answered from the review, nor a review one from the plan
        if q.intent == "list" and not children(secs, best) and not inline_heads(text, secs[best].body_start,
                                                                               subtree_end(secs, best)):
            return []  # a list is the section's items; its opening sentences are not
        return summarize_section(route, corpus, key, best, weights.max_summary_lines, weights.summary_key_figures)
    return []


_RUN_IN = 24  # a paragraph's first sentence this short is a run-in head: its lead is the next one too


def _plain(s: str) -> str:
    return s.replace("“", "").replace("”", "")


def _period_words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    lex = lexicon()
    opens = tuple(_plain(w) for w in lex.meta["review_period"])
    return opens, tuple(lex.cues["period"]["words"]) + opens


def _plans_ahead(question: str, report_year: int) -> bool:
    """The question asks about a period the report plans ("今后五年", "“十四五”" in a 2021
    report), not one it reviews."""
    lex = lexicon()
    text = _plain(question)
    # ("“十四五”时期" alone may be reviewed or planned: the plan's end year decides below)
    if any(_plain(w) in text for w in lex.meta["plan_period"] if "时期" not in w):
        return True
    ends = [y for w, y in lex.cues["period_end"].items() if w.rstrip("末”") in text]
    return bool(ends) and all(y >= report_year for y in ends)


def _until_address(text: str, a: int, b: int) -> int:
    """``b``, or the start of the first later paragraph that turns to the congress again
    ("各位代表！上述成绩的取得来之不易…"): the end of a part's own text."""
    for w in lexicon().meta["address_words"]:
        at = text.find("\n", a)
        while 0 <= at < b:
            if text[at:b].lstrip().startswith(w):
                b = at
                break
            at = text.find("\n", at + 1)
    return b


def _period_parts(text: str, start: int, end: int, opens: tuple[str, ...]) -> list[tuple[int, int]]:
    """The paragraphs of ``text[start:end]`` that open with a period ("过去五年，…"), each
    running on to the next such paragraph; the last up to the next address to the congress."""
    paras = [(start + m.start(), start + m.end()) for m in re.finditer(r"[^\n]+", text[start:end])]
    heads = [a for a, b in paras if _plain(text[a:b].strip()).startswith(opens)]
    bounds = heads[1:] + [_until_address(text, heads[-1], end)] if heads else []
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in zip(heads, bounds)]


def period_pieces(q: Query, route: Route, corpus: Corpus, max_lines: int) -> list[Piece]:
    """A summary of a whole plan period's review, given as parallel parts that each open
    with the period ("这五年，综合实力显著增强。…这五年，民生福祉不断增进。…"): the part
    whose head names the question's topic (its key sentences), else every part's head with
    its lead sentence."""
    if not q.period or route.time == "target":
        return []
    opens, period = _period_words()
    topic = [t for t in q.topic if len(t) >= 2 and not any(t in w for w in period)]
    for key in route.reports:
        rep = corpus.report(key)
        if rep is None or _plans_ahead(q.text, rep.year):
            continue
        text = corpus.text(key)
        secs = corpus.sections(key)
        for i, sec in enumerate(secs):
            if sec.level != 1 or sec.kind != "review":
                continue
            parts = _period_parts(text, sec.body_start, subtree_end(secs, i), opens)
            if len(parts) < 2:
                continue
            named = [(a, b) for a, b in parts if topic and all(t in text[a:text.find("。", a, b) + 1 or b] for t in topic)]
            path = " > ".join(sec.path)
            if len(named) == 1:
                return [Piece(route.label, one_line(text[a:b]), key, a, b, path)
                        for a, b in key_sentences(text, *named[0], max_lines)]
            pieces = []
            for a, b in parts[:max_lines]:
                sents = split_sentences(text, a, b)
                z = sents[1][1] if len(sents) > 1 and sents[0][1] - sents[0][0] < _RUN_IN else sents[0][1]
                pieces.append(Piece(route.label, one_line(text[a:z]), key, a, z, path))
            return pieces
    return []


def summarize_section(route: Route, corpus: Corpus, key: str, idx: int, max_lines: int,
                      key_figures: int = 0) -> list[Piece]:
    """Section ``idx`` of report ``key`` as cited lines: its own head, then each sub-head
    (also those run into its paragraphs) with its lead sentence; a section without
    sub-heads by its opening sentences."""
    secs = corpus.sections(key)
    text = corpus.text(key)
    kids = children(secs, idx)
    top = secs[idx].level == 1
    openings = []  # the own text of each part passed through, before its sub-part
    while len(kids) == 1 and len(children(secs, secs.index(kids[0]))) > 1:
        # one sub-part announcing the rest ("重点做好七个方面工作：" over "（一）…（七）")
        openings.append((secs[idx].body_start, kids[0].start))
        idx, top = secs.index(kids[0]), True
        kids = children(secs, idx)
    sec = secs[idx]
    # the last part's text ends where the closing words to the congress begin
    end = _until_address(text, kids[-1].start if kids else sec.body_start, subtree_end(secs, idx))
    heads = [(c.start, c.path[-1], c) for c in kids]
    known = {h[0] for h in heads}
    # a top part with sub-parts ("一、…" over "（一）…") is summarised by them (and the heads
    # run into its own opening), not by the heads run into their text
    top = top and len(heads) > 1
    openings.append((sec.body_start, heads[0][0] if top else end))
    for a, b in (h for o in openings for h in inline_heads(text, *o)):
        # a child's own run-in head (after any indentation) is not a second head
        if not any(c is not None and c.start <= a <= c.body_start + _indent(text, c.body_start) + 1
                   for _, _, c in heads) and a not in known:
            heads.append((a, text[a:b].rstrip("。！"), None))
    heads.sort(key=lambda h: h[0])
    pieces = []
    head_line = one_line(text[sec.start: sec.body_start]) if sec.body_start > sec.start else ""
    if heads and head_line:
        # the part's own head first, cited to the whole part it heads
        pieces.append(Piece(route.label, head_line, key, sec.start, end, " > ".join(sec.path)))
    elif heads and not top and heads[0][0] > sec.body_start:
        # a head run into its paragraph leads into the part's own statement before its sub-heads
        # ("（七）更好保障和改善民生。…安排资金148亿元，实施民生实事28项…")
        a, b = _lead(text, sec)
        if b <= heads[0][0]:
            pieces.append(Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path)))
    for pos, head, c in heads[: max(max_lines, len(heads)) if top else max_lines]:  # a top part: every sub-part
        if c is not None:
            a, b = _lead(text, c)
            line = one_line(text[a:b])
            path = " > ".join(c.path)
        else:
            nxt = split_sentences(text, pos, min(end, pos + 400))
            a, b = pos, (nxt[1][1] if len(nxt) > 1 else nxt[0][1])
            line = one_line(text[a:b])
            path = " > ".join(sec.path)
        pieces.append(Piece(route.label, line if line.startswith(head[:4]) else f"{head}：{line}", key, a, b, path))
    if not pieces:
        for a, b in key_sentences(text, sec.body_start, end, max_lines):
            pieces.append(Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path)))
    elif key_figures and not top:
        # the part's key figures, from under its sub-heads ("完成营造林100万亩以上"); a top part
        # is its list of sub-parts
        said = [(p.start, p.end) for p in pieces if (p.start, p.end) != (sec.start, end)]  # not the part's head
        counts = [(len(figures(text[a:b])), a, b) for a, b in split_sentences(text, sec.body_start, end)
                  if not any(x <= a < y for x, y in said)]
        busiest = sorted((c for c in counts if c[0] > 1), key=lambda c: (-c[0], c[1]))[:key_figures]
        for _, a, b in sorted(busiest, key=lambda c: c[1]):
            sub = corpus.section_at(key, a)
            pieces.append(Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join((sub or sec).path)))
    return pieces


def key_sentences(text: str, start: int, end: int, max_lines: int) -> list[tuple[int, int]]:
    """A passage without sub-heads in at most ``max_lines`` sentences: its opening half,
    then the sentences stating the most figures (its key figures), in text order."""
    sents = split_sentences(text, start, end)
    keep = set(range(min(len(sents), max_lines // 2 or 1)))
    counts = {i: len(figures(text[a:b])) for i, (a, b) in enumerate(sents) if i not in keep}
    for i in sorted(counts, key=lambda i: (-counts[i], i)):
        if len(keep) >= max_lines or not counts[i]:
            break
        keep.add(i)
    return [sents[i] for i in sorted(keep)]


def approach_piece(q: Query, route: Route, corpus: Corpus) -> Piece | None:
    """The year's general requirements ("今年政府工作的总体要求是：…"), asked as 总体要求,
    总体思路, 指导思想, "overall approach": the sentence stating them, from the plan part
    when the report has one, cited."""
    if not pattern("approach_asked").search(q.text.lower()):
        return None
    lead = pattern("approach_lead", "text")
    for key in route.reports:
        text = corpus.text(key)
        found = []
        for m in lead.finditer(text):
            sec = corpus.section_at(key, m.start())
            a = max(text.rfind(c, 0, m.start()) for c in "。\n") + 1
            b = text.find("。", m.end())
            found.append((sec is None or sec.kind != "plan", a, len(text) if b < 0 else b + 1, sec))
        if found:
            _, a, b, sec = min(found, key=lambda f: (f[0], f[1]))
            return Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path) if sec else "")
    return None


def _openings(text: str):
    """Passages a summary may be about though no heading names them: paragraphs enumerated
    as "一是…" (the opening sentence leads), and the spans of sub-heads run into a paragraph
    ("…。西部陆海新通道建设提质增效。…", to the next such head). Yields (start, end, lead)."""
    start = pattern("start", "items")
    for m in re.finditer(r"(?m)^[ \t\u3000]*(\S[^\n]*)", text):
        a, b = m.start(1), m.end(1)
        if start.match(text[a:b]):
            sents = split_sentences(text, a, b)
            yield a, b, text[sents[0][0]: sents[0][1]] if sents else text[a:b]
        heads = inline_heads(text, a, b)
        for (x, y), nxt in zip(heads, heads[1:] + [(b, b)]):
            yield x, nxt[0], text[x:y]


def item_pieces(q: Query, route: Route, corpus: Corpus, max_lines: int, min_match: float = 0.34) -> list[Piece]:
    """A summary of the passage whose lead names the topic when no heading does (an
    enumerated paragraph, "一是坚持以发展现代化大农业为主攻方向，…", or the span of a sub-head
    run into a paragraph): its opening and key-figure sentences, cited."""
    topic = [t for t in q.topic if len(t) >= 2]
    if not topic or pattern("parts_asked").search(q.text.lower()):
        return []  # "要把握好哪几个方面": the parts themselves, not one of them
    for key in route.reports:
        want = _part_kind(route, corpus.report(key))
        text = corpus.text(key)
        best, best_score = None, 0.0
        for a, b, lead in _openings(text):
            sec = corpus.section_at(key, a)
            if want and (sec is None or sec.kind != want):
                continue
            score = _topic_score(topic, lead)
            if score > best_score:
                best, best_score = (a, b, sec), score
        if best is None or best_score < min_match:
            continue
        a, b, sec = best
        path = " > ".join(sec.path) if sec else ""
        return [Piece(route.label, one_line(text[x:y]), key, x, y, path) for x, y in key_sentences(text, a, b, max_lines)]
    return []

