"""Domain knowledge as data: the ``*.toml`` files beside this module, loaded once.

Each file says where its entries come from. Code asks the :class:`Lexicon`; no module of
``rag`` keeps its own list of indicators, cue words, units, heading styles or places.
"""
from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    terms: tuple[str, ...]  # how report text names it
    ask: tuple[str, ...] = ()  # further names used in questions only
    english: tuple[str, ...] = ()
    measures: tuple[str, ...] = ("growth", "level")
    default: str = "growth"
    unit: str = ""
    covers: tuple[str, ...] = ()  # a shared form stating several indicators at once
    broader: str = ""  # nearest neighbour whose figure does NOT answer for this one
    share: str = ""  # the indicator naming this one's share of GDP
    fallback: tuple[str, ...] = ()  # question words naming it only when nothing else is named
    headline: bool = False  # one of the figures of a report's headline sentence
    units: tuple[str, ...] = ()  # units that name it by themselves (标准箱 → container throughput)
    elliptic: tuple[str, ...] = ()  # bare words naming it in a sentence already about it
    kin: tuple[str, ...] = ()  # indicators whose mention makes a sentence about it (besides its own name)
    stated_by: tuple[str, ...] = ()  # indicators answering for it when a report gives none of its own
    lower: bool = False  # less is better: a target is a ceiling


@dataclass(frozen=True)
class Mention:
    """An indicator named in a text: ``text[start:end] == term``."""

    indicator: str
    start: int
    end: int
    term: str


