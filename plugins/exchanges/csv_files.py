"""Market files on disk: finding them, reading them fast, and saying exactly what is wrong.

Formats (those of ``../shared/data``, see its SOURCES.md):

* OHLCV: ``<SYMBOL>_<timeframe>.csv[.gz]`` with header ``ts_ms,open,high,low,close,volume``;
  ``ts_ms`` is the bar's open time (Unix ms, UTC), rows strictly ascending.
* Mark price: ``<SYMBOL>_mark_<timeframe>.csv[.gz]``, OHLCV columns (volume may be empty).
* Funding: ``<SYMBOL>_funding*.csv[.gz]`` with header ``ts_ms,funding_rate``. Binance's few ms
  of jitter are rounded to the minute; several files of one symbol are merged.
* Tiers: OKX position tiers as CSV (``inst_family,tier,min_sz_contracts,...``, sizes in
  contracts) or Binance leverage brackets as ``.json[.gz]`` (sizes in USDT notional).

Reading is ``np.loadtxt`` on the whole text (about 0.2 s for 100k rows); only when that fails
is the file walked row by row, to name the first bad row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.types import StatSeries, Tier
from plugins.exchanges.errors import MarketError
from plugins.exchanges.source import Candles
from plugins.exchanges.symbols import base_of

OHLCV_COLUMNS = ("ts_ms", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS = ("ts_ms", "funding_rate")
OKX_TIER_COLUMNS = ("inst_family", "tier", "min_sz_contracts", "max_sz_contracts", "mmr")
MINUTE_MS = 60_000
_SUFFIXES = (".csv.gz", ".csv")


class CsvFormatError(MarketError, ValueError):
    """A market file that cannot be used; the message names the file and the row."""

    def __init__(self, path: Path | str, problem: str, row: int | None = None):
        self.path = Path(path)
        self.row = row
        where = f"{self.path.name}, row {row} (line {row + 1})" if row is not None else \
            self.path.name
        super().__init__(f"{where}: {problem}  [{self.path}]")


def _open_text(path: Path) -> str:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
                return f.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise CsvFormatError(path, f"cannot be read ({e})") from e


def _strip_suffix(name: str) -> str | None:
    for s in _SUFFIXES:
        if name.endswith(s):
            return name[: -len(s)]
    return None


# --- discovery -----------------------------------------------------------------------------


def discover_ohlcv(data_dir: Path | str, timeframe: str) -> dict[str, Path]:
    """``{file symbol: path}`` for every ``<SYMBOL>_<timeframe>.csv[.gz]`` in ``data_dir``.

    When a symbol has both a ``.csv`` and a ``.csv.gz``, the plain ``.csv`` wins.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise MarketError(f"CSV data folder {folder} does not exist")
    tail = f"_{timeframe}"
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        stem = _strip_suffix(p.name)
        if stem is None or not stem.endswith(tail) or not p.is_file():
            continue
        sym = stem[: -len(tail)]
        if sym and (sym not in found or p.name.endswith(".csv")):
            found[sym] = p
    return found


def discover_funding(funding_dir: Path | str) -> dict[str, list[Path]]:
    """``{base: [paths]}`` for every ``<SYMBOL>_funding*.csv[.gz]`` (several per base merge)."""
    folder = Path(funding_dir)
    if not folder.is_dir():
        raise MarketError(f"funding folder {folder} does not exist")
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        stem = _strip_suffix(p.name)
        if stem is None or "_funding" not in stem or not p.is_file():
            continue
        sym = stem.split("_funding", 1)[0]
        if sym:
            found.setdefault(base_of(sym), []).append(p)
    return found


def discover_mark(mark_dir: Path | str) -> dict[str, tuple[Path, str]]:
    """``{base: (path, timeframe)}`` for every ``<SYMBOL>_mark_<timeframe>.csv[.gz]``."""
    folder = Path(mark_dir)
    if not folder.is_dir():
        raise MarketError(f"mark-price folder {folder} does not exist")
    found: dict[str, tuple[Path, str]] = {}
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        stem = _strip_suffix(p.name)
        if stem is None or "_mark_" not in stem or not p.is_file():
            continue
        sym, _, tf = stem.rpartition("_mark_")
        if sym and tf and (base_of(sym) not in found or p.name.endswith(".csv")):
            found[base_of(sym)] = (p, tf)
    return found


