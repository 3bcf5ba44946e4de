"""Structured summaries of one report: `rag summarize`.

A government work report (政府工作报告) is summarised as

* an overview: who gave it, which year, its parts, the headline results and targets,
  and how many task sections it has (3–5 sentences);
* the past year's key figures as a table (indicator, value, growth / rank);
* the coming year's targets as a table (indicator, target, qualifier such as 左右/以上);
* the main tasks: one bullet per top-level task section of the plan part (（一）…（八）).

Every line and table row cites spans of the file ([n] → doc, start, end, quote, with
``doc.text[start:end] == quote``). A news article (catalog kind "article") gets a
shorter form: overview, key figures and one bullet per section. A report with no plan
part (an excerpt that stops after the review) gets bullets for its review sections.

Two modes:

* extractive (default, no LLM): section-aware sentence selection (lexical centrality
  within the section over jieba tokens, sentences that carry figures, the heads of the
  task sections), de-duplicated and kept in the report's order. Figures are extracted
  from the sentences by regex, never invented: each table cell with a figure is a
  verbatim (spaces removed) piece of its cited sentence.
* LLM (``llm_cfg`` or :func:`rag.llm.config_from_env`): map over the sections
  (``prompts/summary_map.md``) and reduce to the overview (``prompts/summary_reduce.md``),
  with tiktoken budgets so any report fits the model's context. The tables stay
  extracted (their cells must be verbatim). Every number the LLM writes is checked
  with :func:`rag.guard.check` against the spans the line cites; a failing task bullet
  is replaced by its extractive version, a failing overview sentence is flagged. An LLM
  that fails mid-way keeps the finished sections; the rest is extractive, and a note says so.

Summaries are cached under ``rag.config.home()/"summaries"``, keyed by the sha256 of the
file's bytes and the settings (mode, model, :data:`VERSION`, catalog entry).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, NamedTuple

from . import config
from .types import Citation, Document, Report, Section

VERSION = "summary-1"  # bump when the output of the same input changes

Progress = Callable[[int, int], None]

# --------------------------------------------------------------------------- public types


class SummaryError(Exception):
    """A report that cannot be summarised; the message is one line for a person."""


class UnknownReport(SummaryError, LookupError):
    """A report reference that names no file or catalog entry."""

    def __init__(self, ref: str, known: list[str]):
        self.ref = ref
        self.known = known
        super().__init__(
            f"unknown report {ref!r}; known: {', '.join(known) or '(none)'} (or give a file path)"
        )


@dataclass(frozen=True)
class SummaryLine:
    text: str
    citations: tuple[Citation, ...]
    flagged: str = ""  # non-empty: why this line is not to be trusted (number guard)


class KeyFigure(NamedTuple):
    """A row of the results table. ``value``/``growth`` are verbatim pieces of the citation."""

    indicator: str
    value: str
    growth: str
    citation: Citation


class Target(NamedTuple):
    """A row of the targets table. ``target``/``qualifier`` are verbatim pieces of the citation."""

    indicator: str
    target: str
    qualifier: str
    citation: Citation


@dataclass(frozen=True)
class Summary:
    report: Report
    overview: tuple[SummaryLine, ...]
    results: tuple[KeyFigure, ...]
    targets: tuple[Target, ...]
    tasks: tuple[SummaryLine, ...]
    notes: tuple[str, ...] = ()
    mode: str = "extractive"  # "extractive" | "llm:<model>"
    cached: bool = False
    doc_sha256: str = ""
    results_title: str = ""
    targets_title: str = ""
    tasks_title: str = ""
    seconds: float = field(default=0.0, compare=False)

    # ------------------------------------------------------------------ citations
    def citations(self) -> list[Citation]:
        """Every citation once, by number."""
        seen: dict[int, Citation] = {}
        for line in self.overview:
            for c in line.citations:
                seen.setdefault(c.n, c)
        for row in self.results:
            seen.setdefault(row.citation.n, row.citation)
        for row in self.targets:
            seen.setdefault(row.citation.n, row.citation)
        for line in self.tasks:
            for c in line.citations:
                seen.setdefault(c.n, c)
        return [seen[n] for n in sorted(seen)]

    # ------------------------------------------------------------------ markdown
    def to_markdown(self) -> str:
        r = self.report
        out: list[str] = [f"# {r.title} · 摘要", ""]
        meta = [f"{r.id}（{r.file}）"]
        if r.region:
            meta.append(r.region)
        if r.year:
            meta.append(f"{r.year}年")
        if r.speaker:
            meta.append(r.speaker)
        if r.kind != "report":
            meta.append({"article": "新闻报道"}.get(r.kind, r.kind))
        out.append("- 报告：" + " · ".join(meta))
        mode = "抽取式，未用大模型" if self.mode == "extractive" else "大模型归纳，数字经核对"
        out.append(f"- 模式：{self.mode}（{mode}）" + (" · 缓存命中" if self.cached else ""))
        out.append("")
        out.append("## 概述")
        out.append("")
        if self.overview:
            for line in self.overview:
                out.append(_md_line(line, bullet=False))
        else:
            out.append("（无内容）")
        out.append("")
        if self.results:
            out += [f"## {self.results_title or '主要数据'}", ""]
            out.append("| 指标 | 数值 | 增长/排名 | 出处 |")
            out.append("| --- | --- | --- | --- |")
            for row in self.results:
                out.append(
                    f"| {_cell(row.indicator)} | {_cell(row.value) or '—'} | {_cell(row.growth) or '—'} | [{row.citation.n}] |"
                )
            out.append("")
        if self.targets:
            out += [f"## {self.targets_title or '主要目标'}", ""]
            out.append("| 指标 | 目标 | 限定 | 出处 |")
            out.append("| --- | --- | --- | --- |")
            for row in self.targets:
                out.append(
                    f"| {_cell(row.indicator)} | {_cell(row.target) or '—'} | {_cell(row.qualifier) or '—'} | [{row.citation.n}] |"
                )
            out.append("")
        if self.tasks:
            out += [f"## {self.tasks_title or '主要任务'}", ""]
            for line in self.tasks:
                out.append(_md_line(line, bullet=True))
            out.append("")
        if self.notes:
            out += ["## 说明", ""]
            out += [f"- {n}" for n in self.notes]
            out.append("")
        cites = self.citations()
        if cites:
            out += ["## 出处", ""]
            for c in cites:
                q = " ".join(c.quote.split())
                if len(q) > 90:
                    q = q[:88] + "…"
                sec = f" · {c.section}" if c.section else ""
                out.append(f"[{c.n}] {c.doc} {c.start}–{c.end}{sec}：“{q}”  ")
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        r = self.report
        return {
            "report": {
                "id": r.id,
                "file": r.file,
                "title": r.title,
                "region": r.region,
                "level": r.level,
                "year": r.year,
                "review_years": list(r.review_years),
                "plan_years": list(r.plan_years),
                "speaker": r.speaker,
                "kind": r.kind,
                "guessed": r.guessed,
            },
            "mode": self.mode,
            "cached": self.cached,
            "version": VERSION,
            "doc_sha256": self.doc_sha256,
            "overview": [_line_dict(x) for x in self.overview],
            "results_title": self.results_title,
            "results": [
                {"indicator": x.indicator, "value": x.value, "growth": x.growth, "citation": _cite_dict(x.citation)}
                for x in self.results
            ],
            "targets_title": self.targets_title,
            "targets": [
                {"indicator": x.indicator, "target": x.target, "qualifier": x.qualifier, "citation": _cite_dict(x.citation)}
                for x in self.targets
            ],
            "tasks_title": self.tasks_title,
            "tasks": [_line_dict(x) for x in self.tasks],
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, d: dict, *, cached: bool = False) -> "Summary":
        rd = d["report"]
        report = Report(
            id=rd["id"],
            file=rd["file"],
            title=rd["title"],
            region=rd.get("region", ""),
            level=rd.get("level", ""),
            year=int(rd.get("year", 0)),
            review_years=tuple(rd.get("review_years", ())),
            plan_years=tuple(rd.get("plan_years", ())),
            speaker=rd.get("speaker", ""),
            kind=rd.get("kind", "report"),
            guessed=bool(rd.get("guessed", False)),
        )

        def cite(c: dict) -> Citation:
            return Citation(c["n"], c["doc"], report.id, c.get("section", ""), c["start"], c["end"], c["quote"])

        def line(x: dict) -> SummaryLine:
            return SummaryLine(x["text"], tuple(cite(c) for c in x["citations"]), x.get("flagged", ""))

        return cls(
            report=report,
            overview=tuple(line(x) for x in d["overview"]),
            results=tuple(KeyFigure(x["indicator"], x["value"], x["growth"], cite(x["citation"])) for x in d["results"]),
            targets=tuple(Target(x["indicator"], x["target"], x["qualifier"], cite(x["citation"])) for x in d["targets"]),
            tasks=tuple(line(x) for x in d["tasks"]),
            notes=tuple(d.get("notes", ())),
            mode=d.get("mode", "extractive"),
            cached=cached,
            doc_sha256=d.get("doc_sha256", ""),
            results_title=d.get("results_title", ""),
            targets_title=d.get("targets_title", ""),
            tasks_title=d.get("tasks_title", ""),
            seconds=float(d.get("seconds", 0.0)),
        )


def _cite_dict(c: Citation) -> dict:
    return {"n": c.n, "doc": c.doc, "start": c.start, "end": c.end, "quote": c.quote, "section": c.section}


def _line_dict(x: SummaryLine) -> dict:
    return {"text": x.text, "citations": [_cite_dict(c) for c in x.citations], "flagged": x.flagged}


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _md_line(line: SummaryLine, bullet: bool) -> str:
    marks = "".join(f"[{c.n}]" for c in line.citations)
    text = f"{line.text} {marks}".rstrip()
    if line.flagged:
        text = f"⚠ {text}（{line.flagged}）"
    return f"- {text}" if bullet else text


# --------------------------------------------------------------------------- spans and refs


@dataclass(frozen=True)
class _Ref:
    """A span of the report text, numbered only when the summary is assembled."""

    start: int
    end: int
    section: str


@dataclass
class _Line:
    text: str
    refs: list[_Ref]
    flagged: str = ""


@dataclass
class _Row:
    table: str  # "results" | "targets"
    indicator: str
    a: str  # value | target
    b: str  # growth | qualifier
    ref: _Ref
    canon: str
    scope: str = ""
    horizon: str = ""
    pos: int = 0


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Span without surrounding whitespace and markdown marks (#, *)."""
    while s < e and (text[s].isspace() or text[s] in "#*>"):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] == "*"):
        e -= 1
    return s, e


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# --------------------------------------------------------------------------- figures

