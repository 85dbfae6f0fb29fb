"""What a student pays to run each lesson: peak memory, CPU and wall seconds, error cells.

    python bench/classroom.py                      # every lesson, fast mode then full mode
    python bench/classroom.py --mode full 05 07    # chosen lessons (number or file), one mode
    python bench/classroom.py --quick              # smoke test: lesson 00, fast mode

Each lesson runs top to bottom in a fresh ``python3`` kernel (:func:`facelib.classroom.execute`,
the executor of ``make demo``; ``FACELIB_INTERACTIVE=0``, ``FACELIB_FAST`` 1 or 0), while a thread
samples, ten times a second, the resident memory (RSS) of the kernel and its children (every
process this script started) and their CPU time. Rows (``bench/report``; the names are read by
tools outside the suite, keep them): ``lesson NN fast-mode peak MiB`` / ``lesson NN full-mode peak
MiB`` (target ≤ 1.2 GiB), ``lesson NN full-mode s`` (wall, target ≤ 5 minutes), ``lesson NN
fast-mode s``, ``lesson NN <mode>-mode CPU s``, ``lesson NN <mode>-mode error cells`` (target 0) and
``all lessons full-mode s`` (target ≤ 30 minutes, ``make demo``).

Peak memory is robust to other jobs on the machine; wall seconds are not (on 2 shared cores they
read high when another job runs), CPU seconds less so.
"""

from __future__ import annotations

import argparse
import base64
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from report import record  # bench/report.py: this script's folder is on sys.path

from facelib.classroom import default_notebooks, execute

MIB = 1024 * 1024
PEAK_TARGET_MIB = 1.2 * 1024
WALL_TARGET_S = 300.0
ALL_TARGET_S = 1800.0


@dataclass
class LessonCost:
    """One lesson run: peak RSS (MiB) of the kernel and its children, CPU and wall seconds, errors."""

    lesson: str
    mode: str
    peak_mib: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    cells: dict[int, tuple[float, float]] = field(default_factory=dict)  # code cell index → (peak MiB, s)


class Sampler(threading.Thread):
    """Samples the RSS and CPU time of this process's descendants every ``interval`` seconds."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self.cpu = interval, 0, {}
        self.cell_peak = 0  # since the last :meth:`next_cell`
        self._done = threading.Event()

    def sample(self) -> None:
        rss = 0
        for proc in psutil.Process().children(recursive=True):
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    t = proc.cpu_times()
                    self.cpu[proc.pid] = t.user + t.system + t.children_user + t.children_system
            except psutil.Error:  # the process ended between listing and reading
                continue
        self.peak = max(self.peak, rss)
        self.cell_peak = max(self.cell_peak, rss)

    def next_cell(self) -> int:
        """The peak since the previous call (one cell), and start a new one."""
        self.sample()
        peak, self.cell_peak = self.cell_peak, 0
        return peak

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def save_figures(nb, folder: Path, stem: str) -> int:
    """Write every PNG the executed notebook shows as ``folder/STEM_cellI_K.png``; return the count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for i, cell in enumerate(nb.cells):
        for k, out in enumerate(cell.get("outputs", [])):
            png = out.get("data", {}).get("image/png")
            if png:
                (folder / f"{stem}_cell{i:02d}_{k}.png").write_bytes(base64.b64decode(png))
                n += 1
    return n


