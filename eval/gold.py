"""Gold Q&A items: the data type, the normalisation and a validating loader.

The format is fixed by ``shared/eval-format.md``: JSONL, one object per line with
``id, question, answer, must_include, doc, evidence, type, difficulty``. This module
is stdlib only and imports nothing from ``rag`` (app and eval stay apart).
"""
from __future__ import annotations

import functools
import json
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Mapping

__all__ = [
    "TYPES",
    "ANSWERABLE_TYPES",
    "LONG_ANSWER_TYPES",
    "DIFFICULTIES",
    "REQUIRED_FIELDS",
    "GoldItem",
    "normalize",
    "read_seed",
    "load_texts",
    "load_gold",
    "gold_docs",
]

TYPES: tuple[str, ...] = (
    "numeric_result",
    "numeric_target",
    "entity",
    "list",
    "yesno",
    "cross_doc",
    "unanswerable",
    "summary",
)
ANSWERABLE_TYPES: tuple[str, ...] = tuple(t for t in TYPES if t != "unanswerable")
# Types whose answers may be longer than the 300-character "real answer" limit.
LONG_ANSWER_TYPES: frozenset[str] = frozenset({"summary", "list"})
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "question",
    "answer",
    "must_include",
    "doc",
    "evidence",
    "type",
    "difficulty",
)


def normalize(s: str) -> str:
    """NFKC (full-width to half-width), then remove all white space.

    ``"1170.1 亿元"``, ``"1170.1亿元"`` and ``"１１７０.１亿元"`` all give ``"1170.1亿元"``.
    """
    return "".join(unicodedata.normalize("NFKC", s).split())


def _as_tuple(value: object) -> tuple:
    if isinstance(value, str):
        return (value,)
    if value is None:
        return ()
    return tuple(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GoldItem:
    """One gold question. ``doc``, ``evidence`` and ``must_include`` are always tuples.

    A ``str`` given for ``doc``/``evidence`` becomes a 1-tuple. When ``doc`` has one
    name and ``evidence`` several strings, all the evidence is in that one doc;
    otherwise the two are aligned position by position (see :meth:`pairs`).
    ``line`` is the 1-based line in the gold file (0 when built by hand); it takes no
    part in equality.
    """

    id: str
    question: str
    answer: str
    must_include: tuple[str, ...]
    doc: tuple[str, ...]
    evidence: tuple[str, ...]
    type: str
    difficulty: str = "medium"
    line: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "must_include", _as_tuple(self.must_include))
        object.__setattr__(self, "doc", _as_tuple(self.doc))
        object.__setattr__(self, "evidence", _as_tuple(self.evidence))
        if not _aligned(len(self.doc), len(self.evidence)):
            raise ValueError(
                f"gold item {self.id!r}: doc and evidence lists differ in length "
                f"({len(self.doc)} vs {len(self.evidence)})"
            )

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    def pairs(self) -> tuple[tuple[str, str], ...]:
        """``(doc, evidence)`` pairs: a single doc is shared by every evidence string."""
        if len(self.doc) == 1:
            return tuple((self.doc[0], ev) for ev in self.evidence)
        return tuple(zip(self.doc, self.evidence))


def _aligned(n_doc: int, n_ev: int) -> bool:
    return n_doc == n_ev or (n_doc == 1 and n_ev >= 1)


# --------------------------------------------------------------------------- seeds


@functools.lru_cache(maxsize=256)
def _read_seed_cached(seeds_dir: str, name: str, mtime_ns: int, size: int) -> str:
    with open(os.path.join(seeds_dir, name), encoding="utf-8", newline="") as fh:
        return fh.read()


def _valid_seed_name(name: str) -> bool:
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
    )


