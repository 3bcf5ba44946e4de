"""The cross-report indicator table: rows are reports, columns indicators, each cell the
figure a report states (found at index time by ``facts``) with its citation. It answers
comparison and ranking questions ("哪些省份2025年地区生产总值增长目标在5.5%以上?",
"上海和重庆的增长目标分别是多少?", "Which region set the highest growth target?") and
pairs a year's target with the result the next year's report gives (met / missed).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .corpus import Corpus
from .facts import best as best_figures
from .lexicon import lexicon, pattern
from .query import Query
from .question_cues import has
from .route import region_name
from .types import Figure, Report

@dataclass(frozen=True)
class Cell:
    report: Report
    indicator: str
    kind: str
    figure: Figure | None  # None: the report does not state it


def _pick(figs: list[Figure], measure: str) -> Figure | None:
    if not figs:
        return None
    ranked = sorted(figs, key=lambda f: (f.scope != "", f.measure != measure, f.measure == "qualitative", f.start))
    return ranked[0]


def cells(corpus: Corpus, indicators=None, kind: str = "target", year: int = 0, regions=None, level: str = "",
          measure: str = "") -> list[Cell]:
    """One cell per (report, indicator): the report's figure for its plan year (targets) or
    its reviewed year (results)."""
    lex = lexicon()
    indicators = list(indicators or lex.table_core)
    out = []
    for r in corpus.reports:
        if regions and r.region_key not in regions:
            continue
        if level and r.level != level:
            continue
        y = year or (min(r.plan_years, default=0) if kind == "target" else max(r.review_years, default=0))
        if not y or (kind == "target" and y not in r.plan_years) or (kind == "result" and y not in r.review_years):
            continue
        figs = best_figures(corpus.figures(r.key))
        for ind in indicators:
            m = measure or lex.by_id[ind].default
            # one measure per column: a level target (3000亿元) is not a growth target
            got = [f for f in figs if f.indicator == ind and f.kind == kind and f.year == y and f.measure in (m, "qualitative")]
            out.append(Cell(r, ind, kind, _pick(got, m)))
    return out


def value_of(c: Cell) -> float | None:
    return c.figure.value if c.figure and c.figure.measure != "qualitative" else None


def _threshold(text: str) -> tuple[str, float, str, str] | None:
    """(operator, value, kind, qualifier) of the bound a comparison question sets: "在5.5%以上",
    "超过10%", "50万人以上", "above 5%"; "目标是5%左右", "of around 6%" ask for that value
    ("="). Values are scaled like the figures (万, 亿). The words are ``cues.toml [bounds]``."""
    from .text.numbers import figures

    bounds = lexicon().cues["bounds"]
    words, by_qualifier = bounds["words"], bounds["qualifiers"]
    low = text.lower()
    for q in figures(text):
        op = words.get(q.qualifier_text) or by_qualifier.get(q.qualifier)
        before = low[max(0, q.start - 12): q.start]
        word = next((w for w in sorted(words, key=len, reverse=True) if before.rstrip().endswith(w)), None)
        if word and not (words[word] == "=" and op):
            op = words[word]  # "为5%以上" keeps its own bound; "为5%左右" asks for that value
        if op:
            return op, q.value, q.kind, q.qualifier if op == "=" else ""
    return None


def _bound_text(text: str, keep_qualifier: bool = False) -> str:
    """The bound as the question writes it ("5.5%", "50万人"; "5%左右" for an asked value)."""
    from .text.numbers import figures

    fs = figures(text)
    if not fs:
        return ""
    q = fs[0]
    shown = text[q.start:q.end]
    if q.qualifier_text and shown.startswith(q.qualifier_text):
        shown = shown[len(q.qualifier_text):]
    return shown.strip() if keep_qualifier else pattern("qualifier_suffix", "text").sub("", shown).strip()


def _cmp(v: float, op: str, x: float) -> bool:
    return {">=": v >= x, "<=": v <= x, ">": v > x, "<": v < x, "=": abs(v - x) < 1e-9}[op]


@dataclass(frozen=True)
class Comparison:
    kind: str  # threshold | max | min | list | versus (hits: target, result, target, result…)
    hits: list[Cell]  # the cells that answer (each cited)
    others: list[Cell]  # the rest of the compared reports, named without figures
    verdict: str  # one line ("" for a plain list)


def _unit(c: Cell) -> str:
    return "%" if c.figure and c.figure.unit in ("%", "％") else ""


def _said(low: str, key: str) -> bool:
    """The question uses one of ``cues.toml [versus] key``'s words (English on word starts)."""
    return has(low, lexicon().cues["versus"][key], prefix=True)


