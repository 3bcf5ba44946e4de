"""Extractive answers, piece by piece: each piece is a verbatim clause or sentence of one
report with the span it is cited to.

* figures: the figures found at index time (``facts``) for the asked indicator, measure,
  year and part of the report, else a retrieved sentence that states them;
* names, lists, yes/no and other questions: the best retrieved sentence that supports the
  question;
* summaries: the headline targets or results sentence for a figure summary; the sub-heads
  and lead sentences of the section asked about; the parts of the review or the plan;
* the speaker and meeting: the report's metadata, cited to its opening lines.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .corpus import Corpus
from .facts import best as best_figures
from .lexicon import lexicon
from .query import Part, Query
from .retrieve import Result
from .route import Route
from .structure import children, subtree_end
from .support import clause_for, stated, supports
from .text.numbers import count_value
from .text.sentences import one_line, split_clauses, split_sentences
from .types import Figure, Span


@dataclass(frozen=True)
class Piece:
    label: str  # "上海市2025年" when the answer has several parts, else ""
    text: str  # the answer line (verbatim from the report)
    key: str  # report key
    start: int  # the cited span in the report text
    end: int
    section: str = ""


@dataclass
class Draft:
    pieces: list[Piece] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what was asked and not found, one line each
    retrieved: list[Span] = field(default_factory=list)
    long: bool = False  # a summary or list: may exceed the short-answer length
    verdict: str = ""  # a comparison's one-line result, put before the pieces


def _sentence_at(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole sentence(s) around [start, end)."""
    a = max(text.rfind(c, 0, start) for c in "。！？；\n") + 1
    b_candidates = [i for i in (text.find(c, end - 1) for c in "。！？；\n") if i >= 0]
    b = min(b_candidates) + 1 if b_candidates else len(text)
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def preferred_measure(part: Part, time: str) -> str:
    """The measure meant when the question names none: a level ("GDP是多少", "What was X's
    GDP") for indicators that have one, except for targets, which are growth rates unless
    the indicator's default says otherwise."""
    ind = lexicon().by_id[part.indicator]
    if part.measure:
        return part.measure
    return "level" if time != "target" and "level" in ind.measures else ind.default


_TARGET_CUE = re.compile(r"力争|确保|目标|预期|争取|达到|突破|以上|左右|以内|控制在")


def _figure_rank(f: Figure, part: Part, density: dict[int, int], time: str = "", text: str = "") -> tuple:
    measure_ok = f.measure == preferred_measure(part, time or f.kind)
    sentence = text[f.start: f.end] if text else ""
    # a target is stated with a target's words; "每年接待游客近3亿人次" in the plan part is not one
    cue = 0 if f.kind != "target" or f.qualifier or _TARGET_CUE.search(sentence) else 1
    return (0 if f.scope == "" else 1, 0 if measure_ok else 1, 0 if f.measure != "qualitative" else 1, cue,
            -density.get(f.start, 0), f.start)


def fits(q: Query, f: Figure) -> bool:
    """A figure in the unit the question asks for, and a number when it asks for one."""
    if q.numeric_only and f.measure == "qualitative":
        return False
    if q.unit_kind and lexicon().units.get(f.unit, "") != q.unit_kind:
        return False
    return True


def figure_from_facts(corpus: Corpus, route: Route, part: Part, period: bool = False, scope: str | None = None,
                      q: Query | None = None) -> Piece | None:
    """``scope``: "" the whole region, "市级" its own level; None: prefer the whole."""
    if period:
        return None  # the figures found at index time are one year's; a period question needs the text
    wanted = {part.indicator} | set(lexicon().by_id[part.indicator].covers)
    for key in route.reports:
        r = corpus.by_key[key]
        figs = [f for f in corpus.figures(key) if f.indicator in wanted and (q is None or fits(q, f))]
        time = route.time or ("target" if route.year and route.year in r.plan_years and route.year not in r.review_years
                              else "result" if route.year else "")
        if time:
            figs = [f for f in figs if f.kind == time]
        if route.year:
            figs = [f for f in figs if f.year == route.year]
        want = part.measure or preferred_measure(part, time)
        picked = [f for f in figs if f.measure == want]
        if not picked and not part.measure and time == "target":
            picked = [f for f in figs if f.measure != "qualitative"]  # a target set as a level, not a rate
        figs = picked or [f for f in figs if f.measure == "qualitative"]
        if scope is not None:
            figs = [f for f in figs if f.scope == scope]
        if not figs:
            continue
        density: dict[int, int] = {}
        for f in corpus.figures(key):
            density[f.start] = density.get(f.start, 0) + 1
        full = corpus.text(key)
        figs.sort(key=lambda f: _figure_rank(f, part, density, time, full))
        if not time and len({f.kind for f in figs}) > 1:
            figs = [f for f in figs if f.kind == "result"] or figs
        f = figs[0]
        text = corpus.text(key)
        sentence = text[f.start: f.end]
        clause = clause_for(part, sentence, f.scope if scope is not None else None) or f"{lexicon().by_id[f.indicator].name}{f.text}"
        return Piece(route.label, one_line(clause), key, f.start, f.end, f.section)
    return None