def read_seed(seeds_dir: str | os.PathLike, name: str) -> str:
    """Text of seed file ``name`` exactly as stored (UTF-8, no newline translation).

    Cached per (directory, name, mtime, size), so an edited file is read again.
    Raises ``FileNotFoundError`` for a name that is not a plain file in ``seeds_dir``.
    """
    if not isinstance(name, str) or not _valid_seed_name(name):
        raise FileNotFoundError(f"not a seed file name: {name!r}")
    d = os.path.abspath(os.fspath(seeds_dir))
    p = os.path.join(d, name)
    if not os.path.isfile(p):
        raise FileNotFoundError(p)
    st = os.stat(p)
    return _read_seed_cached(d, name, st.st_mtime_ns, st.st_size)


def load_texts(
    seeds_dir: str | os.PathLike, names: Iterable[str] | None = None
) -> dict[str, str]:
    """``{file name: text}`` for ``names`` (default: every ``*.txt`` in ``seeds_dir``).

    Names that are not files in ``seeds_dir`` are left out.
    """
    if names is None:
        names = sorted(p.name for p in Path(seeds_dir).glob("*.txt") if p.is_file())
    out: dict[str, str] = {}
    for n in names:
        if n in out:
            continue
        try:
            out[n] = read_seed(seeds_dir, n)
        except (FileNotFoundError, UnicodeDecodeError, OSError):
            pass
    return out


# --------------------------------------------------------------------------- loader


