"""Debian's perftest over a size sweep, in ONE boot per stack: server and
client on one lab guest (soft-RoCE loopback), or (nodes=2) the server on
node 1 and the client on node 2, across the lab's virtual link.

Python writes the job list (RUN_DIR/perftest/jobs.txt) and a copy of the
fixed job script (targets/scripts/perftest_jobs.sh) into the run directory, which the lab
shares at its own path; the guest runs every job and leaves the raw outputs
next to them: <tool>-<size>.server.txt, .client.txt (and .client.json where
perftest has --out_json: 4.5, 25.01), status.txt, versions.txt. Otherwise
only flags every Debian perftest has (4.4, 4.5, 25.01) are used:
-d -x -s -n -p -F.

    run_sweep(target, run_dir, sweep, say) -> list of result dicts
    SWEEPS = {"short": ..., "full": ...}

A result: tool, size, iterations, stack, kernel, perftest_version (the
tool's --version, e.g. 6.06), perftest_package (4.5+0.17-1), raw (file names
relative to the run directory; earlier tries under "earlier_tries"), tries
(a job whose perftest could not calibrate its clock runs again, up to three
times), ok; then source ("json" or "table") and
metrics (perftest.parse's keys: *_us, *_Bps, msg_rate_Mpps), or error and
tail (the last lines of the client's and the server's output); and machine
(perf/machine.py's facts of where it ran). A failed job is never a zero
measurement.
"""
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import InfraError, UsageError
from ..targets import scripts
from . import machine, perftest

JOB_SCRIPT = scripts.PERFTEST_JOBS   # addresses are the target's: debian-13 has no 'localhost'
FIRST_PORT = 18515        # perftest's default; one port per job, so no job waits for the last one's socket
TOOLS = ("write_lat", "read_lat", "send_lat", "atomic_lat",
         "write_bw", "read_bw", "send_bw", "atomic_bw")
ATOMIC_SIZE = 8           # atomics always move 8 bytes; their tools have no -s
TAIL_LINES = 15
# what perftest prints when its clock calibration failed; its figures are then 0
CLOCK_FAILED = "Correlation coefficient r^2"


@dataclass(frozen=True)
class Sweep:
    tools: tuple[str, ...]
    lat_sizes: tuple[int, ...]
    bw_sizes: tuple[int, ...]
    lat_iters: int
    bw_iters: int
    job_timeout_s: int = 60   # per server and per client: one hang cannot eat the run
    repeats: int = 1          # runs of each job (NAME.K), interleaved: a verdict needs several

    def jobs(self) -> list[dict]:
        once = self._jobs()
        if self.repeats == 1:
            return once
        return [dict(job, name=f"{job['name']}.{k}", run=k)
                for k in range(self.repeats) for job in once]

    def _jobs(self) -> list[dict]:
        out = []
        numbers = (*self.lat_sizes, *self.bw_sizes, self.lat_iters, self.bw_iters,
                   self.job_timeout_s, self.repeats)
        if not all(isinstance(n, int) and n > 0 for n in numbers):
            raise UsageError("perftest sweep: sizes, iterations and the timeout are positive integers")
        for tool in self.tools:
            if tool not in TOOLS:
                raise UsageError(f"perftest sweep: unknown tool {tool!r} (known: {', '.join(TOOLS)})")
            latency = tool.endswith("_lat")
            iters = self.lat_iters if latency else self.bw_iters
            sizes = (ATOMIC_SIZE,) if tool.startswith("atomic") else \
                (self.lat_sizes if latency else self.bw_sizes)
            for size in sizes:
                out.append({"tool": tool, "size": size, "iterations": iters,
                            "name": f"{tool}-{size}"})
        if not out:
            raise UsageError("perftest sweep: no jobs")
        return out


SWEEPS = {
    # short enough for TCG: about 26 jobs of a few seconds each
    "short": Sweep(TOOLS, lat_sizes=(2, 64, 1024, 4096, 65536), bw_sizes=(64, 4096, 65536),
                   lat_iters=1000, bw_iters=1000),
    "full": Sweep(TOOLS, lat_sizes=(2, 8, 64, 256, 1024, 4096, 16384, 65536),
                  bw_sizes=(64, 256, 1024, 4096, 16384, 65536, 1048576),
                  lat_iters=10000, bw_iters=5000, job_timeout_s=300),
}


