"""The report catalog (`seeds/catalog.toml`) and, for files without an entry, a guess
of region and year from the text."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .types import Report

CATALOG_FILE = "catalog.toml"

# Region names and the ways users write them. The catalog adds its own regions.
REGION_ALIASES: dict[str, tuple[str, ...]] = {
    "海曙区": ("海曙区", "海曙", "haishu"),
    "江北区": ("江北区", "江北", "jiangbei"),
    "慈溪市": ("慈溪市", "慈溪", "cixi"),
    "宁波市": ("宁波市", "宁波", "xx市", "ningbo"),
}

_REGION_RE = re.compile(r"([\u4e00-\u9fff]{2,4}?(?:自治州|自治县|市|区|县|省))")
_YEAR_RE = re.compile(r"(20\d{2}|19\d{2})\s*年")


def load_catalog(folder: Path) -> dict[str, Report]:
    """file name → Report, from `folder/catalog.toml` (empty if there is none)."""
    path = folder / CATALOG_FILE
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Report] = {}
    for row in data.get("report", []):
        r = Report(
            id=row["id"],
            file=row["file"],
            title=row.get("title", row["file"]),
            region=row.get("region", ""),
            level=row.get("level", ""),
            year=int(row.get("year", 0)),
            review_years=tuple(int(y) for y in row.get("review_years", [])),
            plan_years=tuple(int(y) for y in row.get("plan_years", [])),
            speaker=row.get("speaker", ""),
            kind=row.get("kind", "report"),
        )
        out[r.file] = r
    return out


def slug(name: str) -> str:
    stem = Path(name).stem
    s = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]+", "-", stem).strip("-").lower()
    return s or "report"


def guess_report(file: str, text: str) -> Report:
    """A catalog entry guessed from the opening of the text (region, year, title)."""
    head = text[:600]
    lines = [ln.strip(" #*\t\u3000") for ln in head.splitlines() if ln.strip()]
    title = lines[0][:60] if lines else file
    region = ""
    for canon, aliases in REGION_ALIASES.items():
        if any(a in head.lower() for a in aliases if len(a) > 1 and not a.isascii()):
            region = canon
            break
    if not region:
        m = re.search(r"代表([\u4e00-\u9fff]{2,8}?)人民政府", head) or _REGION_RE.search(title)
        if m:
            region = m.group(1)
    years = [int(y) for y in _YEAR_RE.findall(title)] or [int(y) for y in _YEAR_RE.findall(head)]
    year = years[0] if years else 0
    is_report = "工作报告" in head
    return Report(
        id=slug(file),
        file=file,
        title=title,
        region=region,
        level="",
        year=year,
        review_years=(year - 1,) if year and is_report else ((year,) if year else ()),
        plan_years=(year,) if year and is_report else (),
        kind="report" if is_report else "article",
        guessed=True,
    )


def region_aliases(catalog: dict[str, Report] | None = None) -> dict[str, tuple[str, ...]]:
    """Canonical region → lower-cased aliases, the built-in ones plus every catalog region."""
    out = {k: v for k, v in REGION_ALIASES.items()}
    for r in (catalog or {}).values():
        if r.region and r.region not in out:
            short = re.sub(r"(市|区|县)$", "", r.region)
            out[r.region] = tuple({r.region.lower(), short.lower()} - {""})
    return out