_NUMBER = r"\d+(?:\.\d+)?"
_UNITS = (
    "个百分点|百分点|%|％|‰|亿美元|万美元|美元|万亿元|亿元|万元|元|万人次|人次|万人|人|万平方米|平方米|平方公里|公里|万亩|亩"
    "|万户|户|万吨|吨|家|个|项|件|倍|所|座|条|辆|名"
)
# the indicators, specific before general; (canonical name, regex)
_INDICATORS: list[tuple[str, str]] = [
    ("研发经费支出占地区生产总值比重", r"(?:全社会)?(?:研发|R&D)(?:经费)?(?:支出|投入)?占(?:地区生产总值|GDP)(?:的)?比重"),
    ("研发投入强度", r"(?:研发|R&D)(?:经费)?投入强度"),
    ("研发经费投入", r"(?:全社会)?(?:研发|R&D)(?:经费)?(?:投入|支出)|(?:全社会)?研发经费"),
    ("城乡居民人均可支配收入", r"城乡居民(?:人均可支配)?收入|城镇(?:和|、|及|与)农村(?:常住)?居民(?:人均可支配)?收入"),
    ("城镇居民人均可支配收入", r"城镇(?:常住)?居民(?:人均可支配)?收入"),
    ("农村居民人均可支配收入", r"农村(?:常住)?居民(?:人均可支配)?收入"),
    ("居民人均可支配收入", r"(?:全体|全市|全区)?居民人均可支配收入"),
    ("数字经济核心产业增加值", r"(?:规上)?数字经济核心产业增加值"),
    ("规上工业增加值", r"规(?:模以)?上工业增加值|工业增加值"),
    ("高新技术产业增加值", r"高新技术产业增加值"),
    ("服务业增加值", r"服务业增加值"),
    ("地区生产总值", r"地区生产总值|(?<![A-Za-z])GDP|生产总值"),
    ("一般公共预算收入", r"一般公共预算收入|财政收入"),
    ("固定资产投资", r"固定资产投资"),
    ("工业投资", r"工业投资"),
    ("民间投资", r"民间投资"),
    ("社会消费品零售总额", r"社会消费品零售总额|社零总额"),
    ("商品销售额", r"(?:限上)?商品销售额"),
    ("网络零售额", r"网络零售额"),
    ("实际利用外资", r"实际(?:利用|使用)外资|实到外资"),
    ("进出口总额", r"(?<!服务贸易)(?<!跨境电商)(?:外贸)?(?:自营)?进出口(?:总额)?"),
    ("出口", r"(?<!服务贸易)(?<!跨境电商)(?<!进)(?:(?:外贸|自营)出口(?:总额)?|出口总额|(?<=其中)出口)"),
    ("城镇新增就业", r"城镇新增就业|新增城镇就业"),
    ("失业率", r"(?:城镇)?(?:登记|调查)?失业率"),
    ("居民消费价格", r"居民消费价格(?:总水平)?(?:涨幅)?|CPI"),
]
_IND_RE = re.compile("|".join(f"(?P<i{k}>{pat})" for k, (_, pat) in enumerate(_INDICATORS)))
_PAIR = {"城乡居民人均可支配收入": ("城镇居民人均可支配收入", "农村居民人均可支配收入")}
_SCOPES = ("全市", "市级", "全区", "区级", "全县", "县级")
_SCOPE_RE = "|".join(_SCOPES)
_GROWTH_VERB = r"(?:同比|比上年|年均|同口径|按可比价计算)?(?:增长|下降|增加|减少|提高|回落|上涨|上升|提升)(?![到至])|增速|增幅|涨幅"
_GROWTH = re.compile(
    rf"(?P<scope>{_SCOPE_RE})?(?P<verb>{_GROWTH_VERB})(?P<mid>为|达到|达|控制在|保持在)?\s*"
    rf"(?P<num>(?<![\d.]){_NUMBER})\s*(?P<unit>%|％|‰|个百分点|百分点|倍)(?P<post>左右|以上|以内|以下)?"
)
_LEVEL = re.compile(
    rf"(?P<scope>{_SCOPE_RE})?(?P<pre>(?:是|为)?(?:五年前|上年|去年|20\d\d年)的|突破|超过|超|逾|近|约|不低于|不少于|不超过|控制在|保持在|"
    rf"达到|达|为|实现|完成|增至|增加到|增加至|提高到|提高至|提升到|提升至|扩大到|降至|降低到|下降到)?\s*"
    rf"(?P<num>(?<![\d.]){_NUMBER})\s*(?P<unit>{_UNITS})(?P<post>左右|以上|以内|以下)?"
)
_CONT = re.compile(rf"\s*(?:和|、|与|及|,|，)\s*(?P<num>{_NUMBER})\s*(?P<unit>%|％|‰|个百分点|百分点|倍|{_UNITS})(?P<post>左右|以上|以内|以下)?")
_FROM_TO = re.compile(
    rf"从\s*{_NUMBER}\s*(?:{_UNITS})\s*(?:增加|提高|提升|扩大|增长|下降|减少|降低)(?:到|至)\s*{_NUMBER}\s*(?:{_UNITS})"
)
_FLAT = re.compile(r"与上(?:一)?年(?:基本)?持平|基本持平")
_RANK = re.compile(r"(全市|全省|全国|全区).{0,6}?(第[一二三四五六七八九十\d]+|首位|前列|“?[一二三四五六七八九十\d]+连冠”?)")
_FOLLOW = re.compile(
    rf"^\s*(?:同比|比上年|同口径|按可比价计算|增长|下降|增速|增幅|年均|位居|位列|居|排名|列|连续|占比|分别|与上(?:一)?年|"
    rf"(?:{_SCOPE_RE})(?=\s*(?:\d|增长|下降|突破|达到|为)))"
)
_KEEP_PRE = ("突破", "超过", "超", "逾", "近", "约")  # results: kept in the value (they change its meaning)
_TARGET_PRE = ("突破", "超过", "超", "不低于", "不少于", "不超过", "控制在")  # targets: a qualifier
_QUALITATIVE = re.compile(r"(?:与经济增长基本同步|与经济增长同步|保持稳步增长|保持合理增长|稳步增长|同步增长)")
_TARGET_SENT = re.compile(r"预期目标|主要目标|建议.{0,10}实现|目标为")
_TARGET_WORDS = re.compile(r"力争|目标|预期|计划|确保|争取|建议")


def _fix_unit(u: str) -> str:
    return "%" if u == "％" else u


@dataclass
class _Fig:
    kind: str  # "growth" | "level" | "rank"
    text: str  # verbatim (spaces removed): what goes into the table
    qual: str = ""  # pre/post qualifier (targets)
    scope: str = ""
    bare: str = ""  # growth only: the number without a plain "增长" (results table)