def _clip(s: str, n: int = 40) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _is_str_list(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _type_name(v: object) -> str:
    return "null" if v is None else type(v).__name__


def _iter_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    for i, raw in enumerate(data.split(b"\n"), start=1):
        yield i, raw


def _reader(texts: "Mapping[str, str] | str | os.PathLike"):
    """A doc name → text function over a {name: text} mapping or a folder of text files."""
    if isinstance(texts, Mapping):
        def read(name: str) -> str:
            if name not in texts:
                raise FileNotFoundError(name)
            return texts[name]
        return read
    return lambda name: read_seed(texts, name)


def _check_obj(
    obj: Mapping, seeds_dir: "Mapping[str, str] | str | os.PathLike"
) -> tuple[GoldItem | None, list[str]]:
    """Validate one decoded object. Returns (item or None, problems without prefix)."""
    probs: list[str] = []
    missing = [f for f in REQUIRED_FIELDS if f not in obj]
    if missing:
        return None, [f"missing field '{f}'" for f in missing]

    for f in ("id", "question", "answer", "type", "difficulty"):
        if not isinstance(obj[f], str):
            probs.append(f"bad type for field '{f}': expected str, got {_type_name(obj[f])}")
    if not _is_str_list(obj["must_include"]):
        probs.append(
            "bad type for field 'must_include': expected list of str, "
            f"got {_type_name(obj['must_include'])}"
        )
    for f in ("doc", "evidence"):
        v = obj[f]
        if not (isinstance(v, str) or _is_str_list(v)):
            probs.append(
                f"bad type for field '{f}': expected str or list of str, got {_type_name(v)}"
            )
    if probs:
        return None, probs

    if not obj["id"].strip():
        probs.append("empty id")
    if not obj["question"].strip():
        probs.append("empty question")
    typ = obj["type"]
    if typ not in TYPES:
        probs.append(f"bad type '{typ}': expected one of {', '.join(TYPES)}")
    if obj["difficulty"] not in DIFFICULTIES:
        probs.append(
            f"bad difficulty '{obj['difficulty']}': expected one of {', '.join(DIFFICULTIES)}"
        )
    if any(not normalize(m) for m in obj["must_include"]):
        probs.append("empty string in must_include")

    docs = _as_tuple(obj["doc"])
    evs = _as_tuple(obj["evidence"])
    unanswerable = typ == "unanswerable"
    if not unanswerable:
        if not docs:
            probs.append("doc is empty")
        if not evs:
            probs.append("evidence is empty")
    if any(not normalize(e) for e in evs):
        probs.append("empty evidence string")
    if any(not d.strip() for d in docs):
        probs.append("empty doc name")
    if (docs or evs) and not _aligned(len(docs), len(evs)):
        probs.append(
            f"doc and evidence lists differ in length ({len(docs)} vs {len(evs)})"
        )
    if probs:
        return None, probs

    texts: dict[str, str] = {}
    read = _reader(seeds_dir)
    for d in dict.fromkeys(docs):
        try:
            texts[d] = read(d)
        except FileNotFoundError:
            probs.append(f"unknown doc '{d}'")
        except (UnicodeDecodeError, OSError) as e:
            probs.append(f"cannot read doc '{d}': {e.__class__.__name__}")
    if probs:
        return None, probs

    pair_docs = docs * len(evs) if len(docs) == 1 else docs
    for d, ev in zip(pair_docs, evs):
        text = texts[d]
        # Verbatim is what the format asks for; a match after normalisation is
        # accepted too (the metrics accept it), so white-space slips do not drop items.
        if ev not in text and normalize(ev) not in normalize(text):
            probs.append(f"evidence not found in {d}: '{_clip(ev)}'")
    if probs:
        return None, probs

    item = GoldItem(
        id=obj["id"],
        question=obj["question"],
        answer=obj["answer"],
        must_include=tuple(obj["must_include"]),
        doc=docs,
        evidence=evs,
        type=typ,
        difficulty=obj["difficulty"],
    )
    return item, []


def gold_docs(path: str | os.PathLike) -> set[str]:
    """Every doc name a gold file refers to (lines that do not parse are ignored)."""
    out: set[str] = set()
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return out
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            out |= {d for d in _as_tuple(obj.get("doc")) if isinstance(d, str)}
    return out


def load_gold(
    path: str | os.PathLike, seeds_dir: "Mapping[str, str] | str | os.PathLike"
) -> tuple[list[GoldItem], list[str]]:
    """Read and validate a gold JSONL file line by line.

    Returns ``(valid items, problems)``. Every problem is one line,
    ``"<file name>:<line>: <message>"``, e.g. ``"gold.jsonl:17: missing field
    'evidence'"``. Messages: ``broken JSON``, ``not valid UTF-8``, ``bad type ...``
    (wrong JSON type of a field, not an object, or a ``type`` value outside the
    list), ``bad difficulty``, ``missing field 'x'``, ``unknown doc 'x.txt'``,
    ``evidence not found in <doc>: '…'``, ``duplicate id 'x' (first on line n)``,
    ``doc and evidence lists differ in length``, ``empty ...``. A line with a problem
    is left out; the other lines still load. Blank lines are skipped. An unreadable
    or empty file, or one with no valid line, gives ``[]`` plus a problem saying so.

    Checks: ``must_include`` must be a list of str (its strings need not occur in the
    evidence); evidence must occur in its doc verbatim, or after :func:`normalize`
    of both. For ``unanswerable`` items ``doc``/``evidence`` may be empty lists; when
    given they are checked like the others. Extra fields are ignored.
    """
    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return [], [f"{name}: cannot read file: {e.strerror or e}"]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]

    items: list[GoldItem] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    n_lines = 0
    for lineno, raw in _iter_lines(data):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name}:{lineno}: not valid UTF-8")
            n_lines += 1
            continue
        if not line.strip():
            continue
        n_lines += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{name}:{lineno}: broken JSON ({e.msg} at column {e.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(
                f"{name}:{lineno}: bad type: line is a JSON {_type_name(obj)}, not an object"
            )
            continue
        item, probs = _check_obj(obj, seeds_dir)
        if probs:
            problems.extend(f"{name}:{lineno}: {p}" for p in probs)
            continue
        assert item is not None
        if item.id in seen:
            problems.append(
                f"{name}:{lineno}: duplicate id '{item.id}' (first on line {seen[item.id]})"
            )
            continue
        seen[item.id] = lineno
        object.__setattr__(item, "line", lineno)
        items.append(item)

    if n_lines == 0:
        problems.append(f"{name}: empty file (no items)")
    elif not items:
        problems.append(f"{name}: no valid items")
    return items, problems