# --- numeric tables ------------------------------------------------------------------------


def _slow_parse(path: Path, lines: list[str], ncols: int) -> np.ndarray:
    """Row-by-row parse that names the first bad row; an empty field is NaN."""
    out = np.empty((len(lines), ncols))
    for i, row in enumerate(csv.reader(lines)):
        if len(row) != ncols:
            raise CsvFormatError(path, f"has {len(row)} fields, expected {ncols}", i + 1)
        for j, cell in enumerate(row):
            cell = cell.strip()
            if not cell:
                out[i, j] = np.nan
                continue
            try:
                out[i, j] = float(cell)
            except ValueError:
                raise CsvFormatError(path, f"{cell!r} is not a number (column {j + 1})",
                                     i + 1) from None
    return out


def read_table(path: Path | str, columns: Sequence[str]) -> np.ndarray:
    """The ``columns`` of a numeric CSV as a float64 (rows, len(columns)) array.

    The header must contain every column (extra columns are ignored, order is free); data rows
    must be numeric (an empty cell reads as NaN, as in mark-price files without volume).
    Row numbers in errors count data rows from 1 (line = row + 1, after the header).
    """
    path = Path(path)
    text = _open_text(path)
    header, _, body = text.partition("\n")
    names = [h.strip().lower() for h in header.strip().split(",")]
    missing = [c for c in columns if c not in names]
    if missing:
        raise CsvFormatError(path, f"missing column(s) {', '.join(missing)}; header is "
                                   f"{header.strip()!r}, expected {','.join(columns)}")
    use = [names.index(c) for c in columns]
    if not body.strip():
        return np.zeros((0, len(columns)))
    try:
        data = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2,
                          usecols=None if len(use) == len(names) else use)
        if len(use) == len(names):
            data = data[:, use]
    except ValueError:
        lines = [ln for ln in body.splitlines() if ln.strip()]
        data = _slow_parse(path, lines, len(names))[:, use]
    return data


def _check_times(path: Path, ts: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(ts)):
        row = int(np.flatnonzero(~np.isfinite(ts))[0]) + 1
        raise CsvFormatError(path, "ts_ms is empty", row)
    t = ts.astype(np.int64)
    if np.any(t != ts):
        row = int(np.flatnonzero(t != ts)[0]) + 1
        raise CsvFormatError(path, f"ts_ms {ts[row - 1]!r} is not a whole number of ms", row)
    d = np.diff(t)
    if np.any(d <= 0):
        i = int(np.flatnonzero(d <= 0)[0])
        what = "duplicate timestamp" if d[i] == 0 else "timestamps out of order"
        raise CsvFormatError(path, f"{what}: ts_ms {t[i + 1]} after {t[i]}", i + 2)
    return t


def load_candles(path: Path | str) -> Candles:
    """Validated OHLCV bars of one file."""
    path = Path(path)
    a = read_table(path, OHLCV_COLUMNS)
    t = _check_times(path, a[:, 0])
    cols = [np.ascontiguousarray(a[:, j]) for j in range(1, 6)]
    return Candles(t, *cols)


def load_mark_closes(path: Path | str, bar_ms: int) -> StatSeries:
    """Mark-price closes of one file, stamped at each bar's close (open time + ``bar_ms``)."""
    path = Path(path)
    a = read_table(path, OHLCV_COLUMNS)
    t = _check_times(path, a[:, 0])
    ok = np.isfinite(a[:, 4]) & (a[:, 4] > 0)
    return StatSeries((t[ok] + bar_ms).astype(np.int64), np.ascontiguousarray(a[ok, 4]))