def _load(name: str) -> dict:
    return tomllib.loads((HERE / name).read_text(encoding="utf-8"))


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class Lexicon:
    indicators: tuple[Indicator, ...]
    units: dict[str, str]
    per_before: dict[str, str]  # "每立方米" written before a figure: the suffix of its unit
    scales: dict[str, float]
    qualifiers_before: dict[str, str]
    qualifiers_after: dict[str, str]
    range_joiners: tuple[str, ...]
    verbs: dict[str, tuple[str, ...]]
    share: dict
    cues: dict
    headings: dict
    boilerplate: dict
    regions: dict
    meta: dict
    glossary: dict[str, tuple[str, ...]]
    phrasing: dict = field(default_factory=dict)
    other_subjects: tuple[str, ...] = ()
    unit_kinds: dict = field(default_factory=dict)  # units.toml [kinds]
    economy: str = ""  # the indicator of the whole economy (GDP)
    table_core: tuple[str, ...] = ()  # a comparison table's indicators when none is named
    _text_re: re.Pattern = field(repr=False, compare=False, default=None)
    _ask_re: re.Pattern = field(repr=False, compare=False, default=None)
    _term_owner: dict = field(repr=False, compare=False, default_factory=dict)
    _ask_owner: dict = field(repr=False, compare=False, default_factory=dict)

    @functools.cached_property
    def fallback_terms(self) -> tuple[str, ...]:
        return tuple(t for i in self.indicators for t in i.fallback)

    @functools.cached_property
    def by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    # --- indicators ------------------------------------------------------------------
    def mentions(self, text: str, head: str = "") -> list[Mention]:
        """Indicators named in report text, leftmost-longest: "进出口" is not "出口"; plus
        bare words that name an indicator right after its kin ("粮食播种面积…、产量…"), or
        in a sentence under a short head naming its kin ("——粮食生产再创新高。…，总产量…")."""
        out = [
            Mention(self._term_owner[m.group(0).lower()], m.start(), m.end(), m.group(0))
            for m in self._text_re.finditer(text)
        ]
        above = [self._term_owner[m.group(0).lower()] for m in self._text_re.finditer(head)] if head else []
        for ind in self.indicators:
            for word in ind.elliptic:
                for m in re.finditer(re.escape(word), text):
                    if any(o.start <= m.start() < o.end for o in out):
                        continue
                    kin = [o for o in out if o.end <= m.start()
                           and (o.term.startswith(ind.name[:2]) or o.indicator in ind.kin)
                           and re.fullmatch(r"[^，,；;。]{0,30}[、，,]\s*", text[o.end: m.start()] + "、")]
                    headed = not kin and any(i == ind.id or i in ind.kin for i in above)
                    # after a list comma, or opening the sentence under the head ("——粮食生产再创新高。播种面积…")
                    lead = text[max(0, m.start() - 4): m.start()]
                    if (kin or headed) and ((headed and not lead.strip()) or pattern("elliptic_lead", "text").search(lead or "x")):
                        out.append(Mention(ind.id, m.start(), m.end(), word))
        return self._own(text, sorted(out + _elided(text, out, self._term_owner), key=lambda x: x.start))

    def asked(self, question: str) -> list[Mention]:
        """Indicators a question names (report terms, question-only names, English)."""
        out = [
            Mention(self._ask_owner[_singular(m.group(1), self._ask_owner)], m.start(1), m.end(1), m.group(1))
            for m in self._ask_re.finditer(question)
        ]
        extra, shared = _elided_en(question, out, self._ask_owner)
        out = [h for h in out if h.start not in shared] + extra
        hits = self._own(question, sorted(out + _elided(question, out, self._ask_owner), key=lambda x: x.start))
        if any(h.term.isascii() for h in hits):
            # an English name inside a longer glossary phrase names that thing, not the
            # indicator ("economy" in "ice-and-snow economy", "digital economy"), unless its
            # Chinese names the indicator too ("actual foreign investment" = 实际使用外资)
            spans = self.glossary_spans(question)
            hits = [h for h in hits if not (h.term.isascii() and any(
                a <= h.start and h.end <= b and b - a > h.end - h.start
                and not any(self._ask_owner.get(f.lower()) == h.indicator for f in forms) for a, b, forms in spans))]
        return hits

    def canonical(self, term: str) -> str:
        """A question's name for an indicator as the lexicon spells it (lower case, singular,
        hyphens as spaces: "Growth-Targets" → "growth targets" → "growth target")."""
        return _singular(term, self._ask_owner)

    def _own(self, text: str, hits: list[Mention]) -> list[Mention]:
        """Leave out a term written right after a narrower group ("低收入农户人均可支配收入"):
        that group's figure is not the indicator's."""
        if not self.other_subjects:
            return hits
        return [h for h in hits if not text[max(0, h.start - 8): h.start].endswith(self.other_subjects)]

    def names_of(self, indicator_id: str) -> tuple[str, ...]:
        """Every Chinese name of an indicator: its statistical name first, then longest first."""
        i = self.by_id[indicator_id]
        rest = sorted((set(i.terms) | {t for t in i.ask if not t.isascii()}) - {i.name}, key=len, reverse=True)
        return (i.name, *rest)

    def search_names(self, indicator_id: str) -> tuple[str, ...]:
        """The names a search should use: the statistical name and the shortest Chinese
        report term of three or more characters ("生产总值" for 全市/全省/地区生产总值)."""
        i = self.by_id[indicator_id]
        cjk = [t for t in i.terms if not t.isascii() and len(t) >= 3]
        short = min(cjk, key=len) if cjk else ""
        return tuple(dict.fromkeys(x for x in (i.name, short) if x))

    @functools.cached_property
    def _glossary_forms(self) -> dict[str, tuple[str, ...]]:
        """Each glossary phrase, also with its last word in the other number ("industrial
        chains" for "industrial chain", "government service" for "government services")."""
        forms = dict(self.glossary)
        for k, v in self.glossary.items():
            if k.endswith("s") and not k.endswith("ss") and len(k) > 4:
                forms.setdefault(k[:-1], v)
            elif k[-1:].isalpha():
                forms.setdefault(k + ("es" if k.endswith(("sh", "ch", "x")) else "s"), v)
        # a hyphen and a space are one ("ice-and-snow economy" = "ice and snow economy")
        return {k.replace("-", " "): v for k, v in reversed(forms.items())}

    @functools.cached_property
    def _glossary_re(self) -> re.Pattern:
        alts = sorted(self._glossary_forms, key=len, reverse=True)
        return re.compile(r"(?<![a-z])(" + "|".join(re.escape(a).replace(r"\ ", "[- ]") for a in alts) + r")(?![a-z])")

    def glossary_spans(self, english: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, Chinese wordings) of the glossary phrases an English text uses,
        leftmost-longest."""
        return [(m.start(1), m.end(1), self._glossary_forms[m.group(1).replace("-", " ")])
                for m in self._glossary_re.finditer(english.lower().replace("–", "-").replace("—", "-"))]

    def translate(self, english: str) -> list[tuple[str, ...]]:
        """The Chinese wordings of the glossary phrases an English text uses,
        leftmost-longest: [("世界自然遗产",), ("港", "港口"), …]."""
        return [forms for _, _, forms in self.glossary_spans(english)]

    def share_of(self, indicator_id: str) -> tuple[str, str]:
        """(indicator, measure) meant by "X占GDP比重": X's share indicator, or X's rate."""
        i = self.by_id[indicator_id]
        return (i.share, "rate") if i.share else (i.id, "rate")

    def cue(self, group: str, key: str) -> tuple[str, ...]:
        return tuple(self.cues.get(group, {}).get(key, ()))


def _build() -> Lexicon:
    raw = _load("indicators.toml")
    ind = raw["indicator"]
    indicators = tuple(
        Indicator(
            id=r["id"], name=r["name"], terms=tuple(r["terms"]), ask=tuple(r.get("ask", ())),
            english=tuple(e.lower() for e in r.get("english", ())), measures=tuple(r.get("measures", ("growth", "level"))),
            default=r.get("default", "growth"), unit=r.get("unit", ""), covers=tuple(r.get("covers", ())),
            broader=r.get("broader", ""),
            share=r.get("share", ""),
            fallback=tuple(r.get("fallback", ())),
            headline=bool(r.get("headline", False)),
            units=tuple(r.get("units", ())),
            elliptic=tuple(r.get("elliptic", ())),
            kin=tuple(r.get("kin", ())),
            stated_by=tuple(r.get("stated_by", ())),
            lower=bool(r.get("lower", False)),
        )
        for r in ind
    )
    term_owner: dict[str, str] = {}
    ask_owner: dict[str, str] = {}
    for i in indicators:
        for t in i.terms:
            term_owner.setdefault(t.lower(), i.id)
            ask_owner.setdefault(t.lower(), i.id)
    for i in indicators:
        for t in list(i.ask) + list(i.english):
            ask_owner.setdefault(t.lower(), i.id)
            ask_owner.setdefault(t.lower().replace("-", " "), i.id)  # "high-tech" = "high tech"
    text_re = re.compile(_alternation(list(term_owner)), re.I)
    # English names only on word boundaries; Chinese anywhere
    alts = sorted(ask_owner, key=len, reverse=True)
    # English on word boundaries, a hyphen for a space ("per-capita"), plural allowed ("incomes")
    parts = [("(?<![a-z])" + re.escape(a).replace(r"\ ", "[- ]") + "(?:s|es)?(?![a-z])" if a.isascii() and a[:1].isalpha()
              else re.escape(a)) for a in alts]
    ask_re = re.compile("(" + "|".join(parts) + ")", re.I)
    units = _load("units.toml")
    return Lexicon(
        indicators=indicators,
        units=dict(units["units"]),
        per_before=dict(units.get("per_before", {})),
        scales={k: float(v) for k, v in units["scales"].items()},
        qualifiers_before=dict(units["qualifiers"]["before"]),
        qualifiers_after=dict(units["qualifiers"]["after"]),
        range_joiners=tuple(units["ranges"]["joiners"]),
        verbs={k: tuple(v) for k, v in units["verbs"].items()},
        share=dict(units["share"]),
        unit_kinds={k: tuple(v) for k, v in units["kinds"].items()},
        cues=_load("cues.toml"),
        headings=_load("headings.toml"),
        boilerplate=_load("boilerplate.toml"),
        regions=_load("regions.toml"),
        meta=_load("meta.toml"),
        phrasing=_load("phrasing.toml"),
        other_subjects=tuple(sorted(raw.get("other_subjects", ()), key=len, reverse=True)),
        economy=raw["economy"],
        table_core=tuple(raw["table_core"]),
        glossary={k.lower(): tuple(v.split("|")) for k, v in _load("glossary.toml")["terms"].items()},
        _text_re=text_re,
        _ask_re=ask_re,
        _term_owner=term_owner,
        _ask_owner=ask_owner,
    )


_COORDINATED = re.compile(r"((?:[\u4e00-\u9fff]{2,6}(?:和|与|及|以及|、))+)$")


def _elided(text: str, hits: list[Mention], owner: dict) -> list[Mention]:
    """Indicators named with a shared ending left out: "城镇和农村居民收入" names 城镇居民收入
    too, "规上工业、农林牧渔业、服务业增加值" three value-added figures. A coordinated word
    right before a term, joined to a tail of that term, must make a known term."""
    out: list[Mention] = []
    taken = [(h.start, h.end) for h in hits]
    for h in hits:
        m = _COORDINATED.search(text, max(0, h.start - 40), h.start)
        if not m or m.end() != h.start:
            continue
        pos = m.start()
        for word in re.split(r"(和|与|以及|及|、)", m.group(1)):
            if not word or word in ("和", "与", "及", "以及", "、"):
                pos += len(word)
                continue
            a, b = pos, pos + len(word)
            pos = b
            if any(s <= a < e for s, e in taken):
                continue
            # the word may carry what comes before it ("2024年城镇和…": "年城镇")
            for j in range(len(word) - 1):
                found = _joined(word[j:], h.term, owner)
                if found:
                    out.append(Mention(found, a + j, b, word[j:]))
                    break
    return out


def _singular(found: str, owner: dict) -> str:
    """The lexicon key of an English name found with a plural ending or a hyphen."""
    key = found.lower().replace("-", " ")
    for k in (key, key[:-1], key[:-2]):
        if k in owner:
            return k
    return key


_COORDINATED_EN = re.compile(r"(?<![a-z])([a-z]+)\s+(?:and|or|&)\s+([a-z]+)\s+$", re.I)


def _elided_en(text: str, hits: list[Mention], owner: dict) -> tuple[list[Mention], set[int]]:
    """English names sharing a left-out ending: "urban and rural per-capita disposable
    incomes" names urban and rural income. Each coordinated word joined to a tail of the
    term must make a known name. Also where the general names start when both words took
    it: those name the two, not the general indicator as well."""
    out, shared = [], set()
    for h in hits:
        m = _COORDINATED_EN.search(text[max(0, h.start - 40): h.start]) if h.term.isascii() else None
        if not m:
            continue
        base, key = max(0, h.start - 40), _singular(h.term, owner)
        made = []
        for g in (1, 2):
            for k in range(len(key.split())):
                full = " ".join([m.group(g).lower(), *key.split()[k:]])
                if full in owner and owner[full] != owner.get(key):
                    made.append(Mention(owner[full], base + m.start(g), base + m.end(g), m.group(g)))
                    break
        out += made
        if len(made) == 2:
            shared.add(h.start)
    return out, shared


def _joined(word: str, term: str, owner: dict) -> str:
    """The indicator ``word`` names when it takes the tail of ``term``, else ""."""
    for k in range(1, len(term) - 1):
        full = (word + term[k:]).lower()
        if full in owner and owner[full] != owner.get(term.lower()):
            return owner[full]
    return ""


@functools.lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The project's lexicon, loaded once per process."""
    return _build()


_PATTERN_TABLES = {"patterns": ("cues", "patterns"), "items": ("headings", "items"), "text": ("phrasing", "patterns")}


@functools.lru_cache(maxsize=None)
def pattern(name: str, table: str = "patterns") -> re.Pattern:
    """A regular expression kept as data, compiled once: ``cues.toml [patterns]`` (question
    grammar); with ``table="items"``, ``headings.toml [items]`` (list items in report text);
    with ``table="text"``, ``phrasing.toml [patterns]`` (other report-text grammar)."""
    file, section = _PATTERN_TABLES[table]
    return re.compile(getattr(lexicon(), file)[section][name])


@functools.lru_cache(maxsize=1)
def version() -> str:
    """A fingerprint of the data files: the index re-reads reports when it changes."""
    import hashlib

    h = hashlib.sha1()
    for p in sorted(HERE.glob("*.toml")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:10]
