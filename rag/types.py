"""Core types of the pipeline: plain frozen dataclasses.

load → structure/chunk → embed/store → query → retrieve → answer/cite → summary. Every
span keeps character offsets into the report's text *as stored* (Python ``str`` indices),
so ``text[start:end]`` is always the exact cited passage.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Report:
    """What a report is, independent of its text. ``sources`` says where each field came
    from: "catalog", "text", "file name" or "default"."""

    id: str  # short human id, e.g. "haishu-2020", "shanghai-2025"
    file: str  # file name, e.g. "002_e628585dbd2362fe.txt" (the eval contract's `doc`)
    title: str
    region: str  # full name: 海曙区 / 上海市 / 宁夏回族自治区 ("" if unknown)
    level: str  # national | province | prefecture | county ("" if unknown)
    year: int  # year the report was given
    review_years: tuple[int, ...] = ()  # years whose results it gives
    plan_years: tuple[int, ...] = ()  # years it sets targets for
    speaker: str = ""
    kind: str = "report"  # "report" | "article"
    region_key: str = ""  # gazetteer key: "浙江省/宁波市/海曙区"
    parent: str = ""  # the region containing it: 宁波市
    region_kind: str = ""  # 市辖区 / 县级市 / 直辖市 / 自治区 …
    meeting: str = ""  # "上海市第十六届人民代表大会第三次会议"
    outlet: str = ""  # where the copy comes from, as its opening says ("来源：解放日报")
    aliases: tuple[str, ...] = ()  # further names of its region (catalog), e.g. "XX市"
    sources: tuple[tuple[str, str], ...] = ()  # (field, source)
    key: str = ""  # stable identity of the file (hash of its resolved path): never collides
    path: str = ""  # resolved path of the file

    @property
    def guessed(self) -> bool:
        """True when region or year were not given by the catalog."""
        src = dict(self.sources)
        return src.get("region") != "catalog" or src.get("year") != "catalog"

    def source(self, name: str) -> str:
        return dict(self.sources).get(name, "")


@dataclass(frozen=True)
class Document:
    """A read file: its text as stored, the spans that are real content, and the marks
    its format gave (headings, bold runs, pages, table rows)."""

    report: Report
    path: str
    text: str
    format: str  # text | docx | pdf | html
    encoding: str
    sha256: str  # of the raw bytes
    keep: tuple[tuple[int, int], ...] = ()  # content spans; the rest is page furniture
    marks: tuple = ()  # rag.formats.Mark


@dataclass(frozen=True)
class Section:
    """A heading and the span it governs. ``path`` is the heading path from the top."""

    path: tuple[str, ...]
    start: int  # start of the heading line
    end: int  # end of the section (exclusive)
    body_start: int  # first character after the heading line
    kind: str = "other"  # "review" | "plan" | "other"
    level: int = 1


@dataclass(frozen=True)
class Chunk:
    """A piece of one section; what is embedded, stored and retrieved."""

    id: str  # stable: "<report id>:<content hash>"
    report_id: str
    doc: str  # file name, as in the eval contract
    section_path: tuple[str, ...]
    section_kind: str
    start: int
    end: int
    text: str
    tokens: int
    hash: str  # sha1 of (section path, text)
    ord: int = 0  # position in the report
    page: int = 0  # first page of the chunk (PDF), 0 if none

    @property
    def section(self) -> str:
        return " > ".join(self.section_path)

    def embed_text(self) -> str:
        """What the embedder sees: the heading path, then the text."""
        head = self.section
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class Span:
    """A scored passage handed to the answer step (retrieved or cited)."""

    doc: str
    report_id: str
    section: str
    start: int
    end: int
    text: str
    score: float = 0.0
    page: int = 0


@dataclass(frozen=True)
class Citation:
    n: int
    doc: str
    report_id: str
    section: str
    start: int
    end: int
    quote: str
    page: int = 0


@dataclass(frozen=True)
class Figure:
    """One figure a report states for an indicator, found at index time."""

    report_id: str
    indicator: str  # lexicon id
    measure: str  # growth | level | rate | qualitative
    kind: str  # target | result
    year: int  # the year the figure is for (plan year for targets, reviewed year for results)
    value: float | None
    text: str  # as written: "5%左右"
    unit: str = ""
    qualifier: str = ""  # approx | min | max | range | over | …
    high: float | None = None
    scope: str = ""  # 全市 / 市级 … when the report gives several scopes
    start: int = 0  # the sentence stating it
    end: int = 0
    section: str = ""
    term: str = ""  # how the sentence names the indicator


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    retrieved: tuple[Span, ...]
    mode: str  # "extractive" | "table" | "llm:<model>"
    latency_ms: int = 0
    notes: tuple[str, ...] = ()  # guard warnings, truncation, fallbacks
    guard_ok: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Piece:
    """One line of an extractive answer: a verbatim clause or sentence of one report and the
    span it is cited to."""

    label: str  # "上海市2025年" when the answer has several parts, else ""
    text: str  # the answer line (verbatim from the report)
    key: str  # report key
    start: int  # the cited span in the report text
    end: int
    section: str = ""
