"""The benchmark's results as a console table, ``docs/benchmarks.md``, its chart, and ``docs/profile.md``."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench_plan import REPEAT, ROUNDS, TRACED
from tools.bench_profile import BASELINE_STAGES, PIPELINE_STAGES

MiB = 2**20
STORE_NOTES = {
    "moto": "moto answers every GET, ranged or not, by copying the whole object first: "
            "a ranged read costs there what a download costs.",
    "seaweedfs": "SeaweedFS serves a ranged GET from the chunks that hold the range, as S3 does.",
    "seaweedfs+latency": "SeaweedFS again, with every request of both implementations held 15 ms before it "
                         "is sent (`tools/bench_worker.py`): the round trip from Lambda to S3, which a store "
                         "on loopback leaves out. Only the small files are run here (also as whole "
                         "processes): their cost is requests.",
}
IMPORT_TARGET_S = 0.6
IMPORT_RSS_TARGET_MB = 120


@dataclass(frozen=True)
class Figure:
    """One measured figure of a case, and the target on its ratio (project / baseline), if any."""

    name: str
    unit: str
    value: Callable[[dict[str, Any]], float | None]
    target: tuple[str, float] | None = None  # (">=" or "<=", ratio)
    of_size: bool = False  # the ratio is to the file's size, not to the baseline's figure
    fmt: str = "{:,.3f}"
    impl: str = "pipeline"  # which measurement of the project
    #: The figure of each repetition (timings only), to tell a verdict from noise.
    per_rep: Callable[[dict[str, Any]], list[float]] | None = None


def _wall(m: dict[str, Any]) -> float:
    return m["wall_s"]


def _wall_reps(m: dict[str, Any]) -> list[float]:
    return list(m["times_s"])


def _rate(m: dict[str, Any]) -> float:
    return m["objects"] / m["wall_s"]


def _rate_reps(m: dict[str, Any]) -> list[float]:
    return [m["objects"] / t for t in m["times_s"]]


def _cpu(m: dict[str, Any]) -> float:
    return m["cpu_s"]


def _cpu_reps(m: dict[str, Any]) -> list[float]:
    return list(m["cpu_times_s"])


def _requests_per_file(m: dict[str, Any]) -> float:
    return m["requests"] / m["objects"]


def _peak(m: dict[str, Any]) -> float:
    return m["peak_delta_mib"]


def _bytes(m: dict[str, Any]) -> float:
    return m["bytes_read"] / MiB


def _traced(m: dict[str, Any]) -> float | None:
    return m.get("traced_peak_mib")


def _image_figures(peak_target: float) -> list[Figure]:
    """An image case's figures: wall time (at most the baseline's), peak memory, what was traced and read."""
    return [
        Figure("wall time", "s", _wall, ("<=", 1.0), per_rep=_wall_reps),
        Figure("peak memory", "MiB", _peak, ("<=", peak_target), fmt="{:,.0f}"),
        Figure("traced peak", "MiB", _traced, fmt="{:,.0f}"),
        Figure("bytes read", "MiB", _bytes, fmt="{:,.1f}"),
    ]


FIGURES: dict[str, list[Figure]] = {
    "small": [
        Figure("throughput, SQS batches of 5", "files/s", _rate, (">=", 1.0), fmt="{:,.1f}",
               impl="pipeline_batch", per_rep=_rate_reps),
        Figure("throughput, one at a time", "files/s", _rate, fmt="{:,.1f}", per_rep=_rate_reps),
        # The default direct trigger: one notification an invocation, one object alone.
        Figure("wall time, one at a time, S3 event", "s", _wall, ("<=", 1.0), impl="pipeline_event",
               per_rep=_wall_reps),
        Figure("S3 requests per file", "", _requests_per_file, fmt="{:,.1f}"),
        Figure("S3 requests per file, S3 event", "", _requests_per_file, fmt="{:,.1f}", impl="pipeline_event"),
        Figure("bytes read", "MiB", _bytes, fmt="{:,.2f}"),
        Figure("peak memory", "MiB", _peak, fmt="{:,.0f}"),
    ],
    # Whole processes: `python -m handlers process` against the baseline's loop (tools/bench_process.py).
    "cli": [
        Figure("wall time, whole process", "s", _wall, ("<=", 1.0), impl="cli", per_rep=_wall_reps),
        Figure("CPU time, whole process", "s", _cpu, impl="cli", per_rep=_cpu_reps),
        Figure("S3 requests per file", "", _requests_per_file, fmt="{:,.1f}", impl="cli"),
        Figure("peak RSS", "MiB", lambda m: m["peak_rss_mib"], fmt="{:,.0f}", impl="cli"),
    ],
    "large_image": _image_figures(peak_target=0.2),
    "table": [
        Figure("bytes read", "MiB", _bytes, ("<=", 0.001), of_size=True, fmt="{:,.3f}"),
        Figure("wall time", "s", _wall, ("<=", 0.05), per_rep=_wall_reps),
        Figure("peak memory", "MiB", _peak, fmt="{:,.0f}"),
    ],
    "rice": _image_figures(peak_target=0.5),
    "gzip": _image_figures(peak_target=0.5),
}


@dataclass(frozen=True)
class Row:
    store: str
    case: str
    case_title: str
    figure: Figure
    project: float | None
    baseline: float | None
    ratio: float | None
    met: bool | None
    #: The ratio's range over the repetitions (the project's first quartile over the baseline's
    #: third, and the reverse); a verdict is "borderline" when the target lies within it.
    spread: tuple[float, float] | None = None

    @property
    def borderline(self) -> bool:
        if self.spread is None or self.figure.target is None:
            return False
        return self.spread[0] <= self.figure.target[1] <= self.spread[1]


def rows(report: dict[str, Any]) -> list[Row]:
    titles = {c["name"]: c for c in report["cases"]}
    out = []
    for store, result in report["stores"].items():
        for case, impls in result["cases"].items():
            baseline = impls.get("baseline", {"error": "not run"})
            for figure in FIGURES[case]:
                if figure.impl not in impls:  # not measured on this store
                    continue
                project = impls[figure.impl]
                p = None if "error" in project else figure.value(project)
                b = None if "error" in baseline else figure.value(baseline)
                if figure.of_size:
                    base = titles[case]["size"] / MiB
                    ratio = p / base if p is not None else None
                else:
                    ratio = p / b if p is not None and b else None
                met = None
                if figure.target and ratio is not None:
                    op, limit = figure.target
                    met = ratio >= limit if op == ">=" else ratio <= limit
                elif figure.target:
                    met = False
                spread = None
                if figure.per_rep and p is not None and b is not None:
                    (p1, p3), (b1, b3) = _quartiles(figure.per_rep(project)), _quartiles(figure.per_rep(baseline))
                    spread = (p1 / b3, p3 / b1)
                out.append(Row(store, case, titles[case]["title"], figure, p, b, ratio, met, spread))
    return out


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2g}×" if value < 0.01 else f"{value:.3f}×" if value < 1 else f"{value:.2f}×"


def _target(figure: Figure) -> str:
    if not figure.target:
        return ""
    op, limit = figure.target
    text = f"{'≥' if op == '>=' else '≤'} {limit:g}×"
    return f"{text} size" if figure.of_size else text


def _verdict(met: bool | None, borderline: bool = False) -> str:
    text = "" if met is None else ("met" if met else "MISSED")
    return f"{text} (borderline)" if text and borderline else text


def _spread(row: Row) -> str:
    return "" if row.spread is None else f"{_ratio(row.spread[0])}–{_ratio(row.spread[1])}"


def console_table(report: dict[str, Any]) -> str:
    header = (f"{'store':<10} {'case':<32} {'figure':<22} {'project':>12} {'baseline':>12} {'ratio':>10} "
              f"{'target':>12}  result")
    lines = [header, "-" * len(header)]
    for row in rows(report):
        unit = f" ({row.figure.unit})" if row.figure.unit else ""
        lines.append(
            f"{row.store:<10} {row.case_title:<32} {(row.figure.name + unit):<22} "
            f"{_num(row.project, row.figure.fmt):>12} {_num(row.baseline, row.figure.fmt):>12} "
            f"{_ratio(row.ratio):>10} {_target(row.figure):>12}  {_verdict(row.met, row.borderline)}"
        )
    imports = report["imports"]
    lines.append("")
    lines.append(f"import handlers.ingest: {imports['import_s']:.3f} s (target ≤ {IMPORT_TARGET_S} s: "
                 f"{_verdict(imports['import_s'] <= IMPORT_TARGET_S)}); RSS right after: "
                 f"{imports['rss_mib'] * MiB / 1e6:.0f} MB (target ≤ {IMPORT_RSS_TARGET_MB} MB: "
                 f"{_verdict(imports['rss_mib'] * MiB / 1e6 <= IMPORT_RSS_TARGET_MB)})")
    return "\n".join(lines)


def write_docs(report: dict[str, Any], docs: Path) -> list[Path]:
    docs.mkdir(parents=True, exist_ok=True)
    chart = docs / "benchmarks.png"
    draw_chart(report, chart)
    markdown = docs / "benchmarks.md"
    markdown.write_text(benchmarks_markdown(report, chart.name))
    profile = docs / "profile.md"
    profile.write_text(profile_markdown(report))
    raw = docs / "benchmarks.json"  # every measurement, for other analyses (profiles left out)
    raw.write_text(json.dumps(_without_profiles(report), indent=1) + "\n")
    return [markdown, chart, profile, raw]


def _without_profiles(report: dict[str, Any]) -> dict[str, Any]:
    stores = {
        name: {**store, "cases": {case: {impl: {k: v for k, v in m.items() if k != "profile"}
                                         for impl, m in impls.items()}
                                  for case, impls in store["cases"].items()}}
        for name, store in report["stores"].items()
    }
    return {**report, "stores": stores}


# ---------------------------------------------------------------- benchmarks.md


def benchmarks_markdown(report: dict[str, Any], chart_name: str) -> str:
    all_rows = rows(report)
    stores = list(report["stores"])
    out: list[str] = []
    w = out.append
    w("# Benchmarks\n")
    w("*Generated by `make bench` (`python -m tools.bench`); do not edit by hand: run it again.*\n")
    if report.get("quick"):
        w("> **A `--quick` run: small inputs, for checking the bench itself. The targets are about the full sizes.**\n")
    w(f"Run {report['started']} on {_machine_line(report['machine'])}; the whole run took "
      f"{report['duration_s'] / 60:.1f} min.\n")
    w("This project's pipeline (`handlers.pipeline.process`: ranged reads, lazy astropy, row blocks "
      "reduced as they arrive) against the **baseline** a user writes first (`tools/bench_baseline.py`: "
      "`get_object().read()` of the whole object, `fits.open` on the bytes (through `gzip.GzipFile` "
      "when gzipped), every HDU's `.data`, "
      "`ZScaleInterval` on the full array, Pillow `thumbnail` to 512, PNG and header JSON written to "
      "the output bucket), on the same inputs, against the same S3 server, in the same run.\n")

    w("## Targets\n")
    w("| target | " + " | ".join(report["stores"][s]["label"] for s in stores) + " |")
    w("|---|" + "---|" * len(stores))
    for case, figures in FIGURES.items():
        for figure in figures:
            if not figure.target:
                continue
            cells = []
            for store in stores:
                row = next((r for r in all_rows if r.store == store and r.case == case and r.figure == figure), None)
                if row is None:
                    cells.append("—")
                else:
                    cell = f"{'✅' if row.met else '❌'} {_ratio(row.ratio)}"
                    if row.borderline:
                        cell += f" (borderline: {_spread(row)})"
                    cells.append(cell)
            title = next(c["title"] for c in report["cases"] if c["name"] == case)
            basis = "of the file's size" if figure.of_size else "of the baseline"
            w(f"| {title}: {figure.name} {_target(figure).replace(' size', '')} {basis} | " + " | ".join(cells) + " |")
    imports = report["imports"]
    rss_mb = imports["rss_mib"] * MiB / 1e6
    w(f"| `import handlers.ingest` ≤ {IMPORT_TARGET_S} s | "
      f"{'✅' if imports['import_s'] <= IMPORT_TARGET_S else '❌'} {imports['import_s']:.3f} s (any store) |"
      + " |" * (len(stores) - 1))
    w(f"| RSS right after that import ≤ {IMPORT_RSS_TARGET_MB} MB | "
      f"{'✅' if rss_mb <= IMPORT_RSS_TARGET_MB else '❌'} {rss_mb:.0f} MB (any store) |" + " |" * (len(stores) - 1))
    w("")
    w(f"![project / baseline, per figure and store]({chart_name})\n")
    w("Each bar is the project's figure divided by the baseline's (the table's bytes read: divided by the "
      "file's size), on a log scale; the black tick is the target; green bars meet it. Timings are "
      "medians; a verdict is marked *borderline* when the target lies within the ratio's interquartile "
      "range over the repetitions (the project's first quartile over the baseline's third, and the "
      "reverse): another run may well say otherwise.\n")

    for store in stores:
        result = report["stores"][store]
        w(f"## Results on {result['label']}\n")
        w(f"{STORE_NOTES.get(store, '')} Inputs uploaded once in {result['upload_s']:.0f} s"
          + (f"; the server's own peak RSS was {result['server']:,.0f} MiB." if result.get("server") else ".")
          + "\n")
        w("| case | figure | project | baseline | project / baseline | interquartile range | target | |")
        w("|---|---|---:|---:|---:|---:|---|---|")
        for row in (r for r in all_rows if r.store == store):
            unit = f" ({row.figure.unit})" if row.figure.unit else ""
            w(f"| {row.case_title} | {row.figure.name}{unit} | {_num(row.project, row.figure.fmt)} | "
              f"{_num(row.baseline, row.figure.fmt)} | {_ratio(row.ratio)} | {_spread(row)} | "
              f"{_target(row.figure)} | {_verdict(row.met, row.borderline)} |")
        w("")
        notes = _missed_notes(report, store, all_rows)
        if notes:
            w("What the measurements say about each target missed here:\n")
            w(notes)
        w(_details(report, store))

    w("## Importing the handler\n")
    w(_imports_section(imports))
    w("## Where the time goes\n")
    w("A cProfile of one more repetition of each case, after the timed ones (profiling slows "
      "Python-heavy code most, so shares matter more than seconds), cut into the pipeline's stages: "
      "**resolve** (the HEADs: the source's, for its size and eTag; its metadata document's, which "
      "recognises a re-run, not sent for a small object announced by a notification, whose "
      "metadata is written on condition that none exists; a large source's again before writing, "
      "to check it is still current: a small one was read whole in one GET of the current "
      "version), **read headers** "
      "(opening, parsing and describing every HDU, skipping data units), **decompress** "
      "(whole-file gzip into the spool), **thumbnail rows** (`ImageHDU.section` "
      "reads, including the ranged GETs and tile decompression), **reduce** (block means), "
      "**render** (ZScale on the reduced image, stretch, PNG), **write** (PUTs, the DELETE of a "
      "stale error record, the LIST of stale thumbnails when an earlier version had some). The "
      "baseline's stages follow it. Top functions by own time: "
      "[profile.md](profile.md).\n")
    for store in stores:
        w(f"### {report['stores'][store]['label']}\n")
        w(_stages_table(report, store, "pipeline", PIPELINE_STAGES))
        w(_stages_table(report, store, "baseline", BASELINE_STAGES))
    w("## Method\n")
    w(_method(report))
    w("## Machine\n")
    w(_machine_section(report["machine"]))
    return "\n".join(out) + "\n"


def _missed_notes(report: dict[str, Any], store: str, all_rows: list[Row]) -> str:
    """Facts, not guesses: requests, bytes and the largest profiled stages of both sides."""
    cases = report["stores"][store]["cases"]
    lines = []
    for row in all_rows:
        if row.store != store or row.met is not False:
            continue
        impls = cases[row.case]
        project, baseline = impls.get(row.figure.impl, {}), impls.get("baseline", {})
        if "error" in project or "error" in baseline:
            lines.append(f"- **{row.case_title}, {row.figure.name}**: a side failed to run "
                         f"({project.get('error') or baseline.get('error')}).")
            continue
        per = " per object" if project["objects"] > 1 else ""
        n = project["objects"]
        facts = (f"the project sent {project['requests'] / n:.1f} S3 requests{per} "
                 f"({project['source_requests'] / n:.1f} to the source, "
                 f"{project['bytes_read'] / n / MiB:,.2f} MiB read), "
                 f"the baseline {baseline['requests'] / n:.1f} ({baseline['source_requests'] / n:.1f}, "
                 f"{baseline['bytes_read'] / n / MiB:,.2f} MiB)")
        if "cpu_s" in project and "cpu_s" in baseline:
            facts += f"; CPU time {project['cpu_s']:.2f} s against {baseline['cpu_s']:.2f} s"
        stages = []
        for impl, label in (("pipeline", "project"), ("baseline", "baseline")):  # only these are profiled
            profile = impls.get(impl, {}).get("profile")
            if profile and profile["total_s"]:
                top = sorted(profile["stages"].items(), key=lambda kv: kv[1], reverse=True)[:2]
                stages.append(f"{label}'s largest stages: " + ", ".join(
                    f"{name} {100 * value / profile['total_s']:.0f}%" for name, value in top))
        if row.figure.name.startswith("peak memory"):
            nan = float("nan")
            facts = (f"peak above rest: project {project['peak_delta_mib']:,.0f} MiB "
                     f"(traced {project.get('traced_peak_mib', nan):,.0f}), baseline "
                     f"{baseline['peak_delta_mib']:,.0f} MiB (traced {baseline.get('traced_peak_mib', nan):,.0f})")
        lines.append(f"- **{row.case_title}, {row.figure.name}** ({_ratio(row.ratio)}, target {_target(row.figure)}): "
                     f"{facts}; " + "; ".join(stages) + ".")
    return "\n".join(lines) + ("\n" if lines else "")


def _machine_line(machine: dict[str, Any]) -> str:
    mem = f"{machine['memory_gib']:.0f} GiB" if machine.get("memory_gib") else "? GiB"
    return f"{machine['cpu']}, {machine['cores']} cores, {mem}, Python {machine['python']}"


def _details(report: dict[str, Any], store: str) -> str:
    lines = ["<details><summary>every measurement</summary>\n",
             "| case | impl | wall (median of reps) | each rep (s) | peak RSS (MiB) | at rest (MiB) | peak − rest | "
             "traced peak | bytes read | source requests | all S3 requests |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    titles = {c["name"]: c["title"] for c in report["cases"]}
    for case, impls in report["stores"][store]["cases"].items():
        for impl, m in impls.items():
            if "error" in m:
                lines.append(f"| {titles[case]} | {impl} | failed: {m['error']} |" + " |" * 8)
                continue
            traced = m.get("traced_peak_mib")
            lines.append(
                f"| {titles[case]} | {impl} | {m['wall_s']:.3f} s | {', '.join(f'{t:.2f}' for t in m['times_s'])} | "
                f"{m['peak_rss_mib']:,.0f} | {m['rest_rss_mib']:,.0f} | {m['peak_delta_mib']:,.0f} | "
                f"{'—' if traced is None else f'{traced:,.0f}'} | {m['bytes_read']:,} | {m['source_requests']:,} | "
                f"{m['requests']:,} |")
    lines.append("\n</details>\n")
    return "\n".join(lines)


def _imports_section(imports: dict[str, Any]) -> str:
    rss_mb = imports["rss_mib"] * MiB / 1e6
    lines = [
        f"`python -X importtime -c \"import handlers.ingest\"`, {imports['runs']} runs: cumulative "
        f"**{imports['import_s']:.3f} s** median (min {imports['import_s_min']:.3f}, max "
        f"{imports['import_s_max']:.3f}; target ≤ {IMPORT_TARGET_S} s). The process's RSS right after "
        f"the import: **{rss_mb:.0f} MB** ({imports['rss_mib']:.0f} MiB; target ≤ {IMPORT_RSS_TARGET_MB} MB), "
        f"of which a bare interpreter is {imports['bare_rss_mib']:.0f} MiB. "
        f"Loaded by the import: {', '.join(f'`{m}`' for m in imports['heavy_loaded']) or 'none of the heavy ones'} "
        "(astropy and Pillow are imported on first use).\n",
        "| imported by `handlers.ingest` | cumulative (ms) | | package | own modules (ms) |",
        "|---|---:|---|---|---:|",
    ]
    children, packages = imports["children"][:10], imports["packages"][:10]
    for i in range(max(len(children), len(packages))):
        c = children[i] if i < len(children) else None
        p = packages[i] if i < len(packages) else None
        lines.append(
            f"| {'`' + c['name'] + '`' if c else ''} | {c['cumulative_us'] / 1000:.0f} | " if c else "| | | ")
        lines[-1] += (f"| `{p['name']}` | {p['self_us'] / 1000:.0f} |" if p else "| | |")
    lines.append("\nLeft: the modules `handlers.ingest` imports itself, each with everything it pulls in "
                 "(a package counts where it is first imported). Right: the time spent running each "
                 "package's own modules, wherever they were imported from (these add up to the total).\n")
    return "\n".join(lines)


def _stages_table(report: dict[str, Any], store: str, impl: str, stages: tuple[str, ...]) -> str:
    titles = {c["name"]: c["title"] for c in report["cases"]}
    cases = report["stores"][store]["cases"]
    lines = [f"**{'project' if impl == 'pipeline' else 'baseline'}** (seconds under cProfile, share of its total)\n",
             "| case | total | " + " | ".join(stages) + " |",
             "|---|---:|" + "---:|" * len(stages)]
    for case, impls in cases.items():
        profile = impls.get(impl, {}).get("profile")
        if not profile:
            continue
        total = profile["total_s"] or 1e-9
        cells = []
        for stage in stages:
            value = profile["stages"].get(stage, 0.0)
            cells.append(f"{value:.3f} ({100 * value / total:.0f}%)" if value >= 0.0005 else "·")
        lines.append(f"| {titles[case]} | {profile['total_s']:.3f} | " + " | ".join(cells) + " |")
    if impl == "pipeline":
        io = [(titles[c], i["pipeline"]["profile"]) for c, i in cases.items() if i.get("pipeline", {}).get("profile")]
        note = "; ".join(f"{t}: {p['source_io_s']:.3f} s" for t, p in io if p.get("source_io_s") is not None)
        lines.append(f"\nTime inside the ranged reader (`RangeReader.read`, all stages): {note}.\n")
    else:
        lines.append("")
    return "\n".join(lines)


def _method(report: dict[str, Any]) -> str:
    """This run's plan; how every run is made and measured is docs/benchmark-method.md, linked."""
    case_lines = "\n".join(
        f"- **{c['title']}** ({c['objects']} object{'s' if c['objects'] > 1 else ''}, "
        f"{c['size'] / MiB:,.1f} MiB): {c['detail']}." for c in report["cases"])
    return f"""How the bench runs and what each figure means: [benchmark-method.md](benchmark-method.md).
This run's inputs:

{case_lines}

Timed repetitions per process: {', '.join(f'{k}: {v}' for k, v in REPEAT.items() if k != 'cli')}; each
(case, implementation) ran in {ROUNDS} processes, the implementations taking turns; one more
`tracemalloc` repetition for {', '.join(sorted(TRACED))}. The whole-process case ran
{REPEAT['cli']} processes of each side, taking turns, after an untimed one of each. Load average
{report['machine'].get('loadavg_start', '?')} at the start of this run, {report.get('loadavg_end', '?')} at its end.
"""


