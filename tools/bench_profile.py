"""Where the time goes: a cProfile of one repetition, cut into the pipeline's stages.

cProfile sees the main thread only; the parallel part reads of ``RangeReader`` run in a
pool whose wait shows up in the main thread, inside the stage that asked for the rows.
Each stage is the cumulative time of the functions that make it, so the stages add up
to the total less what falls between them ("other").  cProfile's own overhead inflates
Python-heavy stages (header parsing most of all) more than numpy- or network-bound ones.
"""

from __future__ import annotations

import pstats
from typing import Any

Key = tuple[str, int, str]
H = "handlers/"

#: The pipeline's stages, in the order an object goes through them.
PIPELINE_STAGES = ("resolve", "read headers", "decompress", "thumbnail rows", "reduce", "render", "write", "other")
BASELINE_STAGES = ("download", "open + read data", "zscale", "stretch", "shrink", "encode PNG", "write", "other")


def summarise(profiler: Any, impl: str, wall_s: float, top: int = 8) -> dict[str, Any]:
    stats = pstats.Stats(profiler)
    table: dict[Key, tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    stages = _pipeline_stages(table) if impl == "pipeline" else _baseline_stages(table)
    total = stages.pop("total")
    stages["other"] = max(0.0, total - sum(stages.values()))
    functions = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return {
        "total_s": total,
        "wall_s": wall_s,
        "stages": stages,
        "source_io_s": _cum(table, "handlers/storage/reader.py", "read") if impl == "pipeline" else None,
        "top": [{"function": _name(key), "calls": value[1], "own_s": value[2], "cumulative_s": value[3]}
                for key, value in functions],
    }


def _pipeline_stages(table: dict[Key, tuple[Any, ...]]) -> dict[str, float]:
    """Stages by function name anywhere in handlers/, so that moving a function between modules keeps them."""
    read = _cum(table, H, "extract", "_read")  # the read phase (named _read before handlers/extract.py)
    thumbnail = _cum(table, H, "draw_thumbnail", "_thumbnail")
    rows = _cum(table, H, "read_rows")
    reduce = _cum(table, H, "reduce_image")
    render = _cum(table, H, "render_png")
    decompress = _cum(table, H, "_decompress")
    writes = _cum(table, "handlers/storage/outputs.py", "put", "delete", "children")
    writes_in_read = sum(_cum_from(table, "handlers/storage/outputs.py", name, H, "extract", "_read", "_walk")
                         for name in ("put", "delete"))
    return {
        "total": _cum(table, "handlers/pipeline.py", "process"),
        # The source's first GET (a URI's: it reads a small object whole), the HEAD of the output
        # that tells a re-run of a large object, and the HEAD that checks a large source is still current.
        "resolve": _cum(table, H, "resolve", "is_current")
        + (_cum(table, H, "_already_done") or _cum(table, "handlers/storage/outputs.py", "recorded_source")),
        # Opening the file, parsing each header, describing it (cards, WCS), skipping data units.
        "read headers": max(0.0, read - thumbnail - writes_in_read - decompress),
        "decompress": decompress,
        "thumbnail rows": rows,
        "reduce": max(0.0, reduce - rows) + max(0.0, thumbnail - reduce - render),
        "render": render,
        "write": writes,
    }


def _baseline_stages(table: dict[Key, tuple[Any, ...]]) -> dict[str, float]:
    total = _cum(table, "tools/bench_baseline.py", "process")
    download = _cum(table, "tools/bench_baseline.py", "download")
    puts = _cum(table, "tools/bench_baseline.py", "put")
    thumb = _cum(table, "tools/bench_baseline.py", "thumbnail_png")
    zscale = _cum(table, "astropy/visualization/interval.py", "get_limits")
    shrink = _cum(table, "PIL/Image.py", "thumbnail")
    encode = _cum(table, "PIL/Image.py", "save")
    return {
        "total": total,
        "download": download,
        "open + read data": max(0.0, total - download - puts - thumb),
        "zscale": zscale,
        "stretch": max(0.0, thumb - zscale - shrink - encode),
        "shrink": shrink,
        "encode PNG": encode,
        "write": puts,
    }


def _matches(key: Key, path: str, functions: tuple[str, ...]) -> bool:
    """``path`` is a file's path suffix, or a folder ("handlers/") anywhere in it."""
    if key[2] not in functions:
        return False
    file = key[0].replace("\\", "/")
    return f"/{path}" in file if path.endswith("/") else file.endswith(path)


def _cum(table: dict[Key, tuple[Any, ...]], path: str, *functions: str) -> float:
    return sum(value[3] for key, value in table.items() if _matches(key, path, functions))


def _cum_from(table: dict[Key, tuple[Any, ...]], path: str, function: str, caller_path: str, *callers: str) -> float:
    """Cumulative time of ``function`` spent in calls made by any of ``callers``."""
    total = 0.0
    for key, value in table.items():
        if _matches(key, path, (function,)):
            for caller_key, numbers in value[4].items():
                if _matches(caller_key, caller_path, callers):
                    total += numbers[3]
    return total


def _name(key: Key) -> str:
    path, line, function = key
    if path == "~":
        return function  # a built-in, e.g. <method 'read' of '_io.BufferedReader' objects>
    parts = path.replace("\\", "/").split("/")
    for anchor in ("site-packages", "lib", "work"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor):]
            break
    short = "/".join(parts[-3:])
    return f"{short}:{line}({function})"
