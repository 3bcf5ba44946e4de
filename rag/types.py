"""Core types of the pipeline: plain frozen dataclasses.

load → chunk → embed/store → retrieve → answer/cite → summarise. Every span keeps
character offsets into the report's text *as stored* (Python ``str`` indices after
decoding), so ``doc.text[start:end]`` is always the exact cited passage.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Report:
    """One catalog entry: what a report is, independent of its text."""

    id: str  # short id, e.g. "haishu-2020"
    file: str  # file name in seeds/, e.g. "002_e628585dbd2362fe.txt"
    title: str
    region: str  # 江北区 / 慈溪市 / 海曙区 / 宁波市 …
    level: str  # 区 / 县级市 / 市
    year: int  # year the report was given
    review_years: tuple[int, ...] = ()  # years it looks back on (results)
    plan_years: tuple[int, ...] = ()  # years it plans (targets)
    speaker: str = ""
    kind: str = "report"  # "report" | "article"
    guessed: bool = False  # True when region/year were guessed from the text


@dataclass(frozen=True)
class Document:
    """A decoded file: its text as stored plus the spans that are real content."""

    report: Report
    path: str
    text: str
    encoding: str
    sha256: str  # of the raw bytes
    keep: tuple[tuple[int, int], ...] = ()  # content spans; the rest is page boilerplate


@dataclass(frozen=True)
class Section:
    """A heading and the span it governs. ``path`` is the heading path from the top."""

    path: tuple[str, ...]
    start: int  # start of the heading line
    end: int  # end of the section (exclusive)
    body_start: int  # first character after the heading line
    kind: str = "other"  # "review" | "plan" | "other"


@dataclass(frozen=True)
class Chunk:
    id: str  # stable: "<report id>:<n>" plus a short content hash
    report_id: str
    doc: str  # file name, as in the eval contract
    section_path: tuple[str, ...]
    section_kind: str
    start: int
    end: int
    text: str
    tokens: int
    hash: str  # sha1 of (section path, text)

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


@dataclass(frozen=True)
class Citation:
    n: int
    doc: str
    report_id: str
    section: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    retrieved: tuple[Span, ...]
    mode: str  # "extractive" | "llm:<model>"
    latency_ms: int = 0
    notes: tuple[str, ...] = ()  # guard warnings, truncation, fallbacks
    guard_ok: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)
