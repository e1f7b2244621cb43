"""A node of a Slurm cluster as a target: each argv runs as one job step on
that node (`srun --jobid JOB -w NODE`) inside the allocation a fleet run
holds (fleet/job.py submits it). The run directory and the build tree must
be on a file system every node shares at the same path, which a cluster
has; shares are therefore not copied. srun's own words ("srun: error: Node
failure on n2") are kept, not streamed, and become the reason when the node
is found gone. A node with no RDMA device runs its device suites in a lab
guest there (SlurmLab). Two nodes with RDMA devices pair as one target
(SlurmPair): the peer argv on the first, the argv on the second."""
import threading

from .. import tools
from ..errors import InfraError
from ..paths import REPO_ROOT
from . import lab
from .base import Ran, Target
from .host import run_here

BAD_STATES = frozenset({"DOWN", "NOT_RESPONDING", "FAIL", "FAILING", "POWERED_DOWN",
                        "POWERING_DOWN", "DRAIN", "DRAINED"})
# what srun says when the step's node is gone before the controller knows
LOST = ("Node failure", "Communication connection failure", "launch failed")


def node_info(node: str) -> dict[str, str]:
    """scontrol's record of a node as key=value fields ({} when unknown)."""
    done = tools.run(["scontrol", "show", "node", "--oneliner", node], tools.QUICK)
    if done.returncode != 0:
        return {}
    fields, key = {}, None
    for word in done.stdout.split():
        if "=" in word:
            key, value = word.split("=", 1)
            fields[key] = value
        elif key:   # Reason=Not responding [slurm@...]: values with spaces
            fields[key] += " " + word
    return fields


class SlurmNode(Target):
    name = "slurm"

    def __init__(self, node: str, job_id: str, device: str = "none", why: str = ""):
        super().__init__(device, why or f"node {node} of Slurm job {job_id}")
        self.node = node
        self.job_id = job_id
        self.release = ""
        self.srun_said: list[str] = []

    def kernel_release(self) -> str:
        if not self.release:
            said: list[str] = []
            self.run(["uname", "-r"], on_line=said.append)
            self.release = said[0].strip() if said else ""
        return self.release

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        if peer_argv:
            raise ValueError("a Slurm node target is one node")

        def line(text: str) -> None:
            if text.startswith(("srun: ", "slurmstepd: ")):
                self.srun_said.append(text)
            else:
                on_line(text)
        step = ["srun", f"--jobid={self.job_id}", f"--nodelist={self.node}", "--nodes=1",
                "--ntasks=1", "--overlap", "--kill-on-bad-exit=0", "--quiet", "--", *argv]
        # not interruptible: a step ends with its job, which the fleet cancels;
        # srun takes a lone SIGINT as a request for the step's status
        status = run_here(step, line, with_stderr=True, interruptible=False)
        return Ran(status, self.release, {"slurm": {"job": self.job_id, "node": self.node}})

    def vanished(self) -> bool:
        return bool(self.gone())

    def gone(self) -> str:
        """Why the node is gone ("" while it is up): its state and the
        controller's reason, with what srun said."""
        info = node_info(self.node)
        if not info:
            raise InfraError(f"scontrol show node {self.node}: the controller does not answer")
        states = set(info.get("State", "").split("+"))
        said = "; ".join(dict.fromkeys(self.srun_said))
        if states & BAD_STATES:
            what = f"node {self.node} is {info.get('State')}" + \
                (f" ({info['Reason']})" if info.get("Reason") else "")
        elif any(word in said for word in LOST):
            what = f"node {self.node} lost its job step (the controller still says " \
                f"{info.get('State')})"
        else:
            return ""
        return what + (f"; {said}" if said else "")

    def describe(self) -> str:
        return f"{self.device} on node {self.node} (Slurm job {self.job_id})"

    def lab_instead(self, stack_name: str) -> "SlurmLab":
        return SlurmLab(self.node, self.job_id, stack_name)


class SlurmLab(SlurmNode):
    """A node with no RDMA device: each argv runs in a lab guest booted on
    that node (`rdmagate lab run` of this checkout as the job step), on
    soft-RoCE in the stack's own kernel; the shares are the lab's shares."""
    name = "slurm-lab"

    def __init__(self, node: str, job_id: str, stack_name: str):
        super().__init__(node, job_id, lab.DEVICE,
                         f"a lab guest on node {node} of Slurm job {job_id} (no RDMA device "
                         "there)")
        self.stack_name = stack_name

    def kernel_release(self) -> str:
        return lab.Lab(self.stack_name, self.why).kernel_release()

    def in_own_root(self) -> bool:
        return True

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        guest = [str(REPO_ROOT / "rdmagate"), "lab", "run", f"--stack={self.stack_name}",
                 f"--timeout={int(timeout or 600)}",
                 *[f"--share={path}" for path, _ in shares], "--", *argv]
        return super().run(guest, shares, on_line, say, timeout, peer_argv)


class SlurmPair(Target):
    """Two nodes of a Slurm job with RDMA devices as one target of two
    nodes, as perftest's server and client need: the peer argv is a job step
    on the server node, the argv a step on the client node, at once; the
    client reaches the server at the address the controller has for it
    (NodeAddr). perftest runs on the nodes' own device; a GID index is not
    forced (perftest's default), since which index a RoCE port's routable
    GID has depends on the site's addressing."""
    name = "slurm-2"
    nodes = 2
    runs_perftest = True
    gid_index = None

    def __init__(self, server: str, client: str, job_id: str, device: str, stack_name: str):
        super().__init__(device, f"nodes {server} and {client} of Slurm job {job_id}")
        self.server, self.client = SlurmNode(server, job_id, device), \
            SlurmNode(client, job_id, device)
        self.stack_name = stack_name

    @property
    def server_address(self) -> str:
        info = node_info(self.server.node)
        return info.get("NodeAddr") or self.server.node

    @property
    def kind(self) -> str:
        return self.client.kind

    def kernel_release(self) -> str:
        return self.client.kernel_release()

    def run(self, argv, shares=(), on_line=lambda line: None, say=lambda text: None,
            timeout=None, peer_argv=None) -> Ran:
        if not peer_argv:
            raise ValueError("a pair of Slurm nodes runs a peer argv on its first node")
        server_said: list[str] = []
        server_ran: list[Ran] = []
        # the server's step in a thread of its own: both steps run at once
        thread = threading.Thread(target=lambda: server_ran.append(
            self.server.run(peer_argv, shares, server_said.append)), daemon=True)
        thread.start()
        client = self.client.run(argv, shares, on_line, say, timeout)
        thread.join(timeout=60)   # perftest_jobs.sh's server ends with the client's last job
        for line in server_said:
            on_line(f"{self.server.node}: {line}")
        if thread.is_alive() or not server_ran:
            raise InfraError(f"the server step on {self.server.node} did not end after "
                             "the client's")
        status = client.exit_status or server_ran[0].exit_status
        return Ran(status, self.kernel_release(),
                   {"slurm": {"job": self.server.job_id,
                              "nodes": [self.server.node, self.client.node]}})

    def vanished(self) -> bool:
        return bool(self.gone())

    def gone(self) -> str:
        return self.server.gone() or self.client.gone()

    def describe(self) -> str:
        return f"{self.device} on nodes {self.server.node} (server) and {self.client.node} " \
            f"(client) of Slurm job {self.server.job_id}"
