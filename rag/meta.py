"""What a report is, read from its text: region (with level and parent), year, years
reviewed and planned, speaker, meeting and kind — each with where it came from.

Every field has a source: ``catalog`` (``catalog.toml`` beside the file, which always
wins), ``text`` (the report's own opening lines), ``file name``, or ``default``. Regions
are resolved against the gazetteer, so 广西壮族自治区 = 广西 and a district is told from
its namesakes (宁波's 江北区 vs 重庆's) by the parent regions its text names.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

from .gazetteer import Gazetteer, Region, gazetteer
from .lexicon import lexicon, pattern
from .types import Report

HEAD_CHARS = 1500  # the opening that names region, year, meeting and speaker
MIN_HEAD_SCORE = 3.0  # weaker evidence from the opening falls back to the whole text
MIN_BODY_MENTIONS = 5


def _meta() -> dict:
    return lexicon().meta


def _lines(text: str, n: int = 6) -> list[str]:
    out = []
    for ln in text[:HEAD_CHARS].splitlines():
        s = ln.strip(" \t\u3000#*—-")
        if s:
            out.append(s)
        if len(out) >= n:
            break
    return out


def _score_regions(g: Gazetteer, text: str, file_name: str, title: str) -> Counter:
    head = text[:HEAD_CHARS]
    lines = _lines(text, 4)
    score: Counter = Counter()

    def add(fragment: str, weight: float) -> None:
        for h in g.find(fragment):
            for k in h.keys:
                if k != "全国":
                    score[k] += weight / len(h.keys)

    m = re.search(_meta()["meeting"], head)
    if m:
        add(re.sub(r"\s+", "", m.group(1)), 6)
    for m in re.finditer(r"代表([\u4e00-\u9fff]{2,14}?)人民政府", head):
        add(m.group(1), 6)
    titles = "|".join(sorted(_meta()["titles"], key=len, reverse=True))
    for m in re.finditer(rf"([\u4e00-\u9fff]{{2,14}}?)(?:{titles})", head[:600]):
        add(m.group(1), 2)
    for ln in lines[:2] + ([title] if title else []):
        add(ln, 4)
    add(Path(file_name).stem, 3)
    add(head, 0.5)
    return score


def _disambiguate(g: Gazetteer, keys: list[str], text: str, file_name: str) -> str:
    """Among namesakes, the one whose parent regions the text names most."""
    body = text + " " + file_name

    def support(k: str) -> int:
        r = g.get(k)
        n = 0
        for anc in (r.ancestors() if r else []):
            a = g.get(anc)
            if a and a.level != "national":
                n += body.count(a.name) * 2 + (body.count(a.short) if a.short and len(a.short) >= 2 else 0)
        return n

    return max(keys, key=lambda k: (support(k), -len(k)))


def _body_region(g: Gazetteer, text: str, file_name: str) -> Counter:
    """Fallback when the opening names no region: the region the whole text names most
    (at least MIN_BODY_MENTIONS times, clearly ahead of any unrelated one)."""
    counts: Counter = Counter()
    for h in g.find(text):
        if len(h.keys) and "全国" not in h.keys:
            counts[h.alias] += 1
    cands = [(a, n) for a, n in counts.most_common() if n >= MIN_BODY_MENTIONS]
    if not cands:
        return Counter()
    keys = {a: [k for k in g.aliases.get(a, ())] for a, _ in cands}
    (top, n_top), rest = cands[0], cands[1:]
    top_keys = keys[top]
    best = _disambiguate(g, top_keys, text, file_name) if len(top_keys) > 1 else top_keys[0]
    anc = set(g.get(best).ancestors())
    for a, n in rest:
        related = any(k in anc or best in g.get(k).ancestors() for k in keys[a] if g.get(k))
        if not related and n * 1.3 > n_top:
            return Counter()  # two unrelated regions named as often: no guess
    return Counter({best: 3.0})


def _clean_title(t: str) -> str:
    """A title without a web page's site suffix ("…_XX区人民政府门户网站") or letter spacing."""
    t = pattern("site_suffix", "text").split(t)[0]
    if re.fullmatch(r"(?:[\u4e00-\u9fff][ \u3000]+)+[\u4e00-\u9fff]", t.strip()):
        t = re.sub(r"[ \u3000]+", "", t)
    return t.strip()


