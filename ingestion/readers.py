"""Read one landing file through its contract: good rows, typed, and rejected rows with a reason.

The fast path hands the whole file to polars; small CSV files that share a header go to it
together (`read_text_files`). In JSON lines, lines not shaped like an object (cut off) are found
on the bytes and rejected, and the rest parsed in one go. Only a file polars refuses (a CSV row
with too many fields, a line shaped like an object that is not JSON) is read again line by line,
so that the bad lines go to the rejects and the rest still loads. A file that cannot be read at
all raises `FileError`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import polars as pl

from common.errors import UserError
from ingestion.contracts import Column, Contract

LINE = "_line_number"  # the line of the file a row came from, so a user can open it there
REJECT_SCHEMA = {LINE: pl.Int64, "column_name": pl.String, "reason": pl.String, "record": pl.String}
LOCAL_TZ = "Asia/Shanghai"  # every *_at column in the warehouse is China wall-clock time


class FileError(UserError):
    """The file cannot be read at all; the message names the file and the problem."""


def read_file(path: Path, contract: Contract, data: bytes | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply a contract to one file. Returns (good rows, rejected rows)."""
    rows, rejects = read_text_rows(path, contract, data)
    good, bad = apply_contract(rows, contract)
    return good, pl.concat([rejects, bad])