def figure_from_sentences(q: Query, route: Route, part: Part, res: Result, corpus: Corpus, weights,
                          scope: str | None = None) -> Piece | None:
    if part.indicator and not part.measure and not q.period and route.time != "target":
        part = replace(part, measure=preferred_measure(part, route.time))
    for s in res.sentences[: weights.candidates]:
        r = corpus.by_key.get(s.key)
        if not supports(q, part, route, s.text, s.chunk.section, s.chunk.section_kind, r, weights):
            continue
        if scope is not None and part.indicator and not any(f.scope == scope for f in stated(part, s.text)):
            continue
        if part.indicator and not any(fits(q, f) for f in stated(part, s.text)):
            continue
        clause = clause_for(part, s.text, scope) if stated(part, s.text) else ""
        return Piece(route.label, one_line(clause or s.text)[: weights.max_answer_chars], s.key, s.start, s.end,
                     s.chunk.section)
    return None


_ANNOUNCE = re.compile(r"(以下|如下|下列)[^。]{0,12}(方面|几点|工作|任务|措施|重点)?[。：:]?$|[：:]$")
_ENUM = re.compile(r"^\s*(?:[一二三四五六七八九十]是|[一二三四五六七八九十]要|[（(][一二三四五六七八九十\d]+[)）]|\d+[.．、]|第[一二三四五六七八九十]+[，,、])")


def _announced(corpus: Corpus, key: str, a: int, b: int, limit: int = 600, enum_only: bool = False) -> int:
    """A sentence that announces a list ("要重点把握以下几个方面。") runs on through the
    items that follow it (一是…、二要…、（一）…); returns the new end."""
    text = corpus.text(key)
    end = b
    for s, e in split_sentences(text, b, min(len(text), b + limit)):
        if e - a > limit or (enum_only and not _ENUM.match(text[s:e])):
            break
        end = e
    return end


def enumerated(corpus: Corpus, key: str, end: int, limit: int = 2500, max_items: int = 12) -> list[tuple[int, int]]:
    """The enumerated items right after ``end``: "一是…。…二是…。…" — the sentences that open
    with the next ordinal, across the detail sentences in between."""
    text = corpus.text(key)
    out: list[tuple[int, int]] = []
    for s, e in split_sentences(text, end, min(len(text), end + limit)):
        piece = text[s:e]
        if _ENUM.match(piece):
            out.append((s, e))
            if len(out) >= max_items:
                break
        elif re.match(r"\s*[一二三四五六七八九十]、|\s*#", piece):
            break  # the next part of the report
    return out


def _items(text: str) -> int:
    return max((c.count("、") + len(re.findall(r"[\u4e00-\u9fff]和[\u4e00-\u9fff]", c)) + 1
                for c in re.split(r"[，,；;。：:]", text)), default=1)


def _enumerates(text: str, a: int, b: int, n: int) -> bool:
    """The sentence (or the enumerated items right after it) lists about ``n`` things."""
    if _items(text[a:b]) >= n - 1:
        return True
    return len(enumerated_after(text, b)) >= n - 1


def enumerated_after(text: str, end: int, limit: int = 2500, max_items: int = 12) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in split_sentences(text, end, min(len(text), end + limit)):
        if _ENUM.match(text[s:e]):
            out.append((s, e))
            if len(out) >= max_items:
                break
        elif re.match(r"\s*[一二三四五六七八九十]、|\s*#", text[s:e]):
            break
    return out


