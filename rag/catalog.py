"""``catalog.toml``: what a folder's reports are, when the text does not say it (a masked
name, an article) or says it wrongly. One ``[[report]]`` per file; every field is
optional and overrides what is read from the text:

    [[report]]
    file = "003_887212d0c28f9641.txt"
    id = "ningbo-2023"
    region = "宁波市"
    year = 2023
    review_years = [2022]
    plan_years = []
    aliases = ["XX市"]      # further names of the region, as the text writes it
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

CATALOG_FILE = "catalog.toml"
FIELDS = ("file", "id", "title", "region", "level", "year", "review_years", "plan_years", "speaker", "kind",
          "meeting", "aliases")


class CatalogError(Exception):
    pass


def load(folder: Path) -> dict[str, dict]:
    """file name → catalog row, from ``folder/catalog.toml`` ({} if there is none)."""
    path = Path(folder) / CATALOG_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise CatalogError(f"{path}: not valid TOML ({e})") from None
    return {row["file"]: dict(row) for row in data.get("report", []) if isinstance(row, dict) and row.get("file")}


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dumps(rows: dict[str, dict], header: str = "") -> str:
    out = [header.rstrip() + "\n"] if header else []
    for file in sorted(rows):
        row = {"file": file, **{k: v for k, v in rows[file].items() if k != "file"}}
        out.append("[[report]]")
        out += [f"{k} = {_value(row[k])}" for k in FIELDS if k in row and row[k] is not None]
        out.append("")
    return "\n".join(out)


def update(folder: Path, file: str, fields: dict) -> Path:
    """Write (or correct) one file's entry, keeping the others; atomic. Returns the path."""
    folder = Path(folder)
    rows = load(folder)
    row = dict(rows.get(file, {}))
    for k, v in fields.items():
        if k not in FIELDS:
            raise CatalogError(f"unknown catalog field {k!r}")
        if v in (None, ""):
            row.pop(k, None)
        else:
            row[k] = v
    rows[file] = row
    path = folder / CATALOG_FILE
    header = ""
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()
        header = "\n".join(ln for ln in lines[: next((i for i, ln in enumerate(lines) if ln.strip()
                                                          .startswith("[[")), len(lines))] if ln.startswith("#"))
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps(rows, header), encoding="utf-8")
    os.replace(tmp, path)
    return path