def _parse_values(seg: str) -> list[_Fig]:
    """Figures of one value segment (the text after an indicator name), in order."""
    figs: list[tuple[int, _Fig]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def conts(end: int, kind: str) -> None:
        while (c := _CONT.match(seg, end)) is not None:
            t = _squash(seg[c.start("num") : c.end("unit")]).replace("％", "%")
            figs.append((c.start("num"), _Fig(kind, t, c.group("post") or "", "", t)))
            taken.append((c.start(), c.end()))
            end = c.end()

    for m in _GROWTH.finditer(seg):
        full = _squash(seg[m.start("verb") : m.end("unit")]).replace("％", "%")
        bare = _squash(seg[m.start("num") : m.end()]).replace("％", "%")
        if m.group("verb") != "增长" or m.group("mid"):
            bare = _squash(seg[m.start("verb") : m.end()]).replace("％", "%")
        figs.append((m.start(), _Fig("growth", full, _squash(m.group("post") or ""), m.group("scope") or "", bare)))
        taken.append((m.start(), m.end()))
        conts(m.end(), "growth")
    for m in _FROM_TO.finditer(seg):
        t = _squash(m.group(0)).replace("％", "%")
        figs.append((m.start(), _Fig("level", t, "", "", t)))
        taken.append((m.start(), m.end()))
    for m in _FLAT.finditer(seg):
        if free(m.start(), m.end()):
            figs.append((m.start(), _Fig("growth", m.group(0), "", "", m.group(0))))
            taken.append((m.start(), m.end()))
    for m in _LEVEL.finditer(seg):
        if not free(m.start("num"), m.end()):
            continue
        pre = m.group("pre") or ""
        share = re.search(r"占.{0,12}?比重", seg[: m.start("num")])
        if share and m.start("num") - share.end() <= 6:
            txt = _squash(seg[share.start() : m.end("unit")])
        elif pre.endswith("的") or pre in _KEEP_PRE:
            txt = _squash(seg[m.start("pre") : m.end("unit")])
        else:
            txt = _squash(seg[m.start("num") : m.end("unit")])
        txt = txt.replace("％", "%")
        qual = pre if pre in _TARGET_PRE and pre not in txt else ""
        post = m.group("post") or ""
        figs.append((m.start(), _Fig("level", txt, qual + post, m.group("scope") or "", txt + post)))
        taken.append((m.start(), m.end()))
        conts(m.end(), "level")
    for m in _RANK.finditer(seg):
        # the clause that holds the rank, verbatim
        a = max(seg.rfind(p, 0, m.start()) for p in "，,、；;（(") + 1
        b = min([x for x in (seg.find(p, m.end()) for p in "，,、；;。）)") if x >= 0] or [len(seg)])
        clause = seg[a:b].strip()
        if 0 < len(clause) <= 24 and not re.search(r"\d+(?:\.\d+)?\s*(?:%|亿|万)", clause):
            figs.append((a, _Fig("rank", _squash(clause), bare=_squash(clause))))
    figs.sort(key=lambda x: x[0])
    return [f for _, f in figs]


def _value_segment(sent: str, start: int, stop: int) -> str:
    """The clauses after an indicator name that describe it: the first clause, then the
    following ones that start with a growth or rank word."""
    seg = sent[start:stop]
    parts = re.split(r"([，,；;。])", seg)
    out = parts[0]
    i = 1
    while i + 1 < len(parts):
        sep, nxt = parts[i], parts[i + 1]
        if sep in "；;。" or not _FOLLOW.match(nxt):
            break
        out += sep + nxt
        i += 2
    return out


def _horizon(seg: str, before: str, para: str, part_label: str, table: str) -> str:
    """'' for the report's own year; a period label for five-year figures."""
    m = re.search(r"“?十[一二三四五六七八九]五”?", part_label)
    name = ""
    if m:
        name = m.group(0) if m.group(0).startswith("“") else f"“{m.group(0)}”"
    if table == "targets":
        if re.search(r"20\d\d年", part_label) and not re.search(r"20\d\d年(?:远景|前)", part_label):
            return ""
        if name:
            return f"{name}时期"
        return "五年" if re.search(r"五年|2035", part_label) else ""
    five = (
        bool(re.match(r"\s*(这五年|五年来|过去五年)", para))
        or bool(re.search(r"五年前|年均", seg))
        or "累计" in before
    )
    if not five:
        return ""
    return f"{name}时期" if name else "五年"


_SCOPE_AT = re.compile(
    rf"(?P<scope>{_SCOPE_RE})(?=\s*(?:{_GROWTH_VERB}|突破|达到|达|为|实现|完成|\d))"
)


def _figures(text: str, s: int, e: int, table: str, section: str, para: str, part_label: str, target_sent: bool) -> list[_Row]:
    """Indicator rows found in one sentence text[s:e]."""
    sent = text[s:e]
    matches = []
    for m in _IND_RE.finditer(sent):
        if m.start() > 0 and sent[m.start() - 1] == "占":
            continue  # "占GDP比重": a denominator, not the subject
        if sent[max(0, m.start() - 2) : m.start()] in ("亩均", "人均", "户均") or sent[m.end() : m.end() + 3] in ("完成率", "贡献率"):
            continue  # "亩均进出口", "实到外资完成率": another measure
        canon = _INDICATORS[int(m.lastgroup[1:])][0]
        matches.append((m, canon))
    rows: list[_Row] = []
    ref = _Ref(s, e, section)
    i = 0
    while i < len(matches):
        # a group: names joined by 、/和/及 ("服务业增加值、商品销售额分别增长6.5%和7.5%")
        group = [matches[i]]
        j = i + 1
        while j < len(matches) and re.fullmatch(r"\s*(?:、|和|及|与)\s*", sent[group[-1][0].end() : matches[j][0].start()]):
            group.append(matches[j])
            j += 1
        i = j
        stop = matches[j][0].start() if j < len(matches) else len(sent)
        name_end = group[-1][0].end()
        seg = _value_segment(sent, name_end, stop)
        m0 = group[0][0]
        horizon = _horizon(seg, sent[max(0, m0.start() - 4) : m0.start()], para, part_label, table)
        scope_before = next((sc for sc in _SCOPES if sent[max(0, m0.start() - 2) : m0.start()].endswith(sc)), "")
        # the enumeration the names stand in ("大市外内资、浙商回归资金、实际利用外资分别完成…")
        cl = max(sent.rfind(p, 0, m0.start()) for p in "，,；;：:") + 1
        idx0 = len(re.findall(r"、|和|及|与", sent[cl : m0.start()]))
        n_slots = idx0 + len(group)
        slots: list[tuple[str, int]] = []
        if n_slots == 1 and group[0][1] in _PAIR:
            pair = _PAIR[group[0][1]]
            slots, n_slots = [(pair[0], 0), (pair[1], 1)], 2
        else:
            slots = [(canon, idx0 + k) for k, (_, canon) in enumerate(group)]
        # scope parts: "全市…、市级…" (also "(市级1.4倍、年均增长7.1%)")
        cuts = [(m.start(), m.group("scope")) for m in _SCOPE_AT.finditer(seg)]
        if cuts and (len(cuts) >= 2 or _parse_values(seg[: cuts[0][0]])):
            pieces: list[tuple[str, str]] = []
            if seg[: cuts[0][0]].strip(" ，,、（(）)"):
                pieces.append((scope_before, seg[: cuts[0][0]]))
            for k, (pos, sc) in enumerate(cuts):
                end = cuts[k + 1][0] if k + 1 < len(cuts) else len(seg)
                pieces.append((sc, seg[pos:end]))
            parsed = [(sc, _parse_values(txt), txt) for sc, txt in pieces]
            # "…、市级1328.3亿元,分别增长4.8%和3.8%": the last piece's list is per scope
            last_sc, last_f, last_txt = parsed[-1]
            if "分别" in last_txt:
                at = last_txt.index("分别")
                share = [f for f in _parse_values(last_txt[at:]) if f.kind != "rank"]
                if len(share) == len(parsed):
                    own = _parse_values(last_txt[:at])
                    parsed[-1] = (last_sc, own, last_txt)
                    parsed = [(sc, fs + [share[k]], t) for k, (sc, fs, t) in enumerate(parsed)]
            name = slots[0][0]
            for sc, fs, _ in parsed:
                if fs:
                    rows.append(_mk(table, name, fs, ref, sc, horizon))
            continue
        figs = _parse_values(seg)
        if "分别" in seg and n_slots > 1:
            rows += _distribute(slots, n_slots, figs, table, ref, horizon)
        elif figs:
            scope = next((f.scope for f in figs if f.scope), "")
            names = [n for n, k in slots]
            rows.append(_mk(table, names[0] if len(group) == 1 else group[-1][1], figs, ref, scope, horizon))
        elif table == "targets" and target_sent:
            q = _QUALITATIVE.search(seg)
            if q and q.start() <= 8:
                for _, canon in group:
                    rows.append(_Row(table, canon, _squash(q.group(0)), "", ref, canon, "", horizon))
    for r in rows:
        r.pos = s
    return [r for r in rows if r.a or r.b]


def _mk(table: str, canon: str, figs: list[_Fig], ref: _Ref, scope: str, horizon: str) -> _Row:
    level = next((f for f in figs if f.kind == "level"), None)
    growth = [f for f in figs if f.kind == "growth"][:1]
    rank = [f for f in figs if f.kind == "rank"][:1]
    if table == "results":
        a = (level.bare or level.text) if level else ""
        b = "，".join(f.bare or f.text for f in growth + rank)
        return _Row(table, canon, a, b, ref, canon, scope, horizon)
    main = growth[0] if growth else level
    if main is None:
        return _Row(table, canon, "", "", ref, canon, scope, horizon)
    return _Row(table, canon, main.text, main.qual, ref, canon, scope, horizon)


def _distribute(
    slots: list[tuple[str, int]], n_slots: int, figs: list[_Fig], table: str, ref: _Ref, horizon: str
) -> list[_Row]:
    """"A、B、C分别…x、y、z": the value at each name's place in the enumeration."""
    levels = [f for f in figs if f.kind == "level"]
    growths = [f for f in figs if f.kind == "growth"]
    rows = []
    for name, idx in slots:
        fk = []
        if len(levels) == n_slots:
            fk.append(levels[idx])
        if len(growths) == n_slots:
            fk.append(growths[idx])
        if fk:
            rows.append(_mk(table, name, fk, ref, "", horizon))
    return rows


def _row_label(r: _Row) -> str:
    extra = [x for x in (r.scope, r.horizon) if x]
    return r.canon + (f"（{'，'.join(extra)}）" if extra else "")


def _verbatim_ok(row: _Row, quote: str) -> bool:
    q = _squash(quote).replace("％", "%")
    for cell in (row.a, row.b):
        for piece in re.split(r"，", cell):
            if piece and piece not in q:
                return False
    return True


# --------------------------------------------------------------------------- document structure


@dataclass
class _Unit:
    """A top-level part's intro, or one of its subsections (with all its descendants)."""

    part: int  # index of the part
    part_label: str
    label: str  # the subsection's label ("" for a part's intro)
    kind: str  # review | plan | other
    start: int  # head start
    body: int  # first character after the head
    end: int
    role: str = ""  # title | intro | sub | glossary
    sentences: list[tuple[int, int]] = field(default_factory=list)
    head: tuple[int, int] | None = None  # span of the head line (cleaned)

    @property
    def section(self) -> str:
        return " > ".join(x for x in (self.part_label, self.label) if x)


_GLOSSARY = ("附件", "名词解释", "（文末）")
_L2_NUM = re.compile(r"^[（(][一二三四五六七八九十]{1,3}[）)]")


def _units(doc: Document, secs: list[Section]) -> list[_Unit]:
    from .chunk import split_sentences

    text = doc.text
    units: list[_Unit] = []
    parts: list[list[Section]] = []
    for s in secs:
        if parts and parts[-1][0].path[0] == s.path[0] and len(s.path) > 1:
            parts[-1].append(s)
        else:
            parts.append([s])
    for pi, part in enumerate(parts):
        top = part[0]
        label = top.path[0]
        glossary = label in _GLOSSARY
        subs = [s for s in part if len(s.path) == 2]
        part_end = max(s.end for s in part)
        intro_end = subs[0].start if subs else part_end
        role = "glossary" if glossary else ("title" if pi == 0 and top.kind == "other" and len(parts) > 1 else "intro")
        units.append(_Unit(pi, label, "", top.kind, top.start, top.body_start, intro_end, role))
        for k, s in enumerate(subs):
            end = subs[k + 1].start if k + 1 < len(subs) else part_end
            units.append(_Unit(pi, label, s.path[1], s.kind, s.start, s.body_start, end, "glossary" if glossary else "sub"))
    for u in units:
        hs, he = u.start, u.body if u.body > u.start else u.start
        if u.body == u.start:  # run-in head: "（一）转型升级不断推进。数字经济…"
            first = split_sentences(text, u.start, u.end)
            if first:
                fe = first[0][1]
                c = re.search(r"[。：:]", text[u.start : fe])
                he = u.start + c.end() if c and c.start() <= 45 else fe
        hs, he = _trim(text, hs, he)
        u.head = (hs, he) if he > hs and not (u.part_label == "（正文）" and not u.label) else None
        sents = []
        for ks, ke in doc.keep:
            a, b = max(u.start, ks), min(u.end, ke)
            if b > a:
                sents.extend(split_sentences(text, a, b))
        u.sentences = [(a, b) for a, b in (_trim(text, a, b) for a, b in sents) if b > a]
    return [u for u in units if u.end > u.start]


def _main_parts(units: list[_Unit]) -> tuple[int | None, str]:
    """The part whose subsections are the main tasks, and what they are ('plan'/'review'/'article')."""
    by_part: dict[int, list[_Unit]] = {}
    for u in units:
        if u.role == "sub":
            by_part.setdefault(u.part, []).append(u)

    def score(pi: int) -> tuple[int, int]:
        subs = by_part[pi]
        return (sum(1 for u in subs if _L2_NUM.match(u.label)), len(subs))

    for kind in ("plan", "review"):
        cands = [pi for pi, us in by_part.items() if us[0].kind == kind]
        if cands:
            best = max(cands, key=lambda pi: (score(pi), -pi))
            if score(best)[1] >= 2:
                return best, kind
    return None, ""


# --------------------------------------------------------------------------- sentence selection


class _Centrality:
    """Lexical centrality of sentences within a section (jieba tokens, cosine of sets)."""

    def __init__(self) -> None:
        from .retrieve import tokenize

        self._tok = tokenize
        self._cache: dict[str, frozenset[str]] = {}

    def tokens(self, s: str) -> frozenset[str]:
        t = self._cache.get(s)
        if t is None:
            t = frozenset(x for x in self._tok(s) if not re.fullmatch(r"[\d.]+", x))
            self._cache[s] = t
        return t

    def scores(self, sents: list[str]) -> list[float]:
        toks = [self.tokens(s) for s in sents]
        df = Counter(t for ts in toks for t in ts)
        n = len(sents)
        out = []
        for i, ti in enumerate(toks):
            if not ti or n == 1:
                out.append(0.0)
                continue
            tot = 0.0
            for j, tj in enumerate(toks):
                if i == j or not tj:
                    continue
                common = ti & tj
                if common:
                    tot += sum(math.log(1 + n / df[t]) for t in common) / math.sqrt(len(ti) * len(tj))
            out.append(tot / (n - 1))
        return out


_HAS_FIG = re.compile(rf"{_NUMBER}\s*(?:{_UNITS})")
_FILLER = re.compile(r"^(各位代表|同志们|现在，|现在,|在此|这是|上述成绩)")


def _pick(text: str, unit: _Unit, cent: _Centrality, k: int = 1, max_len: int = 150) -> list[tuple[int, int]]:
    """The k best sentences of a unit, best first: central, carrying figures, not too long."""
    cands = [(a, b) for a, b in unit.sentences if not (unit.head and b <= unit.head[1])]
    cands = [(a, b) for a, b in cands if len(text[a:b]) >= 12 and not _FILLER.match(text[a:b])]
    if not cands:
        return []
    strs = [text[a:b] for a, b in cands]
    cs = cent.scores(strs)
    top = max(cs) or 1.0
    scored = []
    for i, ((a, b), s) in enumerate(zip(cands, strs)):
        sc = cs[i] / top
        if _HAS_FIG.search(s):
            sc += 0.35
        if _IND_RE.search(s):
            sc += 0.25
        if i == 0:
            sc += 0.15
        if len(s) > max_len:
            sc -= 0.6 * min(1.0, (len(s) - max_len) / max_len)
        scored.append((sc, a, b))
    return [(a, b) for _, a, b in sorted(scored, key=lambda x: -x[0])[:k]]


# --------------------------------------------------------------------------- the extractive summary


@dataclass
class _Draft:
    """A summary before citations are numbered."""

    overview: list[_Line]
    results: list[_Row]
    targets: list[_Row]
    tasks: list[_Line]
    notes: list[str]
    results_title: str
    targets_title: str
    tasks_title: str
    task_units: list[_Unit] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)


