"""Source contracts: one YAML per source says how its files look and what its columns mean.

A brand whose export uses other headers, another encoding or another file layout changes the
YAML, not the code. A contract that does not parse fails with the file and the key at fault.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from common.errors import UserError

CONTRACTS_DIR = Path(__file__).parent / "contracts"
FORMATS = ("csv", "jsonl", "parquet")
TYPES = ("string", "integer", "decimal", "boolean", "date", "datetime", "epoch_seconds", "json")
CONTRACT_KEYS = {"source", "description", "files", "format", "encoding", "key", "columns", "freshness_hours"}
DEFAULT_FRESHNESS_HOURS = 36.0  # a source is stale when nothing new arrived for this long
COLUMN_KEYS = {
    "from",
    "type",
    "required",
    "identifier",
    "format",
    "min",
    "max",
    "allowed",
    "true_values",
    "false_values",
    "description",
    "column_required",
    "may_be_absent",
    "max_length",
}
# Longest text a column may hold unless its contract says otherwise: longer values are
# rejected (a 10 MB nickname is an attack or a broken export, not a name).
DEFAULT_MAX_LENGTH = {"string": 1_000, "json": 10_000}


class ContractError(UserError, ValueError):
    """A contract file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Column:
    name: str
    source: str  # the header (CSV) or key (JSON) in the file
    type: str
    description: str
    required: bool = False
    identifier: str | None = None  # kind of identifier, for identity resolution
    format: str | None = None  # strptime format for date / datetime
    min: float | None = None
    max: float | None = None
    allowed: tuple | None = None  # enumeration, checked by the validation suite
    true_values: tuple = ()
    false_values: tuple = ()
    column_required: bool = False  # the file must have the column, though values may be empty
    may_be_absent: bool = False  # the source leaves the key out when it has no value: no warning
    max_length: int | None = None  # characters; None: the type's default (DEFAULT_MAX_LENGTH)

    @property
    def longest(self) -> int | None:
        """The most characters a value may have (text types only)."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.type)


@dataclass(frozen=True)
class Contract:
    source: str
    description: str
    files: str  # glob, relative to the landing folder
    format: str
    encoding: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    path: Path
    digest: str  # of the YAML text: a changed contract may retry files it failed before
    freshness_hours: float | None = DEFAULT_FRESHNESS_HOURS  # None: the source may stay quiet

    @property
    def required(self) -> list[Column]:
        """Columns whose every value must be present."""
        return [c for c in self.columns if c.required]

    @property
    def required_in_file(self) -> list[Column]:
        """Columns a file cannot be loaded without: required values, or `column_required`."""
        return [c for c in self.columns if c.required or c.column_required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _fail(path: Path, key: str, problem: str) -> ContractError:
    return ContractError(f"{path}: '{key}': {problem}")


def _column(path: Path, name: str, spec: object) -> Column:
    where = f"columns.{name}"
    if not isinstance(spec, dict):
        raise _fail(path, where, "must be a mapping with at least 'from' and 'type'")
    unknown = set(spec) - COLUMN_KEYS
    if unknown:
        raise _fail(path, f"{where}.{sorted(unknown)[0]}", f"unknown key (allowed: {', '.join(sorted(COLUMN_KEYS))})")
    for needed in ("from", "type"):
        if needed not in spec:
            raise _fail(path, f"{where}.{needed}", "missing")
    if spec["type"] not in TYPES:
        raise _fail(path, f"{where}.type", f"unknown type {spec['type']!r} (expected one of {', '.join(TYPES)})")
    if spec["type"] in ("date", "datetime") and not spec.get("format"):
        raise _fail(path, f"{where}.format", f"a {spec['type']} column needs a strptime format")
    if spec["type"] == "boolean" and not (spec.get("true_values") and spec.get("false_values")):
        raise _fail(path, f"{where}.true_values", "a boolean column needs true_values and false_values")
    for bound in ("min", "max"):
        if bound in spec and not isinstance(spec[bound], int | float):
            raise _fail(path, f"{where}.{bound}", "must be a number")
    for flag in ("required", "column_required", "may_be_absent"):
        if flag in spec and not isinstance(spec[flag], bool):
            raise _fail(path, f"{where}.{flag}", "must be true or false")
    limit = spec.get("max_length")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise _fail(path, f"{where}.max_length", "must be a whole number of characters, at least 1")
    return Column(
        name=name,
        source=str(spec["from"]),
        type=spec["type"],
        description=str(spec.get("description", "")),
        required=spec.get("required", False),
        identifier=spec.get("identifier"),
        format=spec.get("format"),
        min=spec.get("min"),
        max=spec.get("max"),
        allowed=tuple(spec["allowed"]) if "allowed" in spec else None,
        true_values=tuple(str(v) for v in spec.get("true_values", ())),
        false_values=tuple(str(v) for v in spec.get("false_values", ())),
        column_required=spec.get("column_required", False),
        may_be_absent=spec.get("may_be_absent", False),
        max_length=limit,
    )


def load_contract(path: Path) -> Contract:
    """Parse and check one contract file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ContractError(f"{path}: a contract is a mapping of keys ({', '.join(sorted(CONTRACT_KEYS))})")
    unknown = set(doc) - CONTRACT_KEYS
    if unknown:
        raise _fail(path, sorted(unknown)[0], f"unknown key (allowed: {', '.join(sorted(CONTRACT_KEYS))})")
    for needed in ("source", "files", "format", "key", "columns"):
        if needed not in doc:
            raise _fail(path, needed, "missing")
    if doc["format"] not in FORMATS:
        raise _fail(path, "format", f"unknown format {doc['format']!r} (expected one of {', '.join(FORMATS)})")
    encoding = doc.get("encoding", "utf-8")
    try:
        "".encode(encoding)
    except LookupError as exc:
        raise _fail(path, "encoding", f"unknown encoding {encoding!r}") from exc
    if not isinstance(doc["columns"], dict) or not doc["columns"]:
        raise _fail(path, "columns", "must map canonical column names to their specs")
    columns = tuple(_column(path, name, spec) for name, spec in doc["columns"].items())
    key = tuple(doc["key"]) if isinstance(doc["key"], list) else (doc["key"],)
    names = {c.name for c in columns}
    for k in key:
        if k not in names:
            raise _fail(path, "key", f"{k!r} is not one of the columns")
    sources = [c.source for c in columns]
    if len(set(sources)) != len(sources):
        raise _fail(path, "columns", "two columns read the same header")
    freshness = doc.get("freshness_hours", DEFAULT_FRESHNESS_HOURS)
    is_hours = isinstance(freshness, int | float) and not isinstance(freshness, bool) and freshness > 0
    if freshness is not None and not is_hours:
        raise _fail(path, "freshness_hours", f"must be a positive number of hours, or null (got {freshness!r})")
    return Contract(
        source=str(doc["source"]),
        description=str(doc.get("description", "")).strip(),
        files=str(doc["files"]),
        format=doc["format"],
        encoding=encoding,
        key=key,
        columns=columns,
        path=path,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        freshness_hours=None if freshness is None else float(freshness),
    )


def load_contracts(folder: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract in a folder, by source name."""
    contracts = {}
    for path in sorted(Path(folder).glob("*.yml")):
        contract = load_contract(path)
        if contract.source in contracts:
            raise _fail(path, "source", f"{contract.source!r} is already defined in another contract")
        contracts[contract.source] = contract
    return contracts
