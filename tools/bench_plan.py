"""How many times the bench measures each case: read by ``tools.bench`` (which runs the plan)
and ``tools.bench_report`` (which states it in docs/benchmarks.md); neither imports the other for it.

What these numbers are for, and how each figure is measured: docs/benchmark-method.md.
"""

from __future__ import annotations

#: Timed repetitions per case in each round (each is all of the case's objects).  The "cli" case
#: has no rounds: each of its repetitions is a whole process of each implementation, in turns.
REPEAT = {"small": 2, "cli": 6, "large_image": 3, "table": 2, "rice": 3, "gzip": 3}
#: Each (case, implementation) runs in this many fresh processes, the implementations taking
#: turns (project, baseline, baseline, project, ...), so that a drift of the machine's load
#: (other jobs share its 2 cores) falls on both; the median is over every repetition.
ROUNDS = 2
#: Cases whose memory is a target also get a tracemalloc repetition.
TRACED = frozenset({"large_image", "rice", "gzip"})