def _versus(q: Query, corpus: Corpus, ind: str, measure: str, level: str) -> Comparison | None:
    """"哪些地区2025年增长目标高于本地2024年实际增速?": each region's target for the later
    year against its own result for the earlier one. ``hits`` hold (target, result) cells
    in turn; a region missing either figure is named among the others."""
    if len(q.years) != 2 or len(q.regions) > 1 or q.years[0] == q.years[1]:
        return None
    low = q.text.lower()
    cues = lexicon().cues["intent"]
    if not all(has(low, cues[kind]) or has(low, cues.get(kind + "_en", ())) for kind in ("target", "result")):
        return None
    above, below = _said(low, "above"), _said(low, "below")
    if above == below:
        return None
    ty, ry = max(q.years), min(q.years)
    regions = set(q.regions) if q.regions else None
    results = {c.report.region_key: c for c in cells(corpus, [ind], "result", ry, regions, level, measure)}
    hits, others = [], []
    for t in cells(corpus, [ind], "target", ty, regions, level, measure):
        r = results.get(t.report.region_key)
        tv, rv = value_of(t), (value_of(r) if r else None)
        if tv is None or rv is None:
            others.append(t)
        elif (tv > rv) if above else (tv < rv):
            hits += [t, r]
    name = lexicon().by_id[ind].name
    word = "高于" if above else "低于"
    regions_hit = "、".join(c.report.region for c in hits[::2])
    verdict = (f"{regions_hit}的{ty}年{name}目标{word}{ry}年实际" if hits else f"没有地区的{ty}年{name}目标{word}{ry}年实际")
    return Comparison("versus", hits, others, verdict)


def comparison(q: Query, corpus: Corpus) -> Comparison:
    """The cells that answer a comparison question, and a one-line verdict."""
    lex = lexicon()
    low = q.text.lower()
    ind = q.parts[0].indicator if q.parts else lexicon().economy  # "which grew faster": economic growth
    measure = q.parts[0].measure if q.parts else "growth"
    year = q.years[0] if q.years else 0
    kind = q.time
    if not kind and year:
        # the year most reports review is a results year, the year most plan a targets year
        plans = sum(year in r.plan_years for r in corpus.reports)
        reviews = sum(year in r.review_years for r in corpus.reports)
        kind = "result" if reviews > plans else "target"
    kind = kind or "target"
    level = next((v for k, v in lexicon().regions["level_words_asked"].items() if re.search(rf"哪些{k}|哪个{k}|各{k}|{k}份?有哪些", low) and v), "")
    if re.search(r"provinces?", low):
        level = "province"
    if q.regions and len(q.years) == len(q.regions) > 1:
        # "重庆2025年…与海曙区2020年…相比": each region in its own year
        rows = [c for g, y in zip(q.regions, q.years) for c in cells(corpus, [ind], kind, y, {g}, level, measure)]
    else:
        rows = cells(corpus, [ind], kind, year, set(q.regions) if q.regions else None, level, measure)
    stated = [c for c in rows if value_of(c) is not None]
    name = lex.by_id[ind].name
    what = "目标" if kind == "target" else "实际"
    vs = _versus(q, corpus, ind, measure, level)
    if vs is not None:
        return vs
    th = _threshold(q.text)
    if th and len(q.regions) < 2:
        op, x, xkind, qual = th
        comparable = [c for c in stated if c.figure.measure != "qualitative" and (xkind == "plain" or
                      (xkind == "percent") == (c.figure.unit in ("%", "％")))]
        # "目标是5%左右": the same value stated the same way (5%以上 is not 5%左右)
        hits = [c for c in comparable if _cmp(value_of(c), op, x) and (not qual or c.figure.qualifier == qual)]
        sign = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "为"}[op]
        shown = _bound_text(q.text, keep_qualifier=op == "=")
        verdict = (f"{'、'.join(c.report.region for c in hits)}的{name}{what}{sign}{shown}" if hits
                   else f"没有地区的{name}{what}{sign}{shown}")
        return Comparison("threshold", hits, [c for c in rows if c not in hits], verdict)
    if q.regions and len(stated) < len({c.report.region_key for c in rows} | set(q.regions)) and pattern("compare_pick").search(low):
        # the asked regions with no figure (no report, or a report not stating it)
        have = {c.report.region_key for c in stated}
        missing = [region_name(g, corpus.reports) for g in q.regions if g not in have] or \
            [c.report.region for c in rows if value_of(c) is None]
        return Comparison("missing", [], [c for c in rows if value_of(c) is None],
                          f"无法比较：{'、'.join(missing)}的报告没有给出{name}{what}")
    for kind_, pick in (("max", max), ("min", min)):
        if pattern(f"compare_{kind_}").search(low) and stated:
            best = pick(value_of(c) for c in stated)
            hits = [c for c in stated if value_of(c) == best]
            word = "最高" if kind_ == "max" else "最低"
            return Comparison(kind_, hits, [c for c in rows if c not in hits],
                              f"{'、'.join(c.report.region for c in hits)}{word}（{hits[0].figure.text}）")
    return Comparison("list", stated, [c for c in rows if c.figure is None], "")