def _years(ys: tuple[int, ...]) -> str:
    if not ys:
        return ""
    return f"{ys[0]}年" if len(ys) == 1 else f"{min(ys)}—{max(ys)}年"


def _support(doc: Document, line: _Line, sents_all: list[tuple[int, int]], only: list[str] | None = None) -> None:
    """Make the line's numbers findable in its citations: cite the first sentence holding a
    missing number (the catalog's title or year, mostly)."""
    from .guard import check

    for _ in range(4):
        res = check(line.text, [doc.text[r.start : r.end] for r in line.refs])
        if res.ok:
            return
        want = res.unsupported[0]
        if only is not None and want not in only:
            return
        sq = _squash(want)
        hit = next((se for se in sents_all if sq in _squash(doc.text[se[0] : se[1]])), None)
        if hit is None:
            return
        line.refs.append(_Ref(hit[0], hit[1], ""))


def _extractive(doc: Document, secs: list[Section], progress: Progress | None) -> _Draft:
    text = doc.text
    r = doc.report
    units = _units(doc, secs)
    cent = _Centrality()
    work = [u for u in units if u.role != "glossary"]
    total = len(work)
    results: list[_Row] = []
    targets: list[_Row] = []
    picks: dict[int, list[tuple[int, int]]] = {}
    article = r.kind == "article"
    for n, u in enumerate(work, 1):
        section = u.section
        para_starts = _para_starts(text, u.start, u.end)
        for a, b in u.sentences:
            sent = text[a:b]
            if not _IND_RE.search(sent):
                continue
            para = text[_para_of(para_starts, a) : b]
            kind = u.kind
            if kind == "other":
                kind = "plan" if _TARGET_WORDS.search(sent) else "review"
                if article and kind == "plan":
                    continue  # an aim in a news text is not a result
            table = "targets" if (kind == "plan" and not article) else "results"
            tsent = bool(_TARGET_SENT.search(sent))
            for row in _figures(text, a, b, table, section, para, u.part_label, tsent):
                (targets if table == "targets" else results).append(row)
        picks[id(u)] = _pick(text, u, cent, k=6)
        if progress:
            progress(n, total)
    results = _dedupe(results, text)
    targets = _dedupe(targets, text)

    all_sents = [se for u in units for se in u.sentences]
    main_part, main_kind = _main_parts(units)
    # ---- tasks
    tasks: list[_Line] = []
    task_units: list[_Unit] = []
    if article:
        task_units = [u for u in work if u.role in ("intro", "sub") and u.label or (u.role == "intro" and u.part > 0)]
        tasks_title = "各部分要点"
    elif main_part is not None:
        subs = [u for u in work if u.part == main_part and u.role == "sub"]
        numbered = [u for u in subs if _L2_NUM.match(u.label)]
        task_units = numbered if len(numbered) >= 2 else subs
        tasks_title = (
            f"{_years(r.plan_years[:1]) or ''}主要任务" if main_kind == "plan" else f"{_years(r.review_years[-1:])}主要工作"
        )
    else:
        tasks_title = "主要任务"
    seen_sent: set[tuple[int, int]] = set()
    for u in task_units:
        label = u.label or u.part_label
        refs = [_Ref(*u.head, u.section)] if u.head else []
        body = [se for se in picks.get(id(u), []) if se not in seen_sent][:1]
        seen_sent.update(body)
        sent_txt = "".join(_one_line(text[a:b]) for a, b in body)
        line_text = label if not sent_txt else f"{label}：{sent_txt}"
        refs += [_Ref(a, b, u.section) for a, b in body]
        if refs:
            tasks.append(_Line(line_text, refs))
    # ---- overview
    overview = _overview(doc, units, results, targets, task_units, main_part, main_kind, picks, seen_sent)
    for line in overview + tasks:
        _support(doc, line, all_sents)
    notes: list[str] = []
    if not article and r.kind == "report" and main_kind == "review":
        notes.append("报告无计划部分（节选），要点取自回顾部分 (no plan part: bullets are the review sections)")
    if not secs or all(len(s.path) == 1 for s in secs) and len(secs) <= 1:
        notes.append("文档无章节标题，摘要取自全文 (no headings: summary from the whole text)")
    results_title = f"{_years(r.review_years[-1:])}主要数据" if r.review_years else "主要数据"
    targets_title = f"{r.year}年主要目标" if r.year in r.plan_years else (f"{_years(r.plan_years[:1])}主要目标" if r.plan_years else "主要目标")
    return _Draft(overview, results, targets, tasks, notes, results_title, targets_title, tasks_title, task_units, units)


