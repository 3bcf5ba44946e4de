"""The summary of one report: every line and table row cites exact spans."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..types import Citation, Report

VERSION = "summary-2"  # bump when the output of the same input changes


@dataclass(frozen=True)
class SummaryLine:
    text: str
    citations: tuple[Citation, ...]
    flagged: str = ""  # non-empty: why this line is not to be trusted (number guard)


@dataclass(frozen=True)
class FigureRow:
    """A row of a figures table: ``text`` is a verbatim piece of the cited sentence."""

    indicator: str
    text: str
    measure: str
    citation: Citation


@dataclass(frozen=True)
class Summary:
    report: Report
    overview: tuple[SummaryLine, ...]
    results: tuple[FigureRow, ...]
    targets: tuple[FigureRow, ...]
    tasks: tuple[SummaryLine, ...]
    review: tuple[SummaryLine, ...] = ()
    notes: tuple[str, ...] = ()
    mode: str = "extractive"
    cached: bool = False
    sha256: str = ""
    results_year: int = 0
    targets_year: int = 0
    seconds: float = field(default=0.0, compare=False)

    def citations(self) -> list[Citation]:
        seen: dict[int, Citation] = {}
        for line in self.overview + self.review + self.tasks:
            for c in line.citations:
                seen.setdefault(c.n, c)
        for row in self.results + self.targets:
            seen.setdefault(row.citation.n, row.citation)
        return [seen[n] for n in sorted(seen)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["version"] = VERSION
        d["seconds"] = round(self.seconds, 3)
        return d

    @classmethod
    def from_dict(cls, d: dict, cached: bool = False) -> "Summary":
        from ..index import report_from_dict

        def cite(c: dict) -> Citation:
            return Citation(**c)

        def line(x: dict) -> SummaryLine:
            return SummaryLine(x["text"], tuple(cite(c) for c in x["citations"]), x.get("flagged", ""))

        def row(x: dict) -> FigureRow:
            return FigureRow(x["indicator"], x["text"], x["measure"], cite(x["citation"]))

        return cls(
            report=report_from_dict(d["report"]),
            overview=tuple(line(x) for x in d["overview"]),
            results=tuple(row(x) for x in d["results"]),
            targets=tuple(row(x) for x in d["targets"]),
            tasks=tuple(line(x) for x in d["tasks"]),
            review=tuple(line(x) for x in d.get("review", ())),
            notes=tuple(d.get("notes", ())),
            mode=d.get("mode", "extractive"),
            cached=cached,
            sha256=d.get("sha256", ""),
            results_year=d.get("results_year", 0),
            targets_year=d.get("targets_year", 0),
            seconds=float(d.get("seconds", 0.0)),
        )