def target_vs_result(corpus: Corpus, region: str, year: int, ind: str) -> tuple[Cell | None, Cell | None]:
    """A year's target (from the report planning it) and result (from the report reviewing it)."""
    t = [c for c in cells(corpus, [ind], "target", year, {region}) if c.figure]
    r = [c for c in cells(corpus, [ind], "result", year, {region}) if c.figure]
    return (t[0] if t else None), (r[0] if r else None)


def met_check(q: Query, corpus: Corpus) -> tuple[Cell, Cell, str] | None:
    """"海曙区2019年完成了增长目标吗?": the year's target (from the report planning it), its
    result (from the report reviewing it) and 完成/未完成 — when both reports are indexed."""
    low = q.text.lower()
    if len(q.regions) != 1 or len(q.years) != 1 or not (_said(low, "met") and _said(low, "target")):
        return None
    ind = q.parts[0].indicator if q.parts else lexicon().economy
    t, r = target_vs_result(corpus, q.regions[0], q.years[0], ind)
    if t is None or r is None or t.report.key == r.report.key or value_of(t) is None or value_of(r) is None:
        return None
    return t, r, met(t.figure, r.figure)


def met(target: Figure, result: Figure) -> str:
    if target.value is None or result.value is None:
        return "无法比较"
    slack = 0.0
    if target.qualifier == "approx":  # "5%左右": half a point (or 5% of a level) either side
        slack = 0.5 if target.measure in ("growth", "rate") else abs(target.value) * 0.05
    ind = lexicon().by_id.get(target.indicator)
    if target.qualifier == "max" or (ind is not None and ind.lower):  # a ceiling ("控制在5.5%以内", "下降2.5%")
        return "完成" if result.value <= target.value + slack else "未完成"
    return "完成" if result.value >= target.value - slack else "未完成"


# --- output ------------------------------------------------------------------------------
def rows_for(corpus: Corpus, indicators=None, kind: str = "target", year: int = 0, regions=None) -> list[dict]:
    lex = lexicon()
    by_report: dict[str, dict] = {}
    for c in cells(corpus, indicators, kind, year, regions):
        row = by_report.setdefault(c.report.key, {"region": c.report.region, "level": c.report.level,
                                                  "year": c.report.year, "report": c.report.id, "file": c.report.file})
        f = c.figure
        name = lex.by_id[c.indicator].name
        row[name] = f.text if f else "not stated"
        row[f"{name} · source"] = f"{c.report.file}:{f.start}-{f.end}" if f else ""
    return list(by_report.values())


def vs_rows(corpus: Corpus, indicators=None, year: int = 0, regions=None) -> list[dict]:
    """One row per (region, year) with a target: the target, the result the next report
    gives ("not indexed" when no indexed report reviews that year, "not stated" when one
    does without the figure) and 完成/未完成, each cited."""
    lex = lexicon()
    out: dict[tuple, dict] = {}
    for ind in list(indicators or lex.table_core):
        name = lex.by_id[ind].name
        for t in cells(corpus, [ind], "target", year, regions):
            if t.figure is None:
                continue
            y = t.figure.year
            _, r = target_vs_result(corpus, t.report.region_key, y, ind)
            row = out.setdefault((t.report.region_key, y), {"region": t.report.region, "level": t.report.level,
                                                             "year": y, "report": t.report.id})
            row[f"{name} · target"] = t.figure.text
            row[f"{name} · target source"] = f"{t.report.file}:{t.figure.start}-{t.figure.end}"
            reviewed = any(rep.region_key == t.report.region_key and y in rep.review_years for rep in corpus.reports)
            row[f"{name} · result"] = r.figure.text if r and r.figure else ("not stated" if reviewed else "not indexed")
            row[f"{name} · result source"] = f"{r.report.file}:{r.figure.start}-{r.figure.end}" if r and r.figure else ""
            row[f"{name} · met"] = met(t.figure, r.figure) if r and r.figure else ""
    return list(out.values())


def to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()