def _one_line(s: str) -> str:
    s = re.sub(r"\s*\n\s*", "", s)
    s = s.strip().lstrip("#*").replace("**", "")
    if s and s[-1] in "；;，,、：:":
        s = s[:-1] + "。"
    return s


def _para_starts(text: str, s: int, e: int) -> list[int]:
    out = [s]
    for m in re.finditer(r"\n", text[s:e]):
        out.append(s + m.end())
    return out


def _para_of(starts: list[int], pos: int) -> int:
    best = starts[0]
    for p in starts:
        if p > pos:
            break
        best = p
    return best


_CORE = ["地区生产总值", "一般公共预算收入", "城镇居民人均可支配收入", "农村居民人均可支配收入", "居民人均可支配收入"]


def _dedupe(rows: list[_Row], text: str) -> list[_Row]:
    out: list[_Row] = []
    seen: set[tuple[str, str, str]] = set()
    core = set(_CORE)
    for r in sorted(rows, key=lambda x: (bool(x.horizon), x.canon not in core, x.pos)):
        key = (r.canon, r.scope, r.horizon)
        if key in seen:
            continue
        if not _verbatim_ok(r, text[r.ref.start : r.ref.end]):
            continue
        seen.add(key)
        r.indicator = _row_label(r)
        out.append(r)
    return out


def _overview(
    doc: Document,
    units: list[_Unit],
    results: list[_Row],
    targets: list[_Row],
    task_units: list[_Unit],
    main_part: int | None,
    main_kind: str,
    picks: dict[int, list[tuple[int, int]]],
    used: set[tuple[int, int]],
) -> list[_Line]:
    text = doc.text
    r = doc.report
    lines: list[_Line] = []
    # 1. who, which year, the parts
    heads = [u for u in units if u.role == "intro" and u.head and u.part_label not in _GLOSSARY]
    title_unit = next((u for u in units if u.role == "title" and u.head), None)
    refs = [_Ref(*title_unit.head, title_unit.section)] if title_unit else []
    who = f"，{r.speaker.replace(' ', '')}作" if r.speaker and r.kind == "report" else ""
    if r.kind == "article":
        who = f"（{r.speaker}）" if r.speaker else ""
    first = f"《{r.title}》{who}"
    numbered = [u for u in heads if re.match(r"^[一二三四五六七八九十]+、", u.part_label)]
    if r.kind == "report" and len(numbered) >= 2:
        first += f"，共{_cn(len(numbered))}部分：" + "；".join(u.part_label for u in numbered) + "。"
        refs += [_Ref(*u.head, u.section) for u in numbered]
    elif r.kind == "article" and len(heads) >= 2:
        labels = [u.part_label for u in heads if u.part > 0]
        first += f"，分{_cn(len(labels))}部分：" + "、".join(labels) + "。"
        refs += [_Ref(*u.head, u.section) for u in heads if u.part > 0]
    else:
        first += "。"
    if not refs:
        sents = [se for u in units for se in u.sentences]
        if sents:
            refs = [_Ref(*sents[0], "")]
    if title_unit or heads or not r.guessed:
        lines.append(_Line(first, refs))

    def part_head(pos: int) -> list[_Ref]:
        for u in units:
            if u.role == "intro" and u.head and u.start <= pos < _part_end(units, u.part):
                return [_Ref(*u.head, u.section)]
        return []

    # 2. headline results
    res_main = [x for x in results if not x.horizon] or results
    head_rows = _headline([x for x in res_main if x.a or re.search(r"\d", x.b)], 4)
    if head_rows:
        yr = _years(r.review_years[-1:]) if not any(x.horizon for x in head_rows) else ""
        parts = []
        for x in head_rows:
            bits = [b for b in (x.a, _growth_phrase(x.b)) if b]
            parts.append(f"{x.indicator}{'，'.join(bits)}")
        refs = _uniq([x.ref for x in head_rows] + part_head(head_rows[0].pos))
        lines.append(_Line(f"{yr}{'，' if yr else ''}" + "；".join(parts) + "。", refs))
    # 3. headline targets: figures first, then the qualitative ones of the same sentence
    tg_main = [x for x in targets if not x.horizon]
    numeric = _headline([x for x in tg_main if re.search(r"\d", x.a)], 4)
    parts, used_rows = [], list(numeric)
    for x in numeric:
        if x.b in ("左右", "以上", "以内", "以下"):
            parts.append(f"{x.indicator}{x.a}{x.b}")
        else:
            parts.append(f"{x.indicator}{x.b}{x.a}")
    if numeric:
        qual = [x for x in tg_main if not re.search(r"\d", x.a) and x.ref == numeric[0].ref]
        groups: dict[str, list[str]] = {}
        for x in qual:
            groups.setdefault(x.a, []).append(x.indicator)
        for what, names in groups.items():
            parts.append("、".join(names) + what)
            used_rows += [x for x in qual if x.a == what]
        yr = f"{r.year}年" if r.year in r.plan_years else ""
        refs = _uniq([x.ref for x in used_rows] + part_head(numeric[0].pos))
        lines.append(_Line(f"{yr}主要预期目标：" + "；".join(parts) + "。", refs))
    # 4. the task sentence ("重点做好八方面工作"), else a count of the task sections
    if main_part is not None and task_units:
        cand = None
        for u in units:
            if u.part != main_part or u.role != "intro":
                continue
            for a, b in u.sentences:
                s = text[a:b]
                if re.search(r"重点(?:做好|抓好|抓|推进)|(?:方面|项)(?:工作|任务)[：:]?$", s) and len(s) <= 80:
                    cand = (a, b)
        if cand is not None:
            sent = _one_line(text[cand[0] : cand[1]])
            lines.append(_Line(sent if sent[-1:] in "。！？" else sent + "。", [_Ref(cand[0], cand[1], "")]))
        elif main_kind == "review":
            refs = [_Ref(*u.head, u.section) for u in task_units if u.head]
            lines.append(_Line(f"回顾部分分{_cn(len(task_units))}个方面总结工作。", refs[:1]))
    # 5. fill up to three sentences with central sentences of the opening sections
    for x in lines:
        used.update((ref.start, ref.end) for ref in x.refs)
    if len(lines) < 3:
        for u in units:
            if len(lines) >= 3:
                break
            if u.role == "glossary":
                continue
            for se in picks.get(id(u), []):
                if se in used or _HAS_FIG.search(text[se[0] : se[1]]) and any(
                    (se[0], se[1]) == (x.ref.start, x.ref.end) for x in results
                ):
                    continue
                used.add(se)
                lines.append(_Line(_one_line(text[se[0] : se[1]]), [_Ref(se[0], se[1], u.section)]))
                break
    return lines[:5]


