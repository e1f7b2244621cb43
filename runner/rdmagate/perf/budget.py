"""The seconds a perf measurement may take, and what a round of it will
cost, so that a check's perf suite and the gate's perf phase keep within
their budget, the first round included.

A round is one boot a side with its runs in it. Its cost is estimated as
boots x (BOOT_S + jobs x seconds a job), figures of this lab when the
machine is quiet, times a scale: before anything is measured, the host's
load per core (measured here: the gate's first round took 940 s at load 12
on 2 cores against about 170 s quiet, a factor near 12 / 2), then what the
last round took over its quiet estimate. A round whose estimate passes what
is left is made smaller (fewer runs a measurement) or, when even the
smallest does not fit, not started (perf/suite.py runs a first round, at its
smallest, even over the budget); every round and every refusal is kept for
the output (summary())."""
import math
import os
import time

BOOT_S = 10.0          # a lab boot to an ACTIVE port, quiet (README: 7 to 10 s)
RUN_S = 1.0            # one run of rdmagate-perf or rdmagate-calibrate in the guest, quiet
PERFTEST_RUN_S = 4.0   # one perftest server and client pair, quiet


class Budget:
    def __init__(self, seconds: float | None, clock=time.monotonic,
                 load: float | None = None):
        """seconds None: no budget (a baseline record takes what it takes)."""
        self.seconds, self.clock, self.started = seconds, clock, clock()
        self.load = os.getloadavg()[0] if load is None else load
        self.scale = max(1.0, self.load / (os.cpu_count() or 1))
        self.log: list[str] = []

    def left(self) -> float:
        if self.seconds is None:
            return math.inf
        return self.seconds - (self.clock() - self.started)

    def spent(self) -> float:
        return self.clock() - self.started

    def estimate(self, boots: int, jobs: int, job_s: float = RUN_S) -> float:
        """Seconds, at the scale this machine runs at now."""
        return self.scale * boots * (BOOT_S + jobs * job_s)

    def fits(self, estimate: float) -> bool:
        return estimate <= self.left()

    def spend(self, what: str, estimate: float, work):
        """work(), timed; the scale learns from it."""
        begun = self.clock()
        done = work()
        took = self.clock() - begun
        if estimate > 0 and took > 0:
            self.scale *= took / estimate
        self.log.append(f"{what} {took:.0f} s (estimated {estimate:.0f})")
        return done

    def refuse(self, what: str, estimate: float) -> str:
        why = f"{what} not started: about {estimate:.0f} s, {max(0.0, self.left()):.0f} s left"
        self.log.append(why)
        return why

    def summary(self) -> str:
        limit = "no budget" if self.seconds is None else f"budget {self.seconds:.0f} s"
        return f"{limit}, {self.spent():.0f} s spent: " + ("; ".join(self.log) or "nothing run")