def _argv(job: dict, device: str, gid_index: str | None) -> list[str]:
    argv = [f"ib_{job['tool']}", "-d", device, *(["-x", gid_index] if gid_index else []),
            "-n", str(job["iterations"]), "-F"]
    if not job["tool"].startswith("atomic"):
        argv += ["-s", str(job["size"])]
    return argv


def write_jobs(path: Path, jobs: list[dict], limit_s: int, device: str = "rxe0",
               gid_index: str | None = "1") -> None:
    """One line a job for the guest script: NAME PORT LIMIT TOOL ARG...;
    perftest on the target's device and GID index (None: perftest's own)."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", device) or device.startswith("-"):
        raise InfraError(f"perftest: device name {device!r} is not one word of letters, "
                         "digits, '_', '.', '-'")
    lines = []
    for index, job in enumerate(jobs):
        # every word is a tool name from TOOLS, a fixed flag, a device name
        # checked above or a number: no spaces
        words = [job["name"], str(FIRST_PORT + index), str(limit_s),
                 *_argv(job, device, gid_index)]
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n")


def run_sweep(target, run_dir: Path, sweep: Sweep, say=lambda text: None,
              name: str = "perftest") -> list[dict]:
    """Run the sweep in one run of a lab target (one guest, or two with the
    server on the first); one dict per job. The raw outputs go to
    RUN_DIR/NAME/ (another name for a second stack's sweep)."""
    if not target.runs_perftest:
        raise InfraError(f"perftest's sweep runs in the lab, not at {target.describe()}")
    run_dir = Path(run_dir).resolve()
    out = run_dir / name
    jobs = sweep.jobs()
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):   # an older sweep's files would be read as this one's
        raise UsageError(f"{out} is not empty: one sweep a directory")
    write_jobs(out / "jobs.txt", jobs, sweep.job_timeout_s, target.device, target.gid_index)
    script = out / JOB_SCRIPT.name
    shutil.copyfile(JOB_SCRIPT, script)
    # each job: server and client limits, the grace for the server, a margin
    run_timeout = len(jobs) * (2 * sweep.job_timeout_s + 15) + 60
    words = ["sh", str(script), str(out), str(out / "jobs.txt"), target.server_address]
    # two nodes: the same script as server on node 1, as client on node 2
    peer = [*words, "server"] if target.nodes == 2 else None
    argv = [*words, "client"] if peer else words
    say(f"perftest: {len(jobs)} jobs on {target.stack_name} at {target.describe()}")
    try:
        ran = target.run(argv, shares=[(run_dir, True)], on_line=say, say=say,
                         timeout=run_timeout, peer_argv=peer)
    finally:
        shutil.rmtree(out / "sync", ignore_errors=True)   # the guests' handshakes
    if ran.exit_status != 0:
        raise InfraError(f"perftest: the guest script failed (exit {ran.exit_status}); "
                         f"see {out}")
    found = collect(out, jobs, stack=target.stack_name, kernel=ran.kernel)
    facts = machine.of_target(target, ran)   # a baseline is judged by where it was measured
    return [dict(result, machine=facts) for result in found]


def _versions(out: Path) -> dict:
    """versions.txt: 'package perftest (4.5+0.17-1) ...' and 'ib_x Version: 6.06'."""
    found: dict[str, str | None] = {}
    path = out / "versions.txt"
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        key, _, rest = line.partition(" ")
        if key == "package" and "(" in rest and ")" in rest:
            found["package"] = rest[rest.index("(") + 1:rest.index(")")]
        elif key.startswith("ib_"):
            found[key] = rest.replace("Version:", "").strip() or None
    return found


def _statuses(out: Path) -> dict:
    found = {}
    path = out / "status.txt"
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        words = line.split()
        if len(words) == 3 and words[1].lstrip("-").isdigit() and words[2].lstrip("-").isdigit():
            found[words[0]] = (int(words[1]), int(words[2]))
    return found


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no output file)"
    return "\n".join(lines[-TAIL_LINES:]) or "(empty)"