def _part_end(units: list[_Unit], part: int) -> int:
    return max(u.end for u in units if u.part == part)


def _growth_phrase(b: str) -> str:
    if not b:
        return ""
    first = b.split("，")[0]
    if re.match(r"^\d", first):
        return "增长" + b
    return b


def _headline(rows: list[_Row], k: int, scoped: bool = False) -> list[_Row]:
    order = {c: i for i, c in enumerate(_CORE)}
    pri = sorted(rows, key=lambda x: (order.get(x.canon, len(_CORE)), x.pos))
    out = []
    for x in pri:
        if not (x.a or x.b):
            continue
        if x.canon not in order and (len(out) >= 2 or (out and x.ref != out[0].ref)):
            continue
        out.append(x)
        if len(out) >= k:
            break
    return sorted(out, key=lambda x: (x.pos, x.ref.start))


def _uniq(refs: list[_Ref]) -> list[_Ref]:
    out: list[_Ref] = []
    for x in refs:
        if all((x.start, x.end) != (y.start, y.end) for y in out):
            out.append(x)
    return out


def _cn(n: int) -> str:
    digits = "零一两三四五六七八九"
    if n <= 10:
        return "十" if n == 10 else digits[n]
    if n < 20:
        return "十" + "零一二三四五六七八九"[n - 10]
    return str(n)


# --------------------------------------------------------------------------- assembling


def _assemble(doc: Document, d: _Draft, mode: str, notes: list[str], seconds: float) -> Summary:
    text = doc.text
    r = doc.report
    numbers: dict[tuple[int, int], int] = {}
    sec_of: dict[tuple[int, int], str] = {}

    def cite(ref: _Ref) -> Citation:
        key = (ref.start, ref.end)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
        if ref.section and key not in sec_of:
            sec_of[key] = ref.section
        return Citation(numbers[key], r.file, r.id, ref.section or sec_of.get(key, _section_at(d.units, ref.start)), ref.start, ref.end, text[ref.start : ref.end])

    def line(x: _Line) -> SummaryLine:
        cs: list[Citation] = []
        for ref in _uniq(x.refs):
            cs.append(cite(ref))
        return SummaryLine(x.text, tuple(cs), x.flagged)

    overview = tuple(line(x) for x in d.overview)
    results = tuple(KeyFigure(x.indicator, x.a, x.b, cite(x.ref)) for x in d.results)
    targets = tuple(Target(x.indicator, x.a, x.b, cite(x.ref)) for x in d.targets)
    tasks = tuple(line(x) for x in d.tasks)
    return Summary(
        report=r,
        overview=overview,
        results=results,
        targets=targets,
        tasks=tasks,
        notes=tuple(dict.fromkeys(d.notes + notes)),
        mode=mode,
        cached=False,
        doc_sha256=doc.sha256,
        results_title=d.results_title,
        targets_title=d.targets_title,
        tasks_title=d.tasks_title,
        seconds=seconds,
    )


def _section_at(units: list[_Unit], pos: int) -> str:
    best = ""
    for u in units:
        if u.start <= pos < u.end:
            best = u.section
    return best


# --------------------------------------------------------------------------- LLM mode

MAP_PROMPT = "summary_map.md"
REDUCE_PROMPT = "summary_reduce.md"
MAP_OUT_TOKENS = 160
REDUCE_OUT_TOKENS = 320
_MARGIN = 64


def _context_tokens() -> int:
    try:
        return max(1024, int(os.environ.get("RAG_LLM_CONTEXT", "4096")))
    except ValueError:
        return 4096


def _prompt(name: str) -> tuple[str, str]:
    """(system, user template) of a prompt file; the user part follows a '=== user ===' line."""
    raw = (config.prompts_dir() / name).read_text(encoding="utf-8")
    raw = re.sub(r"<!--.*?-->", "", raw, flags=re.S)  # comments are for people
    if "=== user ===" in raw:
        system, user = raw.split("=== user ===", 1)
    else:
        system, user = raw, "{text}"
    return system.strip(), user.strip()


def _echo(out: str, instructions: str) -> bool:
    """The reply mostly repeats the prompt's instructions (small models do)."""
    o, ins = _squash(out), _squash(re.sub(r"\{\w+\}", "", instructions))
    grams = [o[i : i + 6] for i in range(0, max(0, len(o) - 5), 3)]
    return bool(grams) and sum(g in ins for g in grams) >= 0.4 * len(grams)


def _fill(template: str, **values: str) -> str:
    out = template
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out


def _clean_llm(text: str) -> str:
    """The reply as one paragraph: no think block, markup, bullets or list numbers."""
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.S)
    text = re.sub(r"</?[A-Za-z][^>]{0,40}>", "", text)
    text = re.sub(r"[*#`]+", "", text)
    lines = []
    for ln in text.splitlines():
        ln = re.sub(r"^\s*(?:[-•·]+|\d{1,2}\s*[.、)）]|[（(]?[一二三四五六七八九十]{1,2}[)）、])\s*", "", ln).strip()
        if ln:
            lines.append(ln)
    return "".join(lines).strip()


def _usable(text: str) -> bool:
    """Chinese prose, not junk: enough CJK characters, not one token repeated."""
    vis = [c for c in text if not c.isspace()]
    cjk = sum(1 for c in vis if "\u4e00" <= c <= "\u9fff")
    if cjk < 6 or cjk < 0.3 * len(vis):
        return False
    return len(set(vis)) >= 0.15 * len(vis)


def _sentences(text: str) -> list[str]:
    out = [s.strip() for s in re.split(r"(?<=[。！？!?])", text) if s.strip()]
    return out