def _machine_section(machine: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {ver}" for name, ver in machine["packages"].items() if ver)
    dirty = " (with uncommitted changes in handlers/)" if machine.get("dirty_handlers") else ""
    return (f"- CPU: {machine['cpu']}, {machine['cores']} cores\n"
            f"- memory: {machine['memory_gib']:.1f} GiB\n"
            f"- OS: {machine['os']}; Python {machine['python']}\n"
            f"- packages: {packages}\n"
            f"- code: commit {machine['commit']}{dirty}\n")


# ---------------------------------------------------------------- profile.md


def profile_markdown(report: dict[str, Any]) -> str:
    titles = {c["name"]: c["title"] for c in report["cases"]}
    out = ["# Where the time goes: top functions\n",
           "*Generated by `make bench` with [benchmarks.md](benchmarks.md); do not edit by hand.*\n",
           "cProfile of one repetition of each case (main thread only: the pipeline's parallel part "
           "reads show as the main thread waiting in `PartStream.read`), functions by own time.\n"]
    for result in report["stores"].values():
        out.append(f"## {result['label']}\n")
        for case, impls in result["cases"].items():
            for impl in ("pipeline", "baseline"):
                profile = impls.get(impl, {}).get("profile")
                if not profile:
                    continue
                out.append(f"### {titles[case]}: {'project' if impl == 'pipeline' else 'baseline'} "
                           f"({profile['total_s']:.3f} s under cProfile)\n")
                out.append("| function | calls | own (s) | cumulative (s) |")
                out.append("|---|---:|---:|---:|")
                for f in profile["top"]:
                    name = f["function"].replace("|", "\\|")
                    out.append(f"| `{name}` | {f['calls']:,} | {f['own_s']:.3f} | {f['cumulative_s']:.3f} |")
                out.append("")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- chart


def draw_chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targeted = [r for r in rows(report) if r.figure.target]
    stores = list(report["stores"])
    labels = list(dict.fromkeys(f"{r.case_title}: {r.figure.name}" for r in targeted))
    fig, axes = plt.subplots(1, len(stores), figsize=(6.2 * len(stores), 0.55 * len(labels) + 1.6),
                             sharey=True, squeeze=False)
    for ax, store in zip(axes[0], stores, strict=True):
        for y, label in enumerate(labels):
            row = next((r for r in targeted if r.store == store and f"{r.case_title}: {r.figure.name}" == label), None)
            if row is None:  # the case is not run on this store
                ax.text(1, y, "not run here", va="center", ha="center", color="#888", fontsize=8)
                continue
            if row.ratio is None:
                ax.text(1, y, "failed", va="center", ha="center", color="#b00")
                continue
            colour = "#2e8b57" if row.met else "#c0392b"
            ax.barh(y, row.ratio - 1.0, left=1.0, color=colour, height=0.6)
            ax.plot([row.ratio], [y], marker="o", markersize=4, color=colour)  # visible even near 1×
            limit = row.figure.target[1]  # type: ignore[index]
            ax.plot([limit, limit], [y - 0.42, y + 0.42], color="black", linewidth=2.2)
            label = _ratio(row.ratio) + (" (borderline)" if row.borderline else "")
            if row.ratio < 1:
                ax.text(row.ratio / 1.3, y, label, va="center", ha="right", fontsize=8)
            else:
                ax.text(row.ratio * 1.3, y, label, va="center", ha="left", fontsize=8)
        ax.axvline(1.0, color="#888", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_xlim(1e-5, 30)
        ax.set_title(report["stores"][store]["label"], fontsize=10)
        ax.set_xlabel("project / baseline (log scale; black tick: target)", fontsize=8)
        ax.grid(axis="x", which="major", color="#ddd", linewidth=0.5)
        ax.set_axisbelow(True)
    axes[0][0].set_yticks(range(len(labels)))
    axes[0][0].set_yticklabels(labels, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle("fits-ingest vs the download-everything baseline (green: target met)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