def round_to_minute(ts_ms: np.ndarray) -> np.ndarray:
    """Round ms timestamps to the nearest minute (Binance settles at …08:00:00.005)."""
    return (np.asarray(ts_ms, np.int64) + MINUTE_MS // 2) // MINUTE_MS * MINUTE_MS


def load_funding(paths: Sequence[Path | str]) -> StatSeries:
    """Funding history merged from ``paths``: times rounded to the minute, later files win."""
    times, rates = [], []
    for p in paths:
        p = Path(p)
        a = read_table(p, FUNDING_COLUMNS)
        _check_times(p, a[:, 0])
        times.append(round_to_minute(a[:, 0].astype(np.int64)))
        rates.append(a[:, 1])
    if not times:
        return StatSeries.empty()
    t = np.concatenate(times)
    r = np.concatenate(rates)
    # Stable sort, then keep the last of equal times: a later file overrides an earlier one.
    order = np.argsort(t, kind="stable")
    t, r = t[order], r[order]
    keep = np.append(t[1:] != t[:-1], True)
    return StatSeries(t[keep], r[keep])


# --- tier tables ---------------------------------------------------------------------------


def read_okx_tiers(path: Path | str) -> dict[str, tuple[Tier, ...]]:
    """OKX position tiers ``{base: tiers}``; sizes in contracts (``unit="contracts"``)."""
    path = Path(path)
    rows = list(csv.DictReader(io.StringIO(_open_text(path))))
    if rows and (miss := [c for c in OKX_TIER_COLUMNS if c not in rows[0]]):
        raise CsvFormatError(path, f"missing column(s) {', '.join(miss)}")
    out: dict[str, list[Tier]] = {}
    for i, r in enumerate(rows, start=1):
        try:
            mmr = float(r["mmr"])
            lever = float(r.get("max_lever") or 0) or (1 / float(r["imr"]) if r.get("imr")
                                                        else 1 / (2 * mmr))
            tier = Tier(tier=int(float(r["tier"])), min_size=float(r["min_sz_contracts"]),
                        max_size=float(r["max_sz_contracts"] or math.inf), mmr=mmr,
                        max_leverage=lever, unit="contracts")
        except (TypeError, ValueError, ZeroDivisionError) as e:
            raise CsvFormatError(path, f"bad tier row ({e})", i) from None
        out.setdefault(base_of(r["inst_family"]), []).append(tier)
    return {b: tuple(sorted(ts, key=lambda t: t.tier)) for b, ts in out.items()}


def read_binance_tiers(path: Path | str) -> dict[str, tuple[Tier, ...]]:
    """Binance USDT-M brackets ``{base: tiers}``; sizes in USDT, ``maintenance_amount=cum``."""
    path = Path(path)
    try:
        data = json.loads(_open_text(path))
    except json.JSONDecodeError as e:
        raise CsvFormatError(path, f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise CsvFormatError(path, "expected an object of symbol -> list of brackets")
    out: dict[str, tuple[Tier, ...]] = {}
    for sym, brackets in data.items():
        if not sym.endswith(":USDT"):
            continue
        try:
            tiers = tuple(sorted((Tier(
                tier=int(b["tier"]), min_size=float(b["minNotional"]),
                max_size=float(b["maxNotional"]), mmr=float(b["maintenanceMarginRate"]),
                max_leverage=float(b["maxLeverage"]), unit="notional",
                maintenance_amount=float((b.get("info") or {}).get("cum", 0.0)),
            ) for b in brackets), key=lambda t: t.tier))
        except (KeyError, TypeError, ValueError) as e:
            raise CsvFormatError(path, f"bad bracket for {sym} ({e!r})") from None
        out[base_of(sym.split(":")[0])] = tiers
    return out


def read_tiers(path: Path | str) -> dict[str, tuple[Tier, ...]]:
    """Either tier format, chosen by the file name (``.csv`` OKX, ``.json[.gz]`` Binance)."""
    p = Path(path)
    if not p.is_file():
        raise MarketError(f"tiers file {p} does not exist")
    if re.search(r"\.json(\.gz)?$", p.name):
        return read_binance_tiers(p)
    return read_okx_tiers(p)