def run_lesson(path: Path, mode: str, *, figures: Path | None = None, timeout: int = 1800,
               extra_env: dict[str, str] | None = None, echo_cells: bool = False) -> LessonCost:
    """Execute one lesson in a fresh kernel while sampling its memory and CPU."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    env = {"FACELIB_FAST": "1" if mode == "fast" else "0", "FACELIB_INTERACTIVE": "0", "FACELIB_PROGRESS": "0",
           **(extra_env or {})}
    cost = LessonCost(path.name[:2], mode)
    sampler = Sampler()
    sampler.start()
    start = last = time.perf_counter()

    def on_cell(index: int) -> None:
        nonlocal last
        now = time.perf_counter()
        cost.cells[index] = (sampler.next_cell() / MIB, now - last)
        last = now
        if echo_cells:  # as it happens: a run stopped early still shows where it was
            print(f"    lesson {cost.lesson} cell {index:3d}: {cost.cells[index][0]:7.0f} MiB "
                  f"{cost.cells[index][1]:7.1f} s", flush=True)

    try:
        cost.errors = execute(nb, path.parent, env=env, timeout=timeout, on_cell=on_cell)
    finally:
        cost.wall_s = time.perf_counter() - start
        sampler.stop()
    cost.peak_mib, cost.cpu_s = sampler.peak / MIB, sum(sampler.cpu.values())
    if figures is not None:
        save_figures(nb, figures, f"{path.stem}_{mode}")
    return cost


def report(cost: LessonCost) -> None:
    """The bench rows of one lesson run."""
    name = f"lesson {cost.lesson} {cost.mode}-mode"
    record("classroom", f"{name} peak MiB", "≤ 1229 MiB (1.2 GiB)", cost.peak_mib, unit=" MiB",
           ok=cost.peak_mib <= PEAK_TARGET_MIB)
    if cost.mode == "full":
        record("classroom", f"{name} s", "≤ 300 s", cost.wall_s, unit=" s", ok=cost.wall_s <= WALL_TARGET_S)
    else:
        record("classroom", f"{name} s", "info", cost.wall_s, unit=" s")
    record("classroom", f"{name} CPU s", "info", cost.cpu_s, unit=" s")
    record("classroom", f"{name} error cells", "0", len(cost.errors), ok=not cost.errors)
    for e in cost.errors:
        print(f"  lesson {cost.lesson} ({cost.mode}): {e}", file=sys.stderr)


def choose(lessons: list[str]) -> list[Path]:
    """Lesson notebooks by number (``5``, ``05``) or path; all lessons when none is named."""
    every = default_notebooks()
    if not lessons:
        return every
    chosen = []
    for name in lessons:
        if name.endswith(".ipynb"):
            path = Path(name)
        else:
            match = [p for p in every if p.name[:2] == f"{int(name):02d}"] if name.isdigit() else []
            if not match:
                raise SystemExit(f"bench/classroom.py: no lesson {name!r} in notebooks/ (give a number or a path)")
            path = match[0]
        if not path.is_file():
            raise SystemExit(f"bench/classroom.py: {path}: no such notebook")
        chosen.append(path)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or notebook paths (default: every lesson)")
    parser.add_argument("--mode", choices=["fast", "full", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smoke test: lesson 00 in fast mode only")
    parser.add_argument("--figures", type=Path, help="also write every plot as PNG into this folder")
    parser.add_argument("--cells", action="store_true", help="also print each code cell's peak MiB and seconds")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an environment variable for the kernels (e.g. MALLOC_ARENA_MAX=2), repeatable")
    args = parser.parse_args()
    try:
        paths = choose(args.lessons or (["0"] if args.quick else []))
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    if any("=" not in e for e in args.env):
        print(f"bench/classroom.py: --env takes KEY=VALUE; got {args.env}", file=sys.stderr)
        return 2
    extra_env = dict(e.split("=", 1) for e in args.env)
    modes = ["fast"] if args.quick else (["fast", "full"] if args.mode == "both" else [args.mode])
    for mode in modes:
        costs = []
        for path in paths:
            print(f"[classroom] {path.name}, {mode} mode ...", flush=True)
            costs.append(run_lesson(path, mode, figures=args.figures, extra_env=extra_env, echo_cells=args.cells))
            report(costs[-1])
        if mode == "full" and len(paths) == len(default_notebooks()):
            total = sum(c.wall_s for c in costs)
            record("classroom", "all lessons full-mode s", "≤ 1800 s (make demo)", total, unit=" s",
                   ok=total <= ALL_TARGET_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