def sentence_piece(q: Query, route: Route, res: Result, corpus: Corpus, weights, need=None) -> Piece | None:
    """The best supported sentence, for names, lists, yes/no and the rest. ``need``: a
    further test the sentence must pass (e.g. naming the asked indicator)."""
    for s in res.sentences[: weights.candidates]:
        r = corpus.by_key.get(s.key)
        if need is not None and not need(s.text):
            continue
        if supports(q, None, route, s.text, s.chunk.section, s.chunk.section_kind, r, weights):
            text = one_line(s.text)
            if q.intent == "list" and q.list_count and not _enumerates(corpus.text(s.key), s.start, s.end, q.list_count):
                continue  # "“十项行动”是哪十项": a sentence that only names the group does not list it
            if q.intent in ("list", "summary"):
                items = enumerated(corpus, s.key, s.end)
                if len(items) >= 2 and items[0][0] - s.end < 200:
                    full = corpus.text(s.key)
                    lines = [one_line(s.text)] + [one_line(full[a:b]) for a, b in items]
                    return Piece(route.label, " ".join(lines), s.key, s.start, items[-1][1], s.chunk.section)
                announce = bool(_ANNOUNCE.search(text))
                end = _announced(corpus, s.key, s.start, s.end, enum_only=not announce)
                if end > s.end:
                    return Piece(route.label, one_line(corpus.text(s.key)[s.start: end]), s.key, s.start, end, s.chunk.section)
            return Piece(route.label, text, s.key, s.start, s.end, s.chunk.section)
    return None


def _full_sentence(text: str, a: int, b: int) -> tuple[int, int]:
    """[a, b) widened to the 。-sentence holding it ("；" does not end a headline)."""
    lo = max(text.rfind(c, 0, a) for c in "。！？\n") + 1
    hi = min([i for i in (text.find(c, b - 1) for c in "。！？\n") if i >= 0] or [len(text) - 1]) + 1
    while lo < hi and text[lo].isspace():
        lo += 1
    return lo, max(hi, b)


def headline(corpus: Corpus, route: Route, time: str) -> Piece | None:
    """The sentence stating the most (and most central) figures of the asked kind: "主要预期
    目标是：…", "全年实现地区生产总值…；一般公共预算收入…"; with the sentences right after it
    that carry more of them."""
    lex = lexicon()
    for key in route.reports:
        figs = [f for f in corpus.figures(key) if f.kind == time and (not route.year or f.year == route.year)]
        if not figs:
            continue
        text = corpus.text(key)
        groups: dict[tuple[int, int], set] = {}
        for f in figs:
            groups.setdefault(_full_sentence(text, f.start, f.end), set()).add(f.indicator)

        def weight(span) -> float:
            # GDP leads a report's headline; the other headline indicators follow
            return sum(5 if i == "gdp" else 3 if lex.by_id[i].headline else 1 for i in groups[span])

        a, b = max(groups, key=lambda sp: (weight(sp), -sp[0]))
        for nxt in sorted(groups):
            if nxt[0] >= b and nxt[0] - b <= 2 and weight(nxt) >= 2 and nxt[1] - a <= 600:
                b = nxt[1]
        sec = corpus.section_at(key, a)
        return Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path) if sec else "")
    return None


def _children(corpus: Corpus, key: str, idx: int):
    return children(corpus.sections(key), idx)


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


_INLINE_HEAD = re.compile(r"^[\u4e00-\u9fff“”]{4,12}[。！]?$")


