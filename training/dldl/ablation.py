"""The ablation study of the paper's Tables 6 and 7, on this project's hardware: every row is
TinyAgeNet at 64 px trained on all age training data (UTKFace + AAF) with one schedule and one
epoch budget, and differs from DLDL-v2 (λ = 1, Δl = 1, seed 0) in one thing only: the method,
λ, Δl or the seed. DLDL-v2 and DLDL get a second seed, so that the report can tell differences
between rows from run-to-run noise.

    training/scripts/ablation.sh                  # the whole study, resumable (env: EPOCHS, EPOCH_SIZE, ROWS, RUNS)
    python3 -m training.dldl.ablation --status    # where each row stands

Each row trains in its own `python3 -m training.dldl.train` process under <runs>/<row>/ (log in
train.log), so its result.json names the exact command. A row is done when its result.json was
written under the current configuration; a row interrupted mid-way resumes from its last.pt
(train.py --resume, at the last finished epoch); a row trained under another configuration (other
budget, other extra options) is moved aside to <runs>/.stale/ and trained again, because resuming
a cosine schedule under a new budget would not give the schedule every other row had.
"""
import argparse
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RUNS = REPO / "runs" / "ablation"
DEFAULT_EPOCHS = 15


@dataclass(frozen=True)
class Row:
    name: str  # the folder under the runs directory
    label: str  # how the report names it
    options: tuple[str, ...] = ()  # train.py options beyond the common ones
    seed: int = 0
    tags: dict = field(default_factory=dict, compare=False, hash=False)  # method / lam / delta, for the report's tables


def _row(name, label, method, seed=0, lam=1.0, delta=1.0, extra=()):
    return Row(name, label, ("--method", method, *extra), seed, {"method": method, "lam": lam, "delta": delta})


# In the order they train: DLDL-v2 and DLDL with both seeds first, so that a study cut short still
# knows its noise level; then the other methods (Table 6); then λ and Δl (Table 7). λ = 0 is DLDL
# (the same loss: test_losses.test_lambda_zero_is_plain_dldl) and λ = 1, Δl = 1 is DLDL-v2, so
# Table 7 reuses those rows.
ROWS = [
    _row("dldl-v2", "DLDL-v2", "dldl-v2"),
    _row("dldl", "DLDL (λ=0)", "dldl", lam=0.0),
    _row("dldl-v2-seed1", "DLDL-v2, seed 1", "dldl-v2", seed=1),
    _row("dldl-seed1", "DLDL (λ=0), seed 1", "dldl", seed=1, lam=0.0),
    _row("er", "ER (ℓ1 only)", "er"),
    _row("ranking", "Ranking", "ranking"),
    _row("dex", "DEX", "dex"),
    _row("mr-l1", "MR (ℓ1)", "mr-l1"),
    _row("mr-l2", "MR (ℓ2)", "mr-l2"),
    _row("dldl-v2-lam0.1", "DLDL-v2 λ=0.1", "dldl-v2", lam=0.1, extra=("--lam", "0.1")),
    _row("dldl-v2-lam10", "DLDL-v2 λ=10", "dldl-v2", lam=10.0, extra=("--lam", "10")),
    _row("dldl-v2-delta0.5", "DLDL-v2 Δl=0.5", "dldl-v2", delta=0.5, extra=("--delta", "0.5")),
    _row("dldl-v2-delta2", "DLDL-v2 Δl=2", "dldl-v2", delta=2.0, extra=("--delta", "2")),
    _row("dldl-v2-delta4", "DLDL-v2 Δl=4", "dldl-v2", delta=4.0, extra=("--delta", "4")),
]
ROW_BY_NAME = {r.name: r for r in ROWS}


def common_options(epochs: int, epoch_size: int | None = None) -> list[str]:
    """What every row shares: backbone, input, data, schedule and budget (train.py's defaults
    otherwise: Adam lr 1e-3, batch 128, σ = 2, natural mix of the pooled training sets).
    bfloat16 autocast: TinyAgeNet trains twice as fast with it on an AVX512-BF16 CPU (544 against
    271 images/s measured here), which is what puts 15 full epochs per row within reach."""
    options = ["--bf16", "--dataset", "utkface", "--extra", "aaf", "--arch", "tiny", "--size", "64",
               "--schedule", "cosine", "--warmup", "1", "--epochs", str(epochs)]
    return options + (["--epoch-size", str(epoch_size)] if epoch_size else [])