def _llm(doc: Document, d: _Draft, cfg, progress: Progress | None) -> tuple[str, list[str]]:
    """Rewrite the task bullets (map) and the overview (reduce) with the LLM; returns
    (mode, notes). Tables stay extractive."""
    from . import tokens
    from .guard import check
    from .llm import LLMError

    text = doc.text
    r = doc.report
    notes: list[str] = []
    ctx = _context_tokens()
    msys, muser = _prompt(MAP_PROMPT)
    rsys, ruser = _prompt(REDUCE_PROMPT)
    map_units = [u for u in d.units if u.role in ("intro", "sub", "title") and u.part_label not in _GLOSSARY and u.sentences]
    # the task bullets are the main sub-units; other units feed the overview only
    task_ids = {id(u): k for k, u in enumerate(d.task_units)}
    total = len(map_units) + 1
    done = 0
    map_notes: list[tuple[_Unit, str]] = []
    llm_used = False
    junk = cuts = 0
    failed: str = ""
    years = " ".join(str(y) for y in (r.year, *r.review_years, *r.plan_years) if y)
    # the catalog's years and the title are not claims of the LLM's (as a question's numbers for the guard)
    known = "、".join([r.title, *years.split()])
    fixed = tokens.count(msys) + tokens.count(_fill(muser, title=r.title, section="", text="")) + MAP_OUT_TOKENS + _MARGIN
    budget = max(200, ctx - fixed)
    for u in map_units:
        a = u.sentences[0][0]
        b = u.sentences[-1][1]
        body, cut = tokens.truncate(text[a:b], budget - tokens.count(u.section))
        msgs = [("system", msys), ("user", _fill(muser, title=r.title, section=u.section or "（开头）", text=body))]
        try:
            out = _clean_llm(_complete(cfg, msgs, MAP_OUT_TOKENS))
        except LLMError as e:
            failed = f"大模型在第{done + 1}/{len(map_units)}节失败，其余部分为抽取式 (LLM failed after {done} of {len(map_units)} sections: {e})"
            break
        done += 1
        if progress:
            progress(done, total)
        if cut:
            cuts += 1
        if not _usable(out) or _echo(out, msys + muser):
            junk += 1
            continue
        llm_used = True
        quote = text[a:b]
        map_notes.append((u, out))
        k = task_ids.get(id(u))
        if k is not None and k < len(d.tasks):
            label = u.label or u.part_label
            res = check(out, [quote], question=f"{known}、{u.section}")
            if res.ok:
                refs = [_Ref(*u.head, u.section)] if u.head else []
                refs.append(_Ref(a, b, u.section))
                d.tasks[k] = _Line(f"{label}：{out}", refs)
            else:
                notes.append(f"“{label}”的大模型要点含未核实数字（{'、'.join(res.unsupported)}），已换回抽取式 (LLM line replaced by the extractive one)")
    # reduce → the overview
    sources: list[tuple[str, list[_Ref]]] = []
    if not failed and (map_notes or d.results or d.targets):
        for x in d.results[:8]:
            sources.append((f"{x.indicator}：{'，'.join(v for v in (x.a, x.b) if v)}", [x.ref]))
        for x in d.targets[:8]:
            sources.append((f"目标 {x.indicator}：{x.a}{x.b}", [x.ref]))
        for u, note in map_notes:
            a, b = u.sentences[0][0], u.sentences[-1][1]
            sources.append((f"{u.section or '开头'}：{note}", [_Ref(a, b, u.section)]))
        fixed = tokens.count(rsys) + tokens.count(_fill(ruser, title=r.title, meta="", sources="")) + REDUCE_OUT_TOKENS + _MARGIN
        room = max(100, ctx - fixed - tokens.count(r.title) * 2 - 40)
        per = max(40, room // max(1, len(sources)))
        kept: list[tuple[str, list[_Ref]]] = []
        used_tokens = 0
        for src, refs in sources:  # in order of priority, while they fit
            item = f"[{len(kept) + 1}] {tokens.truncate(src, per)[0]}\n"
            n = tokens.count(item)
            if used_tokens + n > room:
                continue
            kept.append((tokens.truncate(src, per)[0], refs))
            used_tokens += n
        if len(kept) < len(sources):
            notes.append(f"归纳时只用了{len(kept)}/{len(sources)}条材料（上下文预算） (reduce input cut to the context budget)")
        sources = kept
        listing = "\n".join(f"[{i}] {src}" for i, (src, _) in enumerate(sources, 1))
        meta = (
            f"{r.title}；地区：{r.region or '—'}；报告年份：{r.year or '—'}；"
            f"回顾：{'、'.join(map(str, r.review_years)) or '—'}；计划：{'、'.join(map(str, r.plan_years)) or '—'}；"
            f"报告人：{r.speaker or '—'}"
        )
        msgs = [("system", rsys), ("user", _fill(ruser, title=r.title, meta=meta, sources=listing))]
        try:
            out = _complete(cfg, msgs, REDUCE_OUT_TOKENS)
            lines: list[_Line] = []
            for sent in _sentences(_clean_llm(out))[:5]:
                ks = [int(x) for x in re.findall(r"\[(\d+)\]", sent) if 0 < int(x) <= len(sources)]
                plain = re.sub(r"\s*\[\d+(?:[,，]\s*\d+)*\]", "", sent).strip()
                if not _usable(plain) or _echo(plain, rsys + ruser):
                    continue
                refs = [ref for k in dict.fromkeys(ks) for ref in sources[k - 1][1]]
                if not refs:
                    refs = [ref for _, rs in sources for ref in rs]
                res = check(plain, [text[x.start : x.end] for x in refs], question=known)
                line = _Line(plain, _uniq(refs), "" if res.ok else res.message())
                if res.ok:  # a year of the catalog's: cite where the report says it
                    _support(doc, line, [se for u in d.units for se in u.sentences], only=years.split())
                lines.append(line)
            ok = [x for x in lines if not x.flagged]
            if not lines:
                notes.append("大模型概述不可用，概述为抽取式 (unusable LLM overview; extractive overview kept)")
            elif ok:
                # cite the smallest spans: the headline sentence first, the rest after
                d.overview = [d.overview[0]] + lines if d.overview else lines
                d.overview = d.overview[:6]
                llm_used = True
            else:
                notes.append("大模型概述未通过数字核对，概述为抽取式 (LLM overview failed the number guard; extractive overview kept)")
        except LLMError as e:
            failed = f"大模型归纳（reduce）失败，概述为抽取式 (LLM reduce failed: {e})"
        if progress:
            progress(total, total)
    elif progress:
        progress(total, total)
    if cuts:
        notes.append(f"{cuts}节过长，只把前{budget}个词元交给大模型 ({cuts} section(s) cut to the {budget}-token budget)")
    if junk:
        notes.append(f"大模型有{junk}节的回复不可用，这些部分为抽取式 (unusable LLM reply for {junk} section(s): extractive there)")
    if failed:
        notes.append(failed)
    mode = f"llm:{cfg.model}" if llm_used else "extractive"
    if not llm_used and failed:
        notes.append("未用大模型：全部为抽取式 (no LLM output: the summary is extractive)")
    return mode, notes


def _complete(cfg, msgs, max_tokens: int) -> str:
    from .llm import complete

    return complete(cfg, msgs, max_tokens=max_tokens, temperature=0.0)


# --------------------------------------------------------------------------- resolving, cache, API


def _catalog() -> dict[str, Report]:
    from .catalog import load_catalog

    return load_catalog(config.seeds_dir())


def known_ids() -> list[str]:
    from .catalog import slug
    from .load import SUFFIXES

    cat = _catalog()
    ids = {r.id for r in cat.values()}
    seeds = config.seeds_dir()
    if seeds.is_dir():
        for p in seeds.iterdir():
            if p.suffix.lower() in SUFFIXES and p.name not in cat:
                ids.add(slug(p.name))
    return sorted(ids)


def resolve(ref: str) -> Path:
    """A report id, a seed file name (or stem) or a path → the file's path."""
    from .catalog import slug
    from .load import SUFFIXES

    seeds = config.seeds_dir()
    cat = _catalog()
    for r in cat.values():
        if ref in (r.id, r.file, Path(r.file).stem):
            return seeds / r.file
    p = Path(ref).expanduser()
    if p.is_file():
        return p
    if (seeds / ref).is_file():
        return seeds / ref
    if seeds.is_dir():
        for q in sorted(seeds.iterdir()):
            if q.suffix.lower() in SUFFIXES and ref in (q.stem, slug(q.name)):
                return q
    raise UnknownReport(ref, known_ids())


def _settings_key(report: Report, mode: str, model: str) -> str:
    blob = json.dumps(
        {"version": VERSION, "mode": mode, "model": model, "report": repr(report)}, ensure_ascii=False, sort_keys=True
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_path(sha256: str, report: Report, mode: str, model: str = "") -> Path:
    return config.home() / "summaries" / f"{sha256[:32]}-{_settings_key(report, mode, model)}.json"


def _read_doc(path: Path) -> tuple[Document | None, str]:
    """(document, problem). An empty file gives (None, reason); other load errors raise."""
    from . import load

    cat = _catalog() if path.parent.resolve() == config.seeds_dir() else None
    try:
        return load.read(path, cat), ""
    except load.LoadError as e:
        msg = str(e)
        if msg.startswith(("empty file", "no text content")):
            return None, msg
        raise SummaryError(f"{path.name}: {msg}") from None


def _empty_summary(path: Path, why: str) -> Summary:
    from .catalog import guess_report, load_catalog

    raw = path.read_bytes() if path.exists() else b""
    cat = load_catalog(path.parent)
    report = cat.get(path.name) or guess_report(path.name, "")
    return Summary(
        report=report,
        overview=(),
        results=(),
        targets=(),
        tasks=(),
        notes=(f"文档没有内容，无可摘要 (nothing to summarise: {why})",),
        mode="extractive",
        doc_sha256=hashlib.sha256(raw).hexdigest(),
    )


def summarize_doc(doc: Document, *, llm_cfg=None, progress: Progress | None = None) -> Summary:
    """Summarise a loaded document (no cache)."""
    from . import chunk

    t0 = time.monotonic()
    secs = chunk.sections(doc)
    if llm_cfg is None:
        d = _extractive(doc, secs, progress)
        return _assemble(doc, d, "extractive", [], time.monotonic() - t0)
    # extractive first (the fallback for every line), its progress as the first half
    n_units: list[int] = [1]

    def first_half(done: int, total: int) -> None:
        n_units[0] = total
        if progress:
            progress(done, 2 * total)

    d = _extractive(doc, secs, first_half)

    def second_half(done: int, total: int) -> None:
        if progress:
            progress(n_units[0] + round(done * n_units[0] / max(1, total)), 2 * n_units[0])

    mode, notes = _llm(doc, d, llm_cfg, second_half)
    return _assemble(doc, d, mode, notes, time.monotonic() - t0)


def _llm_setting(llm_cfg) -> tuple[Any, str]:
    """(config or None, note). ``None`` → the environment's LLM if one is configured;
    ``False`` → extractive; an :class:`rag.llm.LLMConfig` → that endpoint."""
    if llm_cfg is False:
        return None, ""
    if llm_cfg is not None:
        return llm_cfg, ""
    from .llm import LLMError, config_from_env

    try:
        return config_from_env(), ""
    except LLMError as e:
        return None, f"大模型配置有误，摘要为抽取式 (LLM configuration: {e})"


def summarize_report(ref: str, *, llm_cfg=None, use_cache: bool = True, progress: Progress | None = None) -> Summary:
    """Summarise one report (catalog id, seed file name or path); cached by content hash.

    ``llm_cfg``: ``None`` uses the LLM configured in the environment
    (:func:`rag.llm.config_from_env`), extractive when there is none; ``False`` forces
    the extractive summary; an ``LLMConfig`` uses that endpoint. ``progress(done, total)``
    is called per section. Raises :class:`UnknownReport` (its message lists the known
    ids) and :class:`SummaryError` for a file that cannot be read as text.
    """
    llm_cfg, cfg_note = _llm_setting(llm_cfg)
    s = _summarize_report(ref, llm_cfg=llm_cfg, use_cache=use_cache, progress=progress)
    if cfg_note:
        s = replace(s, notes=s.notes + (cfg_note,))
    return s


def _summarize_report(ref: str, *, llm_cfg, use_cache: bool, progress: Progress | None) -> Summary:
    path = resolve(ref)
    doc, problem = _read_doc(path)
    if doc is None:
        s = _empty_summary(path, problem)
        if progress:
            progress(1, 1)
        return s
    mode = "llm" if llm_cfg is not None else "extractive"
    model = getattr(llm_cfg, "model", "") if llm_cfg is not None else ""
    cpath = cache_path(doc.sha256, doc.report, mode, model)
    if use_cache and cpath.exists():
        try:
            data = json.loads(cpath.read_text(encoding="utf-8"))
            s = Summary.from_dict(data, cached=True)
            if progress:
                progress(1, 1)
            return s
        except (ValueError, KeyError, TypeError, OSError):
            pass  # a broken cache file: summarise again
    s = summarize_doc(doc, llm_cfg=llm_cfg, progress=progress)
    llm_failed = llm_cfg is not None and (s.mode == "extractive" or any("失败" in n for n in s.notes))
    if use_cache and not llm_failed:
        cpath.parent.mkdir(parents=True, exist_ok=True)
        tmp = cpath.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(s.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, cpath)
    return s


def seed_refs() -> list[str]:
    """Every report of the seeds folder, catalog ids first (file order)."""
    from .load import SUFFIXES

    seeds = config.seeds_dir()
    cat = _catalog()
    out = []
    if seeds.is_dir():
        for p in sorted(seeds.iterdir()):
            if p.is_file() and p.suffix.lower() in SUFFIXES:
                out.append(cat[p.name].id if p.name in cat else str(p))
    return out


def summarize_all(*, llm_cfg=None, use_cache: bool = True, progress: Progress | None = None) -> list[Summary]:
    """Summaries of every report in the seeds folder (``llm_cfg`` as in
    :func:`summarize_report`); ``progress(done, total)`` runs once over all of them
    (each report is 1000 steps, advanced by its sections)."""
    refs = seed_refs()
    out = []
    for i, ref in enumerate(refs):
        def prog(done: int, total: int, i: int = i) -> None:
            if progress:
                progress(i * 1000 + round(1000 * done / max(1, total)), 1000 * len(refs))

        out.append(summarize_report(ref, llm_cfg=llm_cfg, use_cache=use_cache, progress=prog if progress else None))
    return out


# --------------------------------------------------------------------------- CLI


def add_parser(sub) -> Any:
    """Register `rag summarize` on an argparse subparsers object."""
    s = sub.add_parser(
        "summarize",
        help="structured summary of reports: overview, key figures, targets, tasks (with citations)",
        description="Structured summary per report (Markdown, or JSON with --json). Extractive unless --llm.",
    )
    s.add_argument("reports", nargs="*", help="report ids, seed file names or paths")
    s.add_argument("--all", action="store_true", help="every report in the seeds folder")
    s.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    s.add_argument("--out", metavar="DIR", help="write <id>.md and <id>.json per report into DIR")
    s.add_argument("--llm", action="store_true", help="use the configured LLM (RAG_LLM_BASE_URL …); default extractive")
    s.add_argument("--no-cache", dest="no_cache", action="store_true", help="summarise again even if cached")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_summarize)
    return s


def cmd_summarize(args) -> int:
    def err(msg: str) -> None:
        print(f"rag: {msg}", file=sys.stderr)

    refs = list(getattr(args, "reports", None) or [])
    if getattr(args, "all", False):
        refs = seed_refs() + [x for x in refs if x not in seed_refs()]
    if not refs:
        err("give report ids (or file paths) or --all; known: " + ", ".join(known_ids()))
        return 2
    cfg = False  # extractive unless --llm
    if getattr(args, "llm", False):
        from .llm import LLMError, config_from_env

        try:
            cfg = config_from_env()
        except LLMError as e:
            err(f"{e}; summarising extractively")
            cfg = False
        if cfg is None:
            err("--llm: no LLM configured (set RAG_LLM_BASE_URL and RAG_LLM_MODEL); summarising extractively")
            cfg = False
    use_cache = not getattr(args, "no_cache", False)
    quiet = getattr(args, "quiet", False)
    out_dir = Path(args.out) if getattr(args, "out", None) else None
    summaries: list[Summary] = []
    status = 0
    for ref in refs:
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if quiet:
                return
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="section", desc=f"summarising {Path(ref).name}", file=sys.stderr, leave=False, disable=None)
            if bar.total != total:
                bar.total = total
            bar.n = done
            bar.refresh()

        try:
            s = summarize_report(ref, llm_cfg=cfg, use_cache=use_cache, progress=progress)
        except SummaryError as e:
            err(str(e))
            status = 2 if isinstance(e, UnknownReport) else 1
            continue
        finally:
            if bar is not None:
                bar.close()
        summaries.append(s)
        for n in s.notes:
            if "失败" in n:
                err(n)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"{s.report.id}.md").write_text(s.to_markdown(), encoding="utf-8")
            (out_dir / f"{s.report.id}.json").write_text(
                json.dumps(s.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
            print(f"{s.report.id}: {out_dir / (s.report.id + '.md')} + .json ({'cached' if s.cached else f'{s.seconds:.1f}s'}, {s.mode})")
    if out_dir is None:
        if args.json:
            data = [s.to_dict() for s in summaries]
            print(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2))
        else:
            print("\n\n".join(s.to_markdown() for s in summaries), end="")
    return status


def main(argv: list[str] | None = None) -> int:
    """`python -m rag.summarize …` (the same as `rag summarize …`)."""
    import argparse

    p = argparse.ArgumentParser(prog="rag")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_parser(sub)
    args = p.parse_args(["summarize", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