def find_region(text: str, file_name: str = "", title: str = "") -> Region | None:
    g = gazetteer()
    meeting = find_meeting(text)
    head = text[:HEAD_CHARS]
    if any(w in meeting or w in head[:300] for w in _meta()["national"]) and not re.search(r"[省市区县]第", meeting):
        return g.get("全国")  # the State Council's report to the National People's Congress
    score = _score_regions(g, text, file_name, title)
    if not score or max(score.values()) < MIN_HEAD_SCORE:
        score = _body_region(g, text, file_name)
    if not score:
        return None
    # namesakes share a score: let the text's parent regions decide between them
    by_name: dict[str, list[str]] = {}
    for k in score:
        by_name.setdefault(g.get(k).name, []).append(k)
    merged: Counter = Counter()
    for name, ks in by_name.items():
        best = _disambiguate(g, ks, text, file_name) if len(ks) > 1 else ks[0]
        merged[best] = sum(score[k] for k in ks)
    top = merged.most_common()
    best_key, best_score = top[0]
    # the most specific region named as strongly: "宁波市海曙区" is 海曙区's report
    for k, s in top[1:]:
        r = g.get(k)
        if s >= best_score * 0.6 and best_key in (r.ancestors() if r else []):
            best_key, best_score = k, s
    return g.get(best_key)


def find_year(text: str, file_name: str = "", title: str = "") -> tuple[int, str]:
    head = unicodedata.normalize("NFKC", text[:HEAD_CHARS])
    m = re.search(_meta()["date"], head[:400])
    if m:
        return int(m.group(1)), "text"
    for src, s in (("text", " ".join(_lines(text, 2)) + " " + title), ("file name", Path(file_name).stem)):
        ys = re.findall(r"((?:19|20)\d{2})\s*年?", unicodedata.normalize("NFKC", s))
        if ys:
            return int(ys[0]), src
    ys = Counter(int(y) for y in re.findall(r"((?:19|20)\d{2})年", head))
    if ys:
        return ys.most_common(1)[0][0], "text"
    return 0, "default"


def find_speaker(text: str) -> str:
    """"市长 龚正" from the opening: "XX省省长 王某作政府工作报告", "——…日王某市长在…",
    "区长王某作…", or a line "XX市市长 王某"."""
    head = unicodedata.normalize("NFKC", text[:600])
    titles = "|".join(sorted(_meta()["titles"], key=len, reverse=True))
    name = r"([\u4e00-\u9fff][\u4e00-\u9fff·]{1,7}?)"
    after = lexicon().phrasing["patterns"]["after_speaker"]
    m = re.search(rf"({titles})\s*{name}{after}", head)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    m = re.search(rf"(?:日|^|\n|——)\s*{name}(?:同志)?({titles})(?=在|作)", head)
    if m:
        return f"{m.group(2)} {m.group(1)}"
    return ""


def find_source(text: str) -> str:
    """The outlet a copy names in its opening: "来源：解放日报" → 解放日报."""
    m = pattern("source_line", "text").search(text[:400])
    return m.group(1).strip() if m else ""


def find_meeting(text: str) -> str:
    m = re.search(_meta()["meeting"], text[:HEAD_CHARS])
    return re.sub(r"\s+", "", m.group(1)) if m else ""


def _kind(text: str) -> str:
    head = text[:HEAD_CHARS]
    meta = _meta()
    is_report = any(w in head for w in meta["report_words"])
    is_article = sum(head.count(w) for w in meta["article_words"]) >= 1 and "政府工作报告" not in head[:200]
    return "article" if is_article and not any(w in head for w in meta["address_words"]) else ("report" if is_report else "article")