def configuration(row: Row, epochs: int, epoch_size: int | None = None, extra: list[str] | tuple = ()) -> list[str]:
    """The train.py options of a row under a budget, without --out/--resume: two runs of a row are
    comparable when these are equal."""
    return [*common_options(epochs, epoch_size), *row.options, "--seed", str(row.seed), *extra]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _last_epoch(folder: Path) -> int:
    """The last epoch train.py logged in train.log (0 when none). Read from the log rather than
    last.pt so that --status needs no torch (the python3 on PATH may lack it) and loads nothing
    while a row trains; the log line comes just before last.pt is written, so it can be one ahead."""
    epochs = [0]
    try:
        for line in (folder / "train.log").read_text().splitlines():
            if line.startswith('{"epoch"'):
                epochs.append(int(json.loads(line)["epoch"]))
    except (OSError, ValueError, KeyError):
        pass
    return epochs[-1]


def row_status(runs: Path, row: Row, config: list[str] | None = None) -> dict:
    """Where a row stands. state: done | partial | not-started | other-config.
    config: the configuration the caller wants (None: whatever the row was started with)."""
    folder = runs / row.name
    meta = _read_json(folder / "ablation.json")
    result = _read_json(folder / "result.json")
    if meta is None:
        state = "other-config" if folder.exists() and any(folder.iterdir()) else "not-started"
        return {"state": state, "epoch": None, "epochs": None, "meta": None, "result": None}
    epochs = int(meta["epochs"])
    if config is not None and meta["config"] != config:
        return {"state": "other-config", "epoch": _last_epoch(folder), "epochs": epochs, "meta": meta, "result": result}
    if result is not None and result.get("args", {}).get("epochs") == epochs and meta.get("finished"):
        return {"state": "done", "epoch": epochs, "epochs": epochs, "meta": meta, "result": result}
    return {"state": "partial", "epoch": _last_epoch(folder), "epochs": epochs, "meta": meta, "result": None}


