"""Run the benchmarks: ``python -m bench.run`` (full, writes bench/RESULTS.md) or ``--quick`` (CI).

Targets are reported, never asserted: a benchmark fails only when it crashes or when a result is
wrong (records lost, failures not accounted for).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from bench.benchmarks import ALL
from bench.common import machine

KEPT_MARKER = "<!-- written by hand below; bench.run keeps it -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (what CI runs)")
    parser.add_argument("--only", action="append", choices=[name for name, _ in ALL], help="run only these")
    parser.add_argument("--output", default=None, help="write the markdown here (default: bench/RESULTS.md "
                                                       "for a full run, nothing for --quick)")
    args = parser.parse_args(argv)
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    parts = [
        "# Benchmark results", "",
        f"- command: `{command}` (also `make bench`)",
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        "- the sandbox runs in its own process on loopback; the client numbers are the benchmark process's.", "",
    ]
    for name, bench in ALL:
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        section = bench(args.quick)
        print(section, flush=True)
        parts += [section, f"_{name}: {time.perf_counter() - started:.0f} s_", ""]
    output = args.output or (None if args.quick else str(Path(__file__).with_name("RESULTS.md")))
    if output:
        # The hand-written reading of the figures (after KEPT_MARKER) survives a new run.
        previous = Path(output).read_text() if Path(output).exists() else ""
        if KEPT_MARKER in previous:
            parts += ["", KEPT_MARKER + previous.split(KEPT_MARKER, 1)[1]]
        Path(output).write_text("\n".join(parts))
        print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