def read_text_rows(path: Path, contract: Contract, data: bytes | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The file's rows as text under the file's own column names, and the lines that are not
    rows at all. Many files' text rows can be typed together by `apply_contract`."""
    path = Path(path)
    data = path.read_bytes() if data is None else data
    if contract.format == "parquet":
        text_rows, rejects = _parquet_rows(path, data), EMPTY_REJECTS
    else:
        buf = _decode(path, data, contract.encoding)
        if contract.format == "csv":
            text_rows, rejects = _csv_rows(path, buf, contract)
        else:
            text_rows, rejects = _jsonl_rows(path, buf, contract)
    _check_columns(path, text_rows, contract)
    return _contract_columns(text_rows, contract), rejects


def read_text_files(
    files: list[tuple[Path, bytes]], contract: Contract
) -> list[tuple[pl.DataFrame, pl.DataFrame] | FileError | OSError]:
    """`read_text_rows` of many files, in their order: each file's (text rows, unreadable lines),
    or the error that keeps it from loading. CSV files that share their header line are parsed
    together, as one file: polars' start-up per file would cost more than the parsing of a
    small one (a store's POS export of a day holds a few hundred rows)."""
    found: dict[int, tuple[pl.DataFrame, pl.DataFrame]] = {}
    if contract.format == "csv" and len(files) > 1:
        found = _csv_files_together(files, contract)
    read: list = []
    for number, (path, data) in enumerate(files):
        if number in found:
            read.append(found[number])
            continue
        try:
            read.append(read_text_rows(path, contract, data))
        except (FileError, OSError) as exc:
            read.append(exc)
    return read


def missing_columns(rows: pl.DataFrame, contract: Contract) -> list[str]:
    """The contract's columns (by their name in the file) that a file's text rows lack, but for
    those the source leaves out when they have no value (`may_be_absent`)."""
    return [c.source for c in contract.columns if c.source not in rows.columns and not c.may_be_absent]


EMPTY_REJECTS = pl.DataFrame(schema=REJECT_SCHEMA)  # polars frames are not changed in place: one serves every file


def _decode(path: Path, data: bytes, encoding: str) -> bytes:
    """UTF-8 bytes for polars; a file in the wrong encoding fails here, naming the byte."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileError(
            f"{path}: not valid {encoding} at byte {exc.start} ({exc.reason}); "
            f"the contract expects {encoding}, is the file in another encoding?"
        ) from exc
    return data if encoding.replace("-", "").lower() == "utf8" else text.encode("utf-8")


def _last_line_cut(buf: bytes) -> bytes | None:
    """The last line, if the file does not end with a line break (it may be cut short)."""
    if not buf or buf.endswith(b"\n"):
        return None
    return buf[buf.rfind(b"\n") + 1 :]


def _numbered(first: int, count: int) -> pl.Series:
    """Line numbers from `first` on, for `count` rows (built eagerly: this runs once per file,
    and a landing folder may hold thousands of small files)."""
    return pl.int_range(first, first + count, dtype=pl.Int64, eager=True).alias(LINE)


# ---- CSV ------------------------------------------------------------------------------------
def _csv_rows(path: Path, buf: bytes, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    if not buf.strip():
        raise FileError(f"{path}: the file is empty (not even a header line)")
    header = next(csv.reader(io.StringIO(buf[: buf.find(b"\n") if b"\n" in buf else len(buf)].decode())))
    last = _last_line_cut(buf)
    if last is not None and b"\n" in buf:
        fields = next(csv.reader(io.StringIO(last.decode())), [])
        if len(fields) != len(header):
            raise FileError(
                f"{path}: truncated: the last line has {len(fields)} of {len(header)} fields "
                "and no line break (was the upload cut off?)"
            )
    try:
        df = pl.read_csv(buf, infer_schema=False, has_header=True, raise_if_empty=False)
    except pl.exceptions.ComputeError:
        return _csv_rows_by_line(path, buf, header)
    lines = buf.count(b"\n") + (last is not None) - 1  # lines after the header
    if lines == df.height:  # one record per line: the row index is the line number
        return df.hstack([_numbered(2, df.height)]), EMPTY_REJECTS
    # a quoted field holds a line break (or blank lines were skipped): find where each record starts
    starts = [line for line, row in _csv_records(buf) if row]
    if len(starts) != df.height:
        return _csv_rows_by_line(path, buf, header)
    return df.with_columns(pl.Series(LINE, starts, dtype=pl.Int64)), EMPTY_REJECTS


def _csv_files_together(files: list[tuple[Path, bytes]], contract: Contract) -> dict[int, tuple]:
    """The files (by their place in `files`) whose rows one parse of their concatenation gives
    line for line: those with the first file's header line that end with a line break. A record
    never spans files then, and as no file has more records than lines, equal totals mean every
    file has a record per line, so each file's rows are its slice. {} when the parse fails or the
    counts differ (a quoted line break, a row with a field too many): each file is then read on
    its own, where the one at fault is found."""
    header, numbers, bodies, lines = None, [], [], []
    for number, (path, data) in enumerate(files):
        try:
            buf = _decode(path, data, contract.encoding)
        except FileError:
            continue
        head = buf[: buf.find(b"\n") + 1]
        header = header or head
        if head and head == header and buf.endswith(b"\n"):
            numbers.append(number)
            bodies.append(buf[len(head) :])
            lines.append(bodies[-1].count(b"\n"))
    if len(numbers) < 2:
        return {}
    try:
        df = pl.read_csv(header + b"".join(bodies), infer_schema=False, has_header=True, raise_if_empty=False)
    except pl.exceptions.ComputeError:
        return {}
    if df.height != sum(lines):
        return {}
    starts = np.cumsum([0, *lines[:-1]])
    line = np.arange(df.height) - np.repeat(starts, lines) + 2  # the header is line 1 of every file
    df = _contract_columns(df.hstack([pl.Series(LINE, line, dtype=pl.Int64)]), contract)
    found = {}
    for number, start, count in zip(numbers, starts, lines, strict=True):
        rows = df.slice(int(start), count)
        try:
            _check_columns(files[number][0], rows, contract)
        except FileError:
            continue  # read again on its own, and refused there
        found[number] = rows, EMPTY_REJECTS
    return found


def _csv_records(buf: bytes):
    """(the line a record starts at, its fields) for every record after the header, counting
    lines as a text editor does, also when a quoted field holds a line break."""
    reader = csv.reader(io.StringIO(buf.decode(), newline=""))
    next(reader)
    end = reader.line_num
    for row in reader:
        yield end + 1, row
        end = reader.line_num


def _csv_rows_by_line(path: Path, buf: bytes, header: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Slow path for a CSV polars refused: rows with the wrong number of fields are rejected."""
    good, lines, rejects = [], [], []
    for line, row in _csv_records(buf):
        if not row:
            continue
        if len(row) == len(header):
            good.append([v if v != "" else None for v in row])
            lines.append(line)
        else:
            rejects.append(
                {
                    LINE: line,
                    "column_name": None,
                    "reason": f"{len(row)} fields where the header has {len(header)}",
                    "record": json.dumps([v[:KEPT_CHARS] for v in row], ensure_ascii=False),
                }
            )
    df = pl.DataFrame(good, schema={h: pl.String for h in header}, orient="row")
    df = df.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
    return df, pl.DataFrame(rejects, schema=REJECT_SCHEMA)


# ---- JSON lines -----------------------------------------------------------------------------
def _jsonl_rows(path: Path, buf: bytes, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    schema = {c.source: pl.String for c in contract.columns}
    last = _last_line_cut(buf)
    if last is not None:
        try:
            json.loads(last)
        except ValueError as exc:
            raise FileError(
                f"{path}: truncated: the last line is not complete JSON and has no line break (was the upload cut off?)"
            ) from exc
    rows, rejects = _jsonl_objects(buf, schema)
    absent = [key for key in schema if rows[key].null_count() == rows.height and not _mentions_key(buf, key)]
    return rows.drop(absent), rejects


def _jsonl_objects(buf: bytes, schema: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The lines shaped like an object ({...}) parsed in one go, and the others but blank ones
    rejected (a cut-off line, say). Where the lines are is found on the bytes, so only the few
    odd lines are looked at one by one, and the rows parsed are the file's own bytes, copied
    only around a rejected line. When polars refuses a shaped line (not JSON after all), every
    shaped line is checked on its own and the ones that are not JSON are rejected too."""
    data = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(data == ord("\n"))
    ends = newlines if buf.endswith(b"\n") else np.append(newlines, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    stops = ends.copy()  # a line's end, before its \r\n or \n
    crlf = (ends > starts) & (data[np.maximum(ends - 1, 0)] == ord("\r")) if len(buf) else ends > starts
    stops[crlf] -= 1
    shaped = np.zeros(len(starts), dtype=bool)
    filled = stops > starts
    shaped[filled] = (data[starts[filled]] == ord("{")) & (data[stops[filled] - 1] == ord("}"))
    rejected = []  # line numbers, from 0
    for line in np.flatnonzero(~shaped):  # blank, padded with spaces, or not an object
        text = buf[starts[line] : stops[line]].strip()
        if text.startswith(b"{") and text.endswith(b"}"):
            shaped[line] = True
        elif text:
            rejected.append(line)
    kept = np.flatnonzero(shaped)
    try:
        rows = _parse_lines(buf, starts, stops, kept, schema)
    except pl.exceptions.ComputeError:  # the rare slow path: which shaped line is not JSON
        texts = pl.Series([buf[starts[line] : stops[line]].decode() for line in kept], dtype=pl.String)
        valid = texts.str.json_path_match("$").is_not_null().to_numpy()
        rejected = sorted([*rejected, *kept[~valid]])
        kept = kept[valid]
        rows = _parse_lines(buf, starts, stops, kept, schema)
    record = [buf[starts[line] : stops[line]].decode(errors="replace")[:2000] for line in rejected]
    rejects = pl.DataFrame(
        {
            LINE: [int(line) + 1 for line in rejected],
            "column_name": [None] * len(rejected),
            "reason": ["not a JSON object (malformed or cut-off line)"] * len(rejected),
            "record": record,
        },
        schema=REJECT_SCHEMA,
    )
    return rows.hstack([pl.Series(LINE, kept + 1, dtype=pl.Int64)]), rejects


def _parse_lines(buf: bytes, starts: np.ndarray, stops: np.ndarray, kept: np.ndarray, schema: dict) -> pl.DataFrame:
    """The `kept` lines of a JSON-lines buffer parsed in one go: the file itself when it keeps
    every line, else its runs of kept lines joined. Raises polars' ComputeError on a line that
    is not JSON."""
    if len(kept) == len(starts):
        rows = pl.read_ndjson(buf, schema=schema)
    elif len(kept):
        breaks = np.flatnonzero(np.diff(kept) != 1)  # runs of kept lines, between the others
        firsts, lasts = kept[np.r_[0, breaks + 1]], kept[np.r_[breaks, len(kept) - 1]]
        view = memoryview(buf)  # the runs are copied once, into the joined bytes
        joined = b"\n".join(view[starts[a] : stops[b]] for a, b in zip(firsts, lasts, strict=True))
        rows = pl.read_ndjson(joined, schema=schema)
    else:
        rows = pl.DataFrame(schema=schema)
    if rows.height != len(kept):
        raise pl.exceptions.ComputeError("a line held more or less than one object")
    return rows


def _mentions_key(buf: bytes, key: str) -> bool:
    """Whether any line could carry the key (JSON has no header: a key no line names is a
    column missing from the file)."""
    return any(form.encode() in buf for form in {json.dumps(key), json.dumps(key, ensure_ascii=False)})


# ---- Parquet --------------------------------------------------------------------------------
def _parquet_rows(path: Path, data: bytes) -> pl.DataFrame:
    try:
        df = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several kinds for a damaged file
        raise FileError(f"{path}: not a readable Parquet file ({exc})") from exc
    text = df.select(pl.all().cast(pl.String))
    return text.hstack([_numbered(1, text.height)])


# ---- contract -------------------------------------------------------------------------------
def _contract_columns(rows: pl.DataFrame, contract: Contract) -> pl.DataFrame:
    """The contract's columns a file has, in the contract's order, then the line number."""
    keep = [c.source for c in contract.columns if c.source in rows.columns] + [LINE]
    return rows if rows.columns == keep else rows.select(keep)


def _check_columns(path: Path, rows: pl.DataFrame, contract: Contract) -> None:
    """A file without a required column (a required value, or `column_required`) cannot be
    loaded at all. In JSON lines, a required key that no line carries is a missing column."""
    missing = [
        c.source
        for c in contract.required_in_file
        if c.source not in rows.columns or (c.required and rows.height and rows[c.source].null_count() == rows.height)
    ]
    if missing:
        found = ", ".join(c for c in rows.columns if c != LINE)
        raise FileError(
            f"{path}: missing required column(s) {', '.join(missing)} (the file has: {found}); "
            f"see the 'from' keys in {contract.path.name}"
        )


def _parsed(column: Column) -> pl.Expr:
    """The typed value of one column, null where the text does not parse."""
    raw = pl.col(column.source)
    text = raw.str.strip_chars()
    kind = column.type
    if kind == "string":
        return raw
    if kind == "json":
        return pl.when(text.str.contains(r"^[\[{]")).then(text)
    if kind == "integer":
        return text.cast(pl.Int64, strict=False)
    if kind == "decimal":
        return text.cast(pl.Decimal(18, 2), strict=False)
    if kind == "boolean":
        return (
            pl.when(text.is_in(list(column.true_values)))
            .then(True)
            .when(text.is_in(list(column.false_values)))
            .then(False)
        )
    if kind == "date":
        return text.str.to_date(column.format, strict=False)
    if kind == "epoch_seconds":
        utc = pl.from_epoch(text.cast(pl.Int64, strict=False), time_unit="s").dt.replace_time_zone("UTC")
        return utc.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None).dt.cast_time_unit("us")
    parsed = text.str.to_datetime(column.format, strict=False, time_unit="us")
    if "%z" in column.format:
        parsed = parsed.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
    return parsed


SHOWN_CHARS = 100  # of a bad value, in a reject's reason
KEPT_CHARS = 1_000  # of each value, in a reject's record


def _problems(column: Column, value: pl.Expr) -> list[tuple[pl.Expr, pl.Expr]]:
    """(condition, reason) pairs that reject a row because of this column."""
    raw = pl.col(column.source)
    shown = raw.str.slice(0, SHOWN_CHARS)
    label = f"{column.name} ({column.source})" if column.name != column.source else column.name
    out = [
        (
            raw.is_not_null() & value.is_null(),
            pl.format(
                f"{label}: '{{}}' is not a valid {column.type}"
                + (f" (expected {column.format})" if column.format else ""),
                shown,
            ),
        )
    ]
    if column.longest is not None:
        length = raw.str.len_chars()
        out.append(
            (
                length > column.longest,
                pl.format(f"{label}: {{}} characters, over the maximum of {column.longest}", length),
            )
        )
    if column.required:
        out.append((raw.is_null(), pl.lit(f"{label}: required value missing")))
    if column.min is not None:
        out.append((value < column.min, pl.format(f"{label}: {{}} is below the minimum {column.min}", shown)))
    if column.max is not None:
        out.append((value > column.max, pl.format(f"{label}: {{}} is above the maximum {column.max}", shown)))
    return out


def apply_contract(rows: pl.DataFrame, contract: Contract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Type text rows under canonical names; rows that break the contract become rejects.
    Columns other than the contract's (say `_source_file`) are carried along. Each column is
    parsed once; the reasons are written for the rejected rows only (few, on real files)."""
    rows = rows.with_columns(
        pl.lit(None, dtype=pl.String).alias(c.source) for c in contract.columns if c.source not in rows.columns
    )
    typed = {c.name: f"_typed {c.name}" for c in contract.columns}  # no source column has a space and this prefix
    rows = rows.with_columns(_parsed(c).alias(typed[c.name]) for c in contract.columns)
    checks = [(cond, reason, c.name) for c in contract.columns for cond, reason in _problems(c, pl.col(typed[c.name]))]
    is_bad = pl.any_horizontal([cond for cond, _, _ in checks]).fill_null(False)
    flagged = rows.with_columns(_bad=is_bad)
    sources = [c.source for c in contract.columns]
    extra = [c for c in rows.columns if c not in sources and c != LINE and c not in typed.values()]
    good = flagged.filter(~pl.col("_bad")).select(
        [pl.col(typed[c.name]).alias(c.name) for c in contract.columns] + [LINE, *extra]
    )
    rejects = flagged.filter(pl.col("_bad")).select(
        *extra,
        pl.col(LINE),
        pl.coalesce([pl.when(cond).then(pl.lit(name)) for cond, _, name in checks]).alias("column_name"),
        pl.concat_str([pl.when(cond).then(r) for cond, r, _ in checks], separator="; ", ignore_nulls=True).alias(
            "reason"
        ),
        # each value cut to KEPT_CHARS: the line number leads to the whole row in the file
        pl.struct([pl.col(c).str.slice(0, KEPT_CHARS) for c in sources]).struct.json_encode().alias("record"),
    )
    return good, rejects