def _years(text: str, year: int, kind: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if not year:
        return (), ()
    if kind == "article":
        return (year,), ()  # a news article reports on the year it names
    meta = _meta()
    review = {year - 1}
    if any(w in text for w in meta["review_period"]):
        review |= set(range(year - 5, year))
    plan = {year}
    if year % 5 == 1 and any(w in text for w in meta["plan_period"]):
        plan |= set(range(year, year + 5))
    return tuple(sorted(review)), tuple(sorted(plan))


def _level(given: str, region: Region | None) -> str:
    """national | province | prefecture | county: the gazetteer's level for a known region, else
    the catalog's word for it ("区", "县级市" → county)."""
    if region is not None:
        return region.level
    given = (given or "").strip()
    if given in ("national", "province", "prefecture", "county"):
        return given
    return lexicon().regions["level_words"].get(given, "")


def slug(text: str) -> str:
    from pypinyin import lazy_pinyin

    s = "".join(lazy_pinyin(text)) if re.search(r"[\u4e00-\u9fff]", text) else text
    s = re.sub(r"[^0-9a-z]+", "-", s.lower()).strip("-")
    return s or "report"


def describe(file_name: str, text: str, *, title: str = "", catalog: dict | None = None, path: str = "") -> Report:
    """The Report for one file: catalog fields first, then what the text says."""
    cat = dict(catalog or {})
    src: dict[str, str] = {}
    region = None
    if cat.get("region"):
        found = gazetteer().lookup(cat["region"])
        region = _disambiguate(gazetteer(), [r.key for r in found], text, file_name) if found else None
        region = gazetteer().get(region) if region else None
        src["region"] = "catalog"
    else:
        region = find_region(text, file_name, title)
        src["region"] = "text" if region else "default"
    year, src["year"] = (int(cat["year"]), "catalog") if cat.get("year") else find_year(text, file_name, title)
    kind = cat.get("kind") or _kind(text)
    src["kind"] = "catalog" if cat.get("kind") else "text"
    review, plan = _years(text, year, kind)
    if "review_years" in cat:
        review, src["review_years"] = tuple(int(y) for y in cat["review_years"]), "catalog"
    else:
        src["review_years"] = "text"
    if "plan_years" in cat:
        plan, src["plan_years"] = tuple(int(y) for y in cat["plan_years"]), "catalog"
    else:
        src["plan_years"] = "text"
    speaker = cat.get("speaker")
    src["speaker"] = "catalog" if speaker is not None else "text"
    speaker = speaker if speaker is not None else find_speaker(text)
    region_name = cat.get("region") or (region.name if region else "")
    doc_title = cat.get("title") or _clean_title(title) or _clean_title((_lines(text, 1) or [file_name])[0][:60])
    src["title"] = "catalog" if cat.get("title") else "text"
    rid = cat.get("id") or (f"{slug(region.short or region.name)}-{year}" if region and year else slug(Path(file_name).stem))
    src["id"] = "catalog" if cat.get("id") else ("text" if region and year else "file name")
    key = hashlib.sha1((path or file_name).encode()).hexdigest()[:16]
    return Report(
        id=rid,
        file=file_name,
        title=doc_title,
        region=region_name,
        level=_level(cat.get("level", ""), region),
        year=year,
        review_years=review,
        plan_years=plan,
        speaker=speaker,
        kind=kind,
        region_key=region.key if region else "",
        parent=(region.parent_key.split("/")[-1] if region and region.parent_key else ""),
        region_kind=region.kind if region else "",
        meeting=cat.get("meeting") or find_meeting(text),
        outlet=find_source(text),
        aliases=tuple(cat.get("aliases", ())),
        sources=tuple(sorted(src.items())),
        key=key,
        path=path,
    )


def with_id(r: Report, rid: str) -> Report:
    return replace(r, id=rid)
