#!/usr/bin/env python3
"""Builds the files of Tarn's sample repository (createRepository with
sample_data: true) into assets/sample/.

Input: a Parquet table of GLOBathy lakes (Khazaei et al., 2022, CC BY 4.0)
with columns Hylak_id, Lake_name, Country, Depth_m - the table lakeFS's
sample repository ships as lakes.parquet. Usage:

    .venv/bin/python scripts/sample-data/build.py path/to/globathy-lakes.parquet

Output (all derived from that table, nothing else):
    lakes.parquet                 every lake: hylak_id, name (null when the
                                  lake has none), country, max_depth_m
    data/lakes-by-country.csv     per country: lakes, named lakes, deepest, mean
    images/deepest-lakes.png      a bar chart of the 40 deepest named lakes
    images/lakes-by-country.png   a bar chart of the 25 countries with most lakes
"""

from __future__ import annotations

import collections
import csv
import struct
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[2] / "assets" / "sample"


def png(path: Path, width: int, height: int, pixels) -> None:
    """Writes an RGB PNG; pixels(x, y) -> (r, g, b)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(pixels(x, y))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    )


def bars(path: Path, values: list[float], color: tuple[int, int, int]) -> None:
    """A horizontal-axis bar chart, one bar per value, scaled to the largest."""
    width, height, bar, gap = 16 * len(values) + 20, 240, 12, 4
    top = max(values)

    def pixel(x: int, y: int):
        i, offset = divmod(x - 10, bar + gap)
        if 0 <= i < len(values) and offset < bar:
            h = int((height - 20) * values[i] / top)
            if height - 10 - h <= y < height - 10:
                return color
        if y == height - 10:
            return (60, 60, 60)
        return (250, 250, 247)

    png(path, width, height, pixel)


def main(source: str) -> None:
    rows = pq.read_table(source).to_pylist()
    lakes = [
        {
            "hylak_id": r["Hylak_id"],
            "name": (r["Lake_name"] or "").strip() or None,
            "country": r["Country"],
            "max_depth_m": r["Depth_m"],
        }
        for r in rows
    ]
    table = pa.Table.from_pylist(
        lakes,
        schema=pa.schema(
            [
                ("hylak_id", pa.int64()),
                ("name", pa.string()),
                ("country", pa.string()),
                ("max_depth_m", pa.float64()),
            ]
        ),
    )
    OUT.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, OUT / "lakes.parquet", compression="zstd", compression_level=19)

    by_country = collections.defaultdict(list)
    for lake in lakes:
        by_country[lake["country"]].append(lake)
    (OUT / "data").mkdir(exist_ok=True)
    with open(OUT / "data" / "lakes-by-country.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["country", "lakes", "named_lakes", "deepest_m", "mean_max_depth_m"])
        for country, group in sorted(by_country.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            depths = [lake["max_depth_m"] for lake in group]
            w.writerow(
                [
                    country,
                    len(group),
                    sum(1 for lake in group if lake["name"]),
                    max(depths),
                    round(sum(depths) / len(depths), 2),
                ]
            )
    named = sorted((lake for lake in lakes if lake["name"]), key=lambda lake: -lake["max_depth_m"])
    bars(OUT / "images" / "deepest-lakes.png", [lake["max_depth_m"] for lake in named[:40]], (31, 94, 140))
    counts = sorted((len(g) for g in by_country.values()), reverse=True)[:25]
    bars(OUT / "images" / "lakes-by-country.png", [c ** 0.5 for c in counts], (46, 139, 87))


if __name__ == "__main__":
    main(sys.argv[1])
