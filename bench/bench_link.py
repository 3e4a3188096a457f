"""Benchmark: link the recorded news corpus (1,401 real headlines) into events.

Each run inserts the corpus into a fresh SQLite database (not timed) and times
``link_new_articles``: entities, event-worthiness, clustering and storing. Prints the median
and spread of the runs, the events created, and the machine's load average (the figures are
only comparable at a similar load).

    TRACKER_DATA_DIR=/path/to/data python bench/bench_link.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.runs import DEFAULT_RUNS, Spread, load_average  # noqa: E402
from tests.link.corpus import insert_corpus, read_corpus  # noqa: E402
from tracker.db import Database, migrate  # noqa: E402
from tracker.link.events import link_new_articles  # noqa: E402


def one_run(data_dir: Path) -> tuple[float, int]:
    entries = read_corpus(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        db = Database.connect(url)
        with db.session() as session:
            insert_corpus(session, entries)
        start = time.perf_counter()
        report = link_new_articles(db)
        elapsed = time.perf_counter() - start
        db.dispose()
    return elapsed, report.events_created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    args = parser.parse_args()
    data_dir = Path(os.environ.get("TRACKER_DATA_DIR", REPO.parent / "shared" / "data"))
    print(f"linking {len(read_corpus(data_dir))} recorded headlines; {load_average()}")
    results = [one_run(data_dir) for _ in range(max(args.runs, 1))]
    spread = Spread.of([t for t, _ in results])
    print(f"linking: {spread.seconds()}; events created {results[-1][1]}")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
