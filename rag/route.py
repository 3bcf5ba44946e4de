"""Report choice, decided once: which indexed reports may answer each part of a question.

A question that names a region is answered only from that region's own reports — never
from a report of a city inside it, and from a report of a region containing it only when
the region has no report of its own, and then only by a sentence that writes its name,
never for a figure (``Route.within``). A year's target
comes from the report that plans that year, a year's result from the report that reviews
it (usually the next year's). A question naming two regions or two years becomes one
route per region/year, each answered and cited on its own. When no indexed report covers
a route, it carries a problem that says which regions and years are indexed. A region
named only as the start of a proper name that a related region's report writes
("长沙岳麓山大学科技城" written in a district's report) is part of that name, not the subject.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .gazetteer import gazetteer
from .lexicon import lexicon
from .query import Query, region_label
from .types import Report

NAME_TAIL = 4  # characters after a region's name that must follow it in the report too

MAX_ROUTES = 12


@dataclass(frozen=True)
class Route:
    region: str = ""  # region key ("" = any)
    year: int = 0  # 0 = the reports' own year
    time: str = ""  # target | result | ""
    reports: tuple[str, ...] = ()  # report keys, best first
    problem: str = ""
    note: str = ""
    # a region without a report of its own, asked of the report of a region containing it:
    # only sentences writing one of these names (the region's own) may answer
    within: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return (region_label(self.region) if self.region else "") + (f"{self.year}年" if self.year else "")


def time_for(route: Route, report: Report) -> str:
    """The time asked of ``report``: the route's own, else what the asked year is to that
    report ("2019年" to a 2020 report is a result, "2021年" a target)."""
    if route.time or not route.year:
        return route.time
    if route.year in report.plan_years and route.year not in report.review_years:
        return "target"
    return "result" if route.year in report.review_years else ""


def coverage(reports: list[Report], region: str = "") -> str:
    """"上海市 2025年报告(回顾2024/计划2025); …" — what is indexed, for refusals."""
    pool = [r for r in reports if not region or r.region_key == region]
    rows = []
    for r in sorted(pool, key=lambda r: (r.region, r.year))[:12]:
        rev = ",".join(map(str, r.review_years)) or "—"
        plan = ",".join(map(str, r.plan_years)) or "—"
        rows.append(f"{r.region or r.file} {r.year}年报告(回顾{rev}/计划{plan})")
    more = f" 等{len(pool)}份" if len(pool) > 12 else ""
    return "；".join(rows) + more


def indexed_regions(reports: list[Report]) -> str:
    names = sorted({r.region for r in reports if r.region})
    return "、".join(names[:20]) + (f" 等{len(names)}个地区" if len(names) > 20 else "")


def region_name(region: str, reports: list[Report]) -> str:
    """The region's short name, with its parent when an indexed namesake shares it
    ("重庆市江北区" beside 宁波's 江北区)."""
    label = region_label(region)
    if any(r.region_key != region and region_label(r.region_key) == label for r in reports):
        return "".join(region_label(k) for k in _lineage(region)[-2:])
    return label


def _lineage(region: str) -> list[str]:
    parts = region.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _covers(r: Report, year: int, time: str) -> bool:
    if time == "target":
        return year in r.plan_years
    if time == "result":
        return year in r.review_years
    return year in r.plan_years or year in r.review_years or year == r.year


def _one(region: str, year: int, q: Query, reports: list[Report], report_year: int = 0) -> Route:
    pool = [r for r in reports if not region or r.region_key == region]
    report_year = report_year or q.report_year
    if report_year and pool:
        mine = [r for r in pool if r.year == report_year]
        if not mine:
            name = region_name(region, reports) if region else ""
            return Route(region, year, q.time, problem=f"没有{name}{report_year}年的报告 (no {report_year} report "
                                                       f"indexed; indexed: {coverage(reports, region) or 'none'})")
        pool = mine
    if region and not pool:
        name = region_name(region, reports)
        missing = f"没有{name}的报告 (no report for {name} is indexed; indexed: {indexed_regions(reports) or 'none'})"
        return _within(region, year, q, reports, missing) or Route(region, year, q.time, problem=missing)
    time = q.time
    if year:
        ok = [r for r in pool if _covers(r, year, time)]
        if not time and ok:
            plans = any(year in r.plan_years for r in ok)
            reviews = any(year in r.review_years for r in ok)
            time = "target" if plans and not reviews else ("result" if reviews and not plans else "")
            # the time found: only reports holding that part ("2019年" reviewed, not merely dated 2019)
            ok = [r for r in ok if _covers(r, year, time)] or ok if time else ok
        if not ok:
            what = {"target": "目标", "result": "实际结果"}.get(time, "信息")
            where = region_name(region, reports) if region else ""
            return Route(region, year, time, problem=f"报告中没有{where}{year}年的{what} (no indexed report covers it; "
                                                     f"indexed: {coverage(reports, region) or 'none'})")
        pool = ok
    elif q.relative == "last" or time == "result":
        pool = [r for r in pool if r.review_years] or pool
    elif q.relative in ("this", "next") or time == "target":
        pool = [r for r in pool if r.plan_years] or pool
    pool = sorted(pool, key=lambda r: (-r.year, r.kind != "report"))
    return Route(region, year, time, tuple(r.key for r in pool))


def _within(region: str, year: int, q: Query, reports: list[Report], missing: str) -> Route | None:
    """A region without a report of its own ("本溪" in a province's corpus): the reports of
    the nearest region containing it, for the sentences that write its name ("本溪五女山成功
    创建国家5A级旅游景区"), never for that region's own figures."""
    g = gazetteer().get(region)
    if g is None or g.level in ("national", "province") or q.report_year:
        return None
    if any(r.region_key.split("/")[-1] == g.name for r in reports):
        return None  # a namesake is indexed ("朝阳区" of another city): its name would be read as this one's
    for anc in g.ancestors()[:-1]:
        pool = [r for r in reports if r.region_key == anc and (not year or _covers(r, year, q.time))]
        if pool:
            # a short name shared with a region containing it ("吉林" of 吉林市) names that one
            above = {n for a in g.ancestors() if (x := gazetteer().get(a)) for n in (x.name, x.short)}
            names = tuple(n for n in (g.name, g.short) if len(n) >= 2 and n not in above)
            keys = tuple(r.key for r in sorted(pool, key=lambda r: -r.year))
            return Route(region, year, q.time, keys, note=missing, within=names)
    return None


def plan(q: Query, reports: list[Report], only: str | None = None) -> list[Route]:
    """The routes of a question. ``only``: a report key the user restricted the question to."""
    if only:
        reports = [r for r in reports if r.key == only]
    regions = q.regions or ("",)
    years = q.years or (0,)
    if len(q.report_years) > 1 and len(q.report_years) == len(regions):
        # "海曙区2020年报告和宁波市2023年报告中…": each region in its own report
        routes = [_one(g, 0, q, reports, ry) for g, ry in zip(regions, q.report_years)]
        return routes
    if len(regions) > 1 and len(regions) == len(years):
        pairs = list(zip(regions, years))  # "慈溪2020年和宁波2022年…": pairwise
    else:
        pairs = [(g, y) for g in regions for y in years]
    if len(q.times) > 1:  # "去年…多少，今年目标多少": each time from its own part, named by its year
        routes = [_dated(_one(g, y, replace(q, time=t), reports), reports) for g, y in pairs for t in q.times][:MAX_ROUTES]
    else:
        routes = [_one(g, y, q, reports) for g, y in pairs[:MAX_ROUTES]]
    if not q.regions and not only and q.parts:
        routes = [x for rt in routes for x in _per_region(rt, reports)]
    if only and all(r.problem for r in routes) and reports:
        routes = [Route(rt.region, rt.year, rt.time, problem=f"所选报告与问题中的地区/年份不符 ({rt.problem})") for rt in routes]
    return routes


def _dated(rt: Route, reports: list[Report]) -> Route:
    """A route of one time and no year asked: the year its best report reviews or plans."""
    r = next((r for r in reports if rt.reports and r.key == rt.reports[0]), None)
    if rt.year or r is None:
        return rt
    years = r.review_years if rt.time == "result" else r.plan_years if rt.time == "target" else ()
    return replace(rt, year=(max(years) if rt.time == "result" else min(years))) if years else rt


def _per_region(rt: Route, reports: list[Report]) -> list[Route]:
    """A figure asked without a region, over reports of several regions: one route per
    region (each answer is that region's), or a request to name one when there are many.
    Never one region's figure as if it were the answer."""
    by_key = {r.key: r for r in reports}
    regions = list(dict.fromkeys(by_key[k].region_key for k in rt.reports if k in by_key))
    if rt.problem or len(regions) <= 1:
        return [rt]
    if len(regions) > MAX_ROUTES:
        names = "、".join(region_name(g, reports) for g in regions[:8])
        return [Route("", rt.year, rt.time, problem=f"问题没有指明地区，{len(regions)}个地区的报告都可回答：{names}等 "
                                                    f"(name a region: {len(regions)} regions' reports could answer)")]
    return [Route(g, rt.year, rt.time, tuple(k for k in rt.reports if by_key[k].region_key == g)) for g in regions]


def own_year(q: Query, region: str, reports: list[Report]) -> int:
    """For "那慈溪呢?" after a 2020 target: the year the region's report plans (or reviews)."""
    pool = [r for r in reports if r.region_key == region]
    if q.time == "result":
        ys = sorted({max(r.review_years) for r in pool if r.review_years}, reverse=True)
    else:
        ys = sorted({min(r.plan_years) for r in pool if r.plan_years}, reverse=True)
    return ys[0] if ys else 0


def name_owners(q: Query, reports: list[Report], text) -> Query:
    """A region named only as the start of a proper name ("长沙岳麓山大学科技城",
    "株洲航空产业园") that its own reports never write, but the report of exactly one
    region above or below it does: the question is about that name, asked of that region.
    ``text(key)`` is a report's stored text."""
    regions = list(q.regions)
    for i, (key, name) in enumerate(zip(q.regions, q.region_names)):
        at = q.text.find(name)
        tail = re.match(r"[\u4e00-\u9fff]{%d,}" % NAME_TAIL, q.text[at + len(name):]) if at >= 0 else None
        if not tail or any(m.start == 0 for m in lexicon().asked(tail.group(0))):
            continue  # "株洲经济增长…": the region's own figure, not a name
        phrase = name + tail.group(0)[:NAME_TAIL]
        if any(phrase in text(r.key) for r in reports if r.region_key == key):
            continue
        related = [r for r in reports if r.region_key != key and r.region_key
                   and (r.region_key.startswith(key + "/") or key.startswith(r.region_key + "/"))]
        writers = {r.region_key for r in related if phrase in text(r.key)}
        if len(writers) == 1:
            regions[i] = writers.pop()
    return replace(q, regions=tuple(regions)) if tuple(regions) != q.regions else q