def collect(out: Path, jobs: list[dict], stack: str = "", kernel: str = "") -> list[dict]:
    """The results of jobs whose raw outputs are in out (a run's perftest/)."""
    versions = _versions(out)
    statuses = _statuses(out)
    results = []
    for job in jobs:
        name, tool = job["name"], f"ib_{job['tool']}"
        client, server = out / f"{name}.client.txt", out / f"{name}.server.txt"
        raw: dict[str, str | list[str]] = {"client": f"{out.name}/{client.name}",
                                           "server": f"{out.name}/{server.name}"}
        json_path = out / f"{name}.client.json"
        if json_path.exists():
            raw["client_json"] = f"{out.name}/{json_path.name}"
        earlier = sorted(out.glob(f"{name}.try*.*"))
        if earlier:
            raw["earlier_tries"] = [f"{out.name}/{path.name}" for path in earlier]
        tries = 1 + sum(1 for path in earlier if path.name.endswith(".client.txt"))
        result = {"tool": tool, "size": job["size"], "iterations": job["iterations"],
                  "stack": stack, "kernel": kernel, "perftest_version": versions.get(tool),
                  "perftest_package": versions.get("package"), "raw": raw, "tries": tries}
        result.update(_outcome(job, statuses.get(name), client, server))
        if not result["ok"] and _clock_failed(client):
            result["error"] += (f" (perftest could not calibrate its clock, '{CLOCK_FAILED} "
                                f"< 0.9', in {tries} tr{'y' if tries == 1 else 'ies'}: "
                                "the machine was too busy to measure)")
        results.append(result)
    return results


def _clock_failed(client: Path) -> bool:
    try:
        return CLOCK_FAILED in client.read_text(errors="replace")
    except OSError:
        return False


def _failed(error: str, client: Path, server: Path) -> dict:
    return {"ok": False, "error": error,
            "tail": {"client": _tail(client), "server": _tail(server)}}


def _outcome(job: dict, status, client: Path, server: Path) -> dict:
    """ok and metrics, or failed with the error and the tails of both outputs.
    Metrics come from the JSON report where it is JSON (perftest 25.01),
    else from the results table; when both are there they must agree."""
    if status is None:
        return _failed("the job did not run (no exit status recorded)", client, server)
    for side, code in zip(("client", "server"), status):
        if code in (124, 143):   # timeout's own status, or TERM after the grace
            return _failed(f"the {side} was stopped (exit {code}: timeout)", client, server)
        if code != 0:
            return _failed(f"the {side} exited with {code}", client, server)
    table: dict | UsageError
    try:
        table = _row_for(job, perftest.parse_file(client), str(client))
    except UsageError as err:
        table = err
    json_path = client.with_suffix(".json")
    try:
        report = _row_for(job, [perftest.parse_json(json_path.read_text(errors="replace"),
                                                    str(json_path))], str(json_path))
    except (OSError, UsageError):
        report = None      # no report (4.4) or not JSON (4.5): the table alone
    if report is None and isinstance(table, UsageError):
        return _failed(str(table), client, server)
    if report is not None and isinstance(table, dict):
        differ = [k for k in report if k not in table
                  or not math.isclose(report[k], table[k], rel_tol=1e-3)]
        if differ:
            return _failed(f"the JSON report and the table disagree on {', '.join(differ)}",
                           client, server)
    return {"ok": True, "source": "json" if report is not None else "table",
            "metrics": report if report is not None else table}


def _row_for(job: dict, rows: list[dict], source: str) -> dict:
    """The one row of the job's size and iterations, without those two keys."""
    matching = [row for row in rows if row["bytes"] == job["size"]]
    if len(matching) != 1:
        raise UsageError(f"{source}: no single result for {job['size']} bytes "
                         f"(rows for {[row['bytes'] for row in rows]})")
    row = dict(matching[0])
    if row.pop("iterations") != job["iterations"]:
        raise UsageError(f"{source}: the result is not for {job['iterations']} iterations")
    del row["bytes"]
    return row