class Study:
    def __init__(self, runs: Path, epochs: int, epoch_size: int | None, extra: list[str], python: str = sys.executable):
        self.runs, self.epochs, self.epoch_size, self.extra, self.python = runs, epochs, epoch_size, extra, python
        self.child: subprocess.Popen | None = None
        self.stopping = False

    def config(self, row: Row) -> list[str]:
        return configuration(row, self.epochs, self.epoch_size, self.extra)

    def set_aside(self, row: Row) -> Path:
        stale = self.runs / ".stale" / f"{row.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        stale.parent.mkdir(parents=True, exist_ok=True)
        (self.runs / row.name).rename(stale)
        return stale

    def train(self, row: Row, lock_fd: int) -> int:
        folder = self.runs / row.name
        folder.mkdir(parents=True, exist_ok=True)
        meta = _read_json(folder / "ablation.json") or {"row": row.name, "config": self.config(row), "epochs": self.epochs,
                                                          "wall_seconds": 0.0, "attempts": 0}
        meta["attempts"] += 1
        meta.pop("finished", None)
        (folder / "ablation.json").write_text(json.dumps(meta, indent=1))
        out = os.path.relpath(folder, REPO) if folder.absolute().is_relative_to(REPO) else str(folder)  # the command the report cites (runs/ may be a link)
        argv = [self.python, "-m", "training.dldl.train", *self.config(row), "--resume", "--out", out]
        t0, rc = time.time(), None
        try:
            with open(folder / "train.log", "a") as log:
                log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} attempt {meta['attempts']}: {' '.join(argv[1:])}\n")
                log.flush()
                # The child holds the study's lock too, so that a second study cannot start while an
                # orphaned row (its parent killed with SIGKILL) still trains.
                self.child = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, pass_fds=(lock_fd,))
                rc = self.child.wait()
                self.child = None
        finally:  # an interrupted attempt's time counts too
            meta["wall_seconds"] = round(meta["wall_seconds"] + time.time() - t0, 1)
            if rc == 0:
                meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
            (folder / "ablation.json").write_text(json.dumps(meta, indent=1))
        return rc

    def stop(self, signum, _frame) -> None:
        """SIGTERM/SIGINT: stop the row's training too (it resumes from its last epoch next time)."""
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)
        raise KeyboardInterrupt

    def run(self, rows: list[Row]) -> int:
        self.runs.mkdir(parents=True, exist_ok=True)
        with open(self.runs / ".lock", "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print(f"another ablation study holds {self.runs}/.lock (it or one of its rows is still running)", file=sys.stderr)
                return 75
            previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
            try:
                return self._run(rows, lock.fileno())
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def _run(self, rows: list[Row], lock_fd: int) -> int:
        failed = []
        try:
            for i, row in enumerate(rows, 1):
                status = row_status(self.runs, row, self.config(row))
                head = f"[{i}/{len(rows)}] {row.name}"
                if status["state"] == "done":
                    print(f"{head}: done ({self.epochs} epochs), skipped", flush=True)
                    continue
                if status["state"] == "other-config":
                    print(f"{head}: trained under another configuration, moved to {self.set_aside(row)}", flush=True)
                elif status["state"] == "partial":
                    print(f"{head}: resuming after epoch {status['epoch']} of {self.epochs}", flush=True)
                else:
                    print(f"{head}: starting", flush=True)
                t0 = time.time()
                rc = self.train(row, lock_fd)
                if rc != 0:
                    failed.append(row.name)
                    print(f"{head}: train.py exited with {rc}; see {self.runs / row.name / 'train.log'}", flush=True)
                    continue
                result = _read_json(self.runs / row.name / "result.json")
                print(f"{head}: done in {time.time() - t0:.0f} s (training {result['seconds']:.0f} s), "
                      f"UTKFace test MAE {result['test']['mae']:.3f}", flush=True)
        except KeyboardInterrupt:
            if self.child is not None:
                self.child.wait()
            print("stopped; run the same command again to resume", flush=True)
            return 130
        if failed:
            print(f"failed rows: {', '.join(failed)}", flush=True)
            return 1
        print("study complete: python3 -m training.dldl.report regenerates models/REPORT.md", flush=True)
        return 0


def select(names: str | None) -> list[Row]:
    if not names:
        return list(ROWS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in ROW_BY_NAME]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; rows: {', '.join(ROW_BY_NAME)}")
    return [ROW_BY_NAME[n] for n in wanted]


def status_lines(runs: Path, rows: list[Row], config_of=None) -> list[str]:
    lines = []
    for row in rows:
        s = row_status(runs, row, config_of(row) if config_of else None)
        if s["state"] == "done":
            r = s["result"]
            lines.append(f"{row.name:18} done      {s['epochs']} epochs, UTKFace test MAE {r['test']['mae']:.3f}, "
                         f"training {r['seconds']:.0f} s, wall {s['meta']['wall_seconds']:.0f} s")
        elif s["state"] == "partial":
            lines.append(f"{row.name:18} partial   epoch {s['epoch']} of {s['epochs']}")
        else:
            lines.append(f"{row.name:18} {s['state']}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="the epoch budget of every row")
    p.add_argument("--epoch-size", type=int, default=None, help="images per epoch (default: the whole pooled training split)")
    p.add_argument("--rows", default=None, help=f"comma-separated subset, in the study's order by default: {','.join(ROW_BY_NAME)}")
    p.add_argument("--runs", default=str(DEFAULT_RUNS), help="where the rows' folders go")
    p.add_argument("--status", action="store_true", help="print where each row stands and exit")
    p.add_argument("extra", nargs="*", help="after --: more train.py options for every row (part of its configuration)")
    a = p.parse_args(argv)
    runs = Path(a.runs) if Path(a.runs).is_absolute() else REPO / a.runs
    rows = select(a.rows)
    if a.status:
        print("\n".join(status_lines(runs, rows)))
        return 0
    return Study(runs, a.epochs, a.epoch_size, a.extra).run(rows)


if __name__ == "__main__":
    sys.exit(main())