def inline_heads(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sub-heads run into a paragraph ("…。新兴业态培育成长。…"): short sentences with no
    figure and no comma, each followed by more text."""
    sents = split_sentences(text, start, end)
    out = []
    for i, (a, b) in enumerate(sents[:-1]):
        if i and _INLINE_HEAD.match(text[a:b]) and sents[i + 1][1] - sents[i + 1][0] > 20:
            out.append((a, b))
    return out


def section_pieces(q: Query, route: Route, corpus: Corpus, weights, min_match: float = 0.34) -> list[Piece]:
    """A summary of the section the question names: its sub-heads (also those run into its
    paragraphs), each with its lead sentence."""
    topic = [t for t in q.topic if len(t) >= 2]
    want = {"target": "plan", "result": "review"}.get(route.time, "")
    for key in route.reports:
        secs = corpus.sections(key)
        text = corpus.text(key)
        best, best_score = None, 0.0
        for i, s in enumerate(secs):
            if s.level == 0 or not s.path:
                continue
            label = s.path[-1]
            score = sum(len(t) for t in topic if t in label) / max(1, sum(len(t) for t in topic)) if topic else 0.0
            if not topic and len(s.path) == 1 and want and s.kind == want:
                score = 0.5
            elif want and s.kind and s.kind != want:
                score -= 0.25  # a plan question names a plan section, a review question a review one
            score -= 0.02 * (len(s.path) - 1)
            if score > best_score:
                best, best_score = i, score
        if best is None or best_score < min_match:
            continue
        sec = secs[best]
        end = subtree_end(secs, best)
        heads = [(c.start, c.path[-1], c) for c in children(secs, best)]
        known = {h[0] for h in heads}
        for a, b in inline_heads(text, sec.body_start, end):
            # a child's own run-in head (after any indentation) is not a second head
            if not any(c is not None and c.start <= a <= len(text[:c.body_start]) + _indent(text, c.body_start) + 1
                       for _, _, c in heads) and a not in known:
                heads.append((a, text[a:b].rstrip("。！"), None))
        heads.sort(key=lambda h: h[0])
        pieces = []
        head_line = one_line(text[sec.start: sec.body_start]) if sec.body_start > sec.start else ""
        if heads and head_line:
            # the part's own head first, cited to the whole part it heads
            pieces.append(Piece(route.label, head_line, key, sec.start, end, " > ".join(sec.path)))
        for pos, head, c in heads[: weights.max_summary_lines]:
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
        if not pieces and q.intent == "list":
            return []  # a list is the section's items; its opening sentences are not
        if not pieces:
            for a, b in split_sentences(text, sec.body_start, end)[: weights.max_summary_lines // 2 or 1]:
                pieces.append(Piece(route.label, one_line(text[a:b]), key, a, b, " > ".join(sec.path)))
        return pieces
    return []


def source_piece(route: Route, corpus: Corpus) -> Piece | None:
    """The source line in a report's opening ("来源：解放日报")."""
    for key in route.reports:
        r = corpus.by_key[key]
        text = corpus.text(key)
        at = text.find(r.outlet) if r.outlet else -1
        if at < 0 or at > 600:
            continue
        a = text.rfind("\n", 0, at) + 1
        b = text.find("\n", at)
        b = len(text) if b < 0 else b
        return Piece(route.label, one_line(text[a:b]), key, a, b, "")
    return None


def speaker_piece(q: Query, route: Route, corpus: Corpus) -> Piece | None:
    """The speaker (or meeting) from the report's opening lines, cited to the line naming it."""
    for key in route.reports:
        r = corpus.by_key[key]
        text = corpus.text(key)
        want = r.speaker.split()[-1] if q.intent == "speaker" and r.speaker else (r.meeting if q.intent == "meeting" else "")
        at = text.find(want) if want else -1
        if at < 0:
            continue
        a = text.rfind("\n", 0, at) + 1
        b = text.find("\n", at)
        b = len(text) if b < 0 else b
        line = text[a:b].strip()
        a = text.find(line, a)
        if q.intent == "speaker":
            answer = f"{r.title}由{r.speaker}作：{line}"
        else:
            answer = line
        return Piece(route.label, answer, key, a, a + len(line), "")
    return None


_COUNT_PREFIX = re.compile(r"^(?:哪|这)?[一二三四五六七八九十两\d]+(?:大|个|项|类|条|张|批)")
_GROUP_HEADS = ("行动", "攻坚战", "工程", "集群", "集聚区", "计划", "战略", "中心", "高地", "基地", "产业", "体系", "平台",
                "园区", "示范区", "改革", "项目", "举措", "机制", "清单", "品牌", "城市", "专项")


def group_pieces(q: Query, route: Route, corpus: Corpus, weights) -> list[Piece]:
    """A named group whose members the report states one by one ("实施重大基础设施建设攻坚
    行动。…实施城中村改造攻坚行动。…"): each member's clause, cited, in order."""
    from .text.tokenize import words

    phrases = [t for t in q.topic if len(t) >= 4] or [q.content.replace(" ", "")]
    noun, mods = "", []
    for ph in phrases:
        ph = _COUNT_PREFIX.sub("", re.sub(r"[“”\"「」]", "", ph))
        ws = [w for w in words(ph) if re.search(r"[\u4e00-\u9fff]", w)]
        if not ws:
            continue
        # the head noun: the last word(s) ending in a group word ("攻坚行动", "产业集群")
        for n in (2, 1):
            cand = "".join(ws[-n:])
            if cand.endswith(_GROUP_HEADS) and len(cand) >= 2:
                noun, mods = cand, [w for w in ws[:-n] if len(w) >= 2 and not _COUNT_PREFIX.match(w)][-1:]
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
                    item = re.sub(r"^(?:要|将|并|全力|加快|大力|积极|深入|持续|着力|继续|奋力|强力|坚决|全面|切实|扎实)*"
                                  r"(?:实施|推进|打造|建设|培育|打好|打赢|做强|发展|开展|创建)", "", item)
                    item = item.strip("，,；;。：:、“”\" ")
                    if _COUNT_PREFIX.search(item) or re.search(r"[一二三四五六七八九十两\d]+(?:大|个)[\u4e00-\u9fff“]", item):
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
    m = re.search(r"(?:哪)?(?:[一二三四五六七八九十两]+|\d+)(?:大|个|项|类|条)([\u4e00-\u9fff“”]{2,12}?)(?:是|有|包括|分别|都|$)",
                  q.content.replace(" ", ""))
    if n < 2 or n > 12 or not m:
        return []
    name = m.group(1).strip("“”")
    member = r"[\u4e00-\u9fff“”]{2,10}?"
    pat = re.compile(rf"(?:^|(?<=[，,。；;：:\n\s]))((?:{member}[、和及]){{{n - 1}}}{member})(?:等)?"
                     rf"([一二三四五六七八九十两]+|\d+)(?:大|个|项|类|条)?[“\"]?{re.escape(name)}")
    for key in route.reports:
        text = corpus.text(key)
        for ks, ke in corpus.keep(key) or [(0, len(text))]:
            for hit in pat.finditer(text, ks, ke):
                if count_value(hit.group(2)) != n:
                    continue
                a = hit.start(1)
                lead = re.match(r"(?:要|将|并|全力|加快|大力|积极|深入|持续|着力|继续|推动|推进|围绕|聚焦)*"
                                r"(?:实施|推进|打造|建设|培育|发展|开展|创建)?", text[a:hit.end(1)])
                a += lead.end() if lead else 0
                return [Piece(route.label, text[a:hit.end()], key, a, hit.end(), "")]
    return []


def signoff_piece(route: Route, corpus: Corpus) -> Piece | None:
    """The sign-off: the short lines that close the report (the secretariat, the date)."""
    for key in route.reports:
        text = corpus.text(key)
        keep = corpus.keep(key)
        end = keep[-1][1] if keep else len(text)
        lines, pos = [], end
        for line in reversed(text[:end].splitlines(keepends=True)):
            pos -= len(line)
            bare = line.strip(" \t\u3000\r\n-*_")
            if not bare:
                continue
            if len(bare) > 30 or lines and len(lines) >= 3:
                break
            lines.append((pos, pos + len(line.rstrip())))
        if lines:
            a, b = lines[-1][0], lines[0][1]
            while a < b and text[a].isspace():
                a += 1
            return Piece(route.label, one_line(text[a:b].replace("\n", " ")), key, a, b, "")
    return None


def is_headline_summary(q: Query) -> bool:
    """"概括…主要预期目标", "主要经济指标完成情况", "经济运行总体情况": a summary of figures,
    not of a section."""
    return bool(re.search(r"经济指标|主要指标|预期目标|主要目标|目标是什么|经济运行|主要数据|经济(?:发展|运行)(?:的)?(?:总体)?"
                          r"(?:情况|成绩|表现|态势)|key (?:figures|indicators|targets|results)|main (?:targets|figures|indicators|results)|"
                          r"economic (?:performance|results)|headline",
                          q.text.lower())) or bool(q.parts)
