"""Question analysis, deterministic: which region(s), which year(s), what is wanted
(a target for a year the report plans, or a result for a year it reviews), which
indicator — turned into the reports to search and the section kind to prefer.

A 2020 target lives in the 2020 report's plan part; a 2019 result in the same report's
review part. Follow-ups ("那慈溪呢?", "2019年呢?") are resolved against the previous
turn's analysis.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from .catalog import region_aliases
from .types import Report

# Indicators and the ways people name them (English included). The first name is the
# one the reports use; every name is a search term.
INDICATORS: dict[str, tuple[str, ...]] = {
    "地区生产总值": ("地区生产总值", "生产总值", "gdp", "经济总量", "经济增长", "gross domestic product"),
    "一般公共预算收入": ("一般公共预算收入", "财政收入", "公共预算收入", "fiscal revenue", "budget revenue", "public budget revenue"),
    "城镇居民人均可支配收入": ("城镇居民人均可支配收入", "城镇居民收入", "城镇居民", "urban residents", "urban disposable income", "urban income"),
    "农村居民人均可支配收入": ("农村居民人均可支配收入", "农村居民收入", "农村居民", "rural residents", "rural disposable income", "rural income"),
    "人均可支配收入": ("人均可支配收入", "可支配收入", "居民收入", "disposable income"),
    "固定资产投资": ("固定资产投资", "fixed-asset investment", "fixed asset investment", "investment in fixed assets"),
    "社会消费品零售总额": ("社会消费品零售总额", "社零", "消费品零售", "retail sales", "retail"),
    "规上工业增加值": ("规上工业增加值", "工业增加值", "industrial added value", "industrial value added"),
    "数字经济核心产业增加值": ("数字经济核心产业增加值", "数字经济", "digital economy"),
    "服务业增加值": ("服务业增加值", "服务业", "service sector", "services"),
    "研发投入": ("研发投入", "研发", "r&d"),
    "进出口": ("进出口", "外贸", "出口", "foreign trade", "exports", "export", "imports", "import", "trade"),
    "实际利用外资": ("实际利用外资", "利用外资", "外资", "foreign investment", "foreign capital", "fdi"),
    "城镇新增就业": ("城镇新增就业", "新增就业", "就业", "new jobs", "employment", "jobs"),
    "失业率": ("失业率", "unemployment"),
    "居民消费价格": ("居民消费价格", "cpi", "consumer price", "consumer prices", "物价"),
    "常住人口": ("常住人口", "resident population"),
    "户籍人口": ("户籍人口", "registered population"),
    "人口": ("人口", "population"),
    "商品销售额": ("商品销售额", "销售额", "sales"),
    "税收": ("税收", "tax"),
    "民生实事": ("民生实事", "livelihood projects"),
    "节能减排": ("节能减排", "能耗", "energy"),
}

# English words → the Chinese the reports use (search terms only; answers quote the text)
EN_TERMS: dict[str, str] = {
    "talent": "人才", "talents": "人才", "high-level": "高层次", "high-tech": "高新技术", "enterprise": "企业",
    "enterprises": "企业", "companies": "企业", "typhoon": "台风", "typhoons": "台风", "port": "港",
    "container": "集装箱", "throughput": "吞吐量", "glossary": "名词解释", "hub": "枢纽", "air-rail": "空铁",
    "cluster": "集群", "clusters": "集群 集聚区", "office": "楼宇", "building": "楼宇", "parking": "停车位",
    "school": "学校", "schools": "学校", "kindergarten": "幼儿园", "hospital": "医院", "road": "道路", "roads": "道路",
    "rail": "轨道", "metro": "轨道交通", "airport": "机场", "village": "村", "villages": "乡村", "rural": "农村 乡村",
    "poverty": "扶贫 脱贫", "pollution": "污染", "water": "水", "air quality": "空气质量", "pm2.5": "PM2.5",
    "forest": "森林", "green": "绿色", "carbon": "碳", "tax": "税", "tax cuts": "减税降费", "fees": "降费",
    "financing": "融资", "listed": "上市", "ipo": "上市", "patent": "专利", "patents": "专利", "innovation": "创新",
    "intensity": "强度", "digital": "数字", "reform": "改革", "government services": "政务服务", "online": "网上 线上",
    "approval": "审批", "days": "天", "projects": "项目", "project": "项目", "land": "土地", "mu": "亩",
    "housing": "住房 安居", "elderly": "养老", "pension": "养老", "medical": "医疗", "health": "健康", "culture": "文化",
    "tourism": "旅游", "sports": "体育", "safety": "安全", "security": "平安", "epidemic": "疫情", "covid": "疫情",
    "13th five-year": "十三五", "14th five-year": "十四五", "five-year": "五年", "2035": "2035年", "rank": "位居 排名",
    "ranked": "位居 居", "first": "第一", "second": "第二", "third": "第三", "world": "世界", "national": "全国", "province": "全省",
    "whole-city": "全市", "city-level": "市级", "municipal": "市级", "speaker": "代表", "secretariat": "秘书处",
    "income": "收入", "revenue": "收入", "budget": "预算", "consumption": "消费", "jobs": "就业", "employment": "就业",
}
# Indicators a sentence may name in a shared form: "城镇、农村居民人均可支配收入分别为…"
INDICATOR_PARTS: dict[str, tuple[str, ...]] = {
    "城镇居民人均可支配收入": ("城镇", "人均可支配收入"),
    "农村居民人均可支配收入": ("农村", "人均可支配收入"),
}
_TARGET = re.compile(
    r"目标|预期|计划|力争|打算|将要|要(?:达到|实现|完成)|安排|\btargets?\b|\bgoals?\b|\bplan(?:s|ned)?\b|\baims?\b|\bexpected\b|\bwill\b"
)
_RESULT = re.compile(
    r"实现了|完成了|达到了|增长了|实际|结果|成效|成绩|回顾|去年|上年|全年实现|\bresults?\b|\bachiev\w*|\bactual\w*|\bwas\b|\bwere\b|\bgrew\b|\breached\b|\bdid\b|\brecorded\b"
)
_DEFINE = re.compile(r"是指|什么意思|指什么|什么是|含义|名词解释|\bmean(?:s|ing)?\b|\bdefin\w*|\bwhat is\b.*\b(?:term|concept)\b")
_YEAR = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(?!\d)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_HEADLINE = re.compile(r"主要(?:预期)?目标|主要(?:经济)?指标|预期目标|main (?:targets|indicators|figures)|headline|key (?:figures|indicators)")
_FOLLOWUP = re.compile(r"^(那|那么|还有|and|what about|how about)|呢[?？]?$", re.I)


@dataclass(frozen=True)
class Query:
    text: str  # the question as asked (after truncation)
    regions: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    intent: str = "other"  # "target" | "result" | "define" | "other"
    indicators: tuple[str, ...] = ()  # canonical indicator names
    report_ids: tuple[str, ...] = ()  # reports to search; () = all
    english: bool = False
    search_text: str = ""  # what retrieval embeds/tokenises (English terms mapped to Chinese)
    problem: str = ""  # non-empty: the reports cannot answer this (region/year not covered)
    resolved_from: str = ""  # the previous question, for a follow-up
    note: str = ""  # how the question was read, when that is not obvious

    @property
    def section_kind(self) -> str:
        return {"target": "plan", "result": "review"}.get(self.intent, "")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _find_regions(low: str, reports: list[Report]) -> tuple[str, ...]:
    found: list[tuple[int, str]] = []
    for canon, aliases in region_aliases({r.file: r for r in reports}).items():
        hits = [low.find(a) for a in aliases if a and a in low]
        if hits:
            found.append((min(hits), canon))
    return tuple(c for _, c in sorted(found))


def _find_indicators(low: str) -> tuple[str, ...]:
    hits: dict[str, str] = {}  # canonical name → the longest name of it the question uses
    for canon, names in INDICATORS.items():
        used = [n for n in names if (re.search(rf"(?<![a-z]){re.escape(n)}(?![a-z])", low) if n.isascii() else n in low)]
        if used:
            hits[canon] = max(used, key=len)
    # the specific wins over the general: "常住人口" is not any 人口, "城镇居民人均可支配收入"
    # is not any 人均可支配收入
    return tuple(
        c for c, n in hits.items() if not any(o != c and n != m and n in m for o, m in hits.items())
    )


def _is_follow_up(low: str, reports: list[Report]) -> bool:
    """"那慈溪呢?", "2019年呢?", "and Cixi?": a turn that names little beyond a region or a
    year. A question with a subject of its own ("慈溪2020年PM2.5浓度是多少?") is not one."""
    rest = low
    for aliases in region_aliases({r.file: r for r in reports}).values():
        for a in sorted(aliases, key=len, reverse=True):
            rest = rest.replace(a, " ")
    rest = _YEAR.sub(" ", rest)
    rest = re.sub(r"今年|去年|明年|年|那么|那|呢|还有|的|是|多少|情况|怎么样|如何|吗|and|what|how|about|\W", " ", rest)
    residual = len(re.sub(r"\s+", "", rest))
    return residual <= 3 or (bool(_FOLLOWUP.search(low)) and residual <= 8)


def _relative_years(low: str, reports: list[Report]) -> list[int]:
    if not reports:
        return []
    base = max(r.year for r in reports)
    out = []
    if "今年" in low or "this year" in low:
        out.append(base)
    if "去年" in low or "上年" in low or "last year" in low:
        out.append(base - 1)
    if "明年" in low or "next year" in low:
        out.append(base + 1)
    return out


def _intent(low: str) -> str:
    if _DEFINE.search(low):
        return "define"
    t, r = bool(_TARGET.search(low)), bool(_RESULT.search(low))
    if t and not r:
        return "target"
    if r and not t:
        return "result"
    return "other"


def _search_text(q: str, indicators: tuple[str, ...], regions: tuple[str, ...], english: bool) -> str:
    """The question, plus (for English) the Chinese names of what it asks about."""
    extra = list(indicators) + list(regions)
    if english:
        low = q.lower()
        for en, zh in EN_TERMS.items():
            if re.search(rf"(?<![a-z]){re.escape(en)}(?![a-z])", low):
                extra.append(zh)
        if re.search(r"\btargets?\b|\bgoals?\b|\bplan", low):
            extra.append("目标")
        if re.search(r"\bgrow|\bgrowth\b|\bincreas", low):
            extra.append("增长")
    return q + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


def choose_reports(
    regions: tuple[str, ...], years: tuple[int, ...], intent: str, reports: list[Report]
) -> tuple[tuple[str, ...], str]:
    """(report ids to search, problem). A problem means no report can answer."""
    pool = [r for r in reports if not regions or r.region in regions]
    if regions and not pool:
        return (), f"没有{'、'.join(regions)}的报告 (no report for {', '.join(regions)})"
    if not years:
        return tuple(r.id for r in pool), ""
    ok: list[Report] = []
    for r in pool:
        covered = set(r.review_years) | set(r.plan_years) | {r.year}
        if intent == "target":
            covered = set(r.plan_years)
        elif intent == "result":
            covered = set(r.review_years)
        if any(y in covered for y in years):
            ok.append(r)
    if not ok:
        have = "; ".join(
            f"{r.title}: 回顾 {','.join(map(str, r.review_years)) or '—'} / 计划 {','.join(map(str, r.plan_years)) or '—'}"
            for r in pool
        )
        what = {"target": "目标", "result": "实际结果"}.get(intent, "信息")
        return (), f"报告中没有{'、'.join(regions) or ''}{'、'.join(map(str, years))}年的{what} (reports cover: {have})"
    return tuple(r.id for r in ok), ""


def analyze(question: str, reports: list[Report], prev: Query | None = None) -> Query:
    q = normalize(question).strip()
    low = q.lower()
    english = not _CJK.search(q)
    regions = _find_regions(low, reports)
    years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(q))) or tuple(_relative_years(low, reports))
    intent = _intent(low)
    indicators = _find_indicators(low)
    resolved_from = ""
    # a follow-up inherits what it does not say from the previous turn
    if prev is not None and _is_follow_up(low, reports):
        resolved_from = prev.text
        indicators = indicators or prev.indicators
        if not regions:
            regions = prev.regions
        if not years:
            years = prev.years
        if intent == "other":
            intent = prev.intent
        if years and years != prev.years and intent == "target":
            # "2019年呢?" after a 2020 target: a year the reports only review asks for a result
            pool = [r for r in reports if not regions or r.region in regions]
            if pool and not any(y in r.plan_years for r in pool for y in years) and any(
                y in r.review_years for r in pool for y in years
            ):
                intent = "result"
    # a year that only a review covers (or only a plan) decides an open intent, and a
    # "target" worded question about a reviewed year ("完成…目标任务") asks for a result;
    # an explicit result ("实际增长") about a planned year stays a result (and is refused)
    if years and (intent == "other" or (intent == "target" and re.search(r"完成|实现了|达到了|达成", low))):
        pool = [r for r in reports if not regions or r.region in regions]
        in_plan = any(y in r.plan_years for r in pool for y in years)
        in_review = any(y in r.review_years for r in pool for y in years)
        if in_review and not in_plan:
            intent = "result"
        elif in_plan and not in_review and intent == "other":
            intent = "target"
    report_ids, problem = choose_reports(regions, years, intent if intent in ("target", "result") else "other", reports)
    note = ""
    if problem and resolved_from and regions and regions != prev.regions and intent in ("target", "result"):
        # "那慈溪呢?" after a 2020 target: 慈溪's report plans 2021 — answer for its own year
        pool = [r for r in reports if r.region in regions]
        own = sorted({min(r.plan_years) if intent == "target" else max(r.review_years)
                      for r in pool if (r.plan_years if intent == "target" else r.review_years)})
        if own:
            report_ids, problem = choose_reports(regions, (own[0],), intent, reports)
            if not problem:
                what = "目标" if intent == "target" else "实际结果"
                note = f"{'、'.join(regions)}的报告没有{'、'.join(map(str, years))}年的{what}，改答{own[0]}年 (answered for {own[0]}, the year its report covers)"
                years = (own[0],)
    search = _search_text(q if not resolved_from else f"{prev.search_text} {q}", indicators, regions, english)
    if not indicators and _HEADLINE.search(low):
        # "主要预期目标/主要指标" means the headline sentence: GDP, fiscal revenue, income
        search += " 地区生产总值 一般公共预算收入 居民人均可支配收入 增长"
    return Query(
        text=q,
        regions=regions,
        years=years,
        intent=intent,
        indicators=indicators,
        report_ids=report_ids,
        english=english,
        search_text=search,
        problem=problem,
        resolved_from=resolved_from,
        note=note,
    )


def with_report(q: Query, report_id: str) -> Query:
    """Restrict a query to one report (the user's report filter)."""
    if q.report_ids and report_id not in q.report_ids:
        return replace(q, report_ids=(), problem=q.problem or f"所选报告 {report_id} 与问题中的地区/年份不符")
    return replace(q, report_ids=(report_id,))
