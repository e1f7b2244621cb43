"""A private Slurm cluster on this machine for tests and benchmarks:
munged with its own key and socket, slurmctld and N slurmd "nodes" on
localhost, everything under one temporary directory, each daemon in the
foreground in its own process group (each slurmd in its own PID namespace)
and started with PR_SET_PDEATHSIG, so a killed test takes them with it. It never reads or touches the system's
Slurm or munge configuration or services: the commands see only SLURM_CONF.

    with Cluster(2) as cluster:      # n1, n2 idle
        env = cluster.env            # SLURM_CONF for sbatch, srun, squeue
        cluster.kill_node("n2")      # a node that dies mid-run
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from rdmagate.targets.lab.vm import die_with_parent

DAEMONS = ("munged", "slurmctld", "slurmd", "unshare")


def available() -> bool:
    return all(shutil.which(name) for name in DAEMONS + ("sbatch", "srun", "squeue"))


def _free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (another engineer's cluster may be up)."""
    held, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        held.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in held:
        sock.close()
    return ports


class Cluster:
    def __init__(self, nodes: int = 2, slow_steps_s: int = 0):
        """slow_steps_s: every job step's uname sleeps that long first, for
        a run long enough to interrupt; a sleep that ends is noted in
        slow_ends()."""
        self.names = [f"n{i + 1}" for i in range(nodes)]
        self.slow_steps_s = slow_steps_s
        self.procs: dict[str, subprocess.Popen] = {}
        self.tmp = None

    def __enter__(self) -> "Cluster":
        self.tmp = tempfile.TemporaryDirectory(prefix="rdmagate-slurm-")
        self.dir = Path(self.tmp.name)
        os.chmod(self.dir, 0o755)   # munged wants its socket directory searchable
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def env(self) -> dict:
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def _start(self) -> None:
        d = self.dir
        for sub in ("munge", "state", "spool", "log"):
            (d / sub).mkdir()
        key = d / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.socket = d / "munge" / "munge.socket"
        self._spawn("munged", ["munged", "-F", "-S", str(self.socket), f"--key-file={key}",
                               f"--pid-file={d / 'munge' / 'munged.pid'}",
                               f"--log-file={d / 'log' / 'munged.log'}",
                               f"--seed-file={d / 'munge' / 'munged.seed'}"])
        self._wait(lambda: self.socket.exists(), 10, "munged made no socket")
        ctld, *node_ports = _free_ports(1 + len(self.names))
        self.conf = d / "slurm.conf"
        conf = self._conf(ctld, node_ports)
        if self.slow_steps_s:
            # The sleep is in the task (a TaskProlog's is not: slurmstepd
            # lets it end before it kills the step): the TaskProlog puts a
            # slow uname first on the task's PATH, and preflight.sh, the
            # first step of a fleet run, starts with uname. One killed in
            # its sleep notes nothing.
            slow = d / "slow-bin"
            slow.mkdir()
            (slow / "uname").write_text(
                f"#!/bin/sh\nsleep {int(self.slow_steps_s)} && "
                f"echo \"$SLURMD_NODENAME $SLURM_STEP_ID\" >> {d / 'slow-ends'} && "
                "exec /usr/bin/uname \"$@\"\n")
            prolog = d / "task_prolog.sh"
            prolog.write_text(f"#!/bin/sh\necho \"export PATH={slow}:$PATH\"\n")
            for script in (slow / "uname", prolog):
                script.chmod(0o755)
            conf += f"TaskProlog={prolog}\n"
        self.conf.write_text(conf)
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
        for name in self.names:
            # its own PID namespace: slurmstepd and the tasks cannot outlive
            # it (they leave slurmd's process group), and killing it is a node
            # that dies with everything it runs
            self._spawn(name, ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
                               "slurmd", "-D", "-N", name, "-f", str(self.conf)])
        self._wait(lambda: self.states() == {n: "idle" for n in self.names}, 30,
                   "the nodes did not go idle")

    def _conf(self, ctld: int, node_ports: list[int]) -> str:
        d = self.dir
        nodes = "\n".join(f"NodeName={name} NodeHostname=localhost NodeAddr=127.0.0.1 "
                          f"Port={port} CPUs=1 State=UNKNOWN"
                          for name, port in zip(self.names, node_ports))
        # "held": a partition whose nodes never exist, for a job that stays pending
        return f"""ClusterName=rdmagate-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={d / 'state'}
SlurmdSpoolDir={d / 'spool' / '%n'}
SlurmctldPidFile={d / 'slurmctld.pid'}
SlurmdPidFile={d / 'slurmd.%n.pid'}
SlurmctldLogFile={d / 'log' / 'slurmctld.log'}
SlurmdLogFile={d / 'log' / 'slurmd.%n.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=5
MessageTimeout=5
InactiveLimit=0
KillWait=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
{nodes}
PartitionName=debug Nodes={','.join(self.names)} Default=YES MaxTime=INFINITE State=UP
PartitionName=held Nodes={','.join(self.names)} MaxTime=INFINITE State=UP MaxNodes=0
"""

    def _spawn(self, name: str, argv: list[str]) -> None:
        out = (self.dir / "log" / f"{name}.out").open("wb")
        try:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                                stderr=subprocess.STDOUT,
                                                start_new_session=True,
                                                preexec_fn=die_with_parent)
        finally:
            out.close()

    def _wait(self, ready, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"private Slurm cluster: {what}"
                                   + (f" ({', '.join(dead)} exited)" if dead else "")
                                   + f"; logs in {self.dir / 'log'}")
            time.sleep(0.1)

    def states(self) -> dict[str, str]:
        done = subprocess.run(["sinfo", "-h", "-N", "-p", "debug", "-o", "%N %t"],
                              capture_output=True, text=True, env=self.env, check=False)
        pairs = (line.split() for line in done.stdout.splitlines())
        return {p[0]: p[1].rstrip("*~#") for p in pairs if len(p) == 2}

    def live_jobs(self) -> list[str]:
        """The ids of the jobs pending or running (one completing on a dead
        node stays in the queue, cancelled, until the node returns)."""
        done = subprocess.run(["squeue", "-h", "-o", "%i", "--states=PENDING,RUNNING"],
                              capture_output=True, text=True, env=self.env, check=True)
        return done.stdout.split()

    def slow_ends(self) -> list[str]:
        """"NODE STEP" of each slow step whose sleep ran its time out."""
        path = self.dir / "slow-ends"
        return path.read_text().splitlines() if path.exists() else []

    def kill_node(self, name: str) -> None:
        """The node dies: its slurmd and every step it runs."""
        proc = self.procs[name]
        _kill_group(proc.pid)
        proc.wait()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            _kill_group(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.wait()
        self.procs.clear()
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
