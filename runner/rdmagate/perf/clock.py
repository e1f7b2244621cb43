"""Which clock a performance figure was read on, and what its unit means.

Two clocks, never mixed:
- wall: nanoseconds of CLOCK_MONOTONIC_RAW on a real device, on soft-RoCE
  on this host, or between two lab guests; a figure moves with the machine
  and its load, so comparisons are statistical (perf/stats.py);
- instructions: virtual nanoseconds of a lab guest on QEMU's instruction
  counter (targets/lab/qemu.py InstructionClock), 1 ns per guest
  instruction; a figure is the path length of the whole software path and
  the same on any host, so comparisons are exact (perf/exact.py).

Every measurement and every baseline says its clock (of()); a comparison
of two clocks is refused (mixed())."""
WALL = "wall"
INSTRUCTIONS = "instructions"
UNITS = {
    WALL: "ns (wall clock)",
    INSTRUCTIONS: "virtual ns (instruction clock): the whole software path, library + "
                  "provider + kernel rxe, in guest instructions; not a device latency",
}
SHORT_UNITS = {WALL: "ns", INSTRUCTIONS: "virtual ns"}
# what an instruction-clock figure depends on besides the software measured:
# two figures are comparable only when these are equal (or both sides were
# measured in the same run, as the gate measures them)
SAME_FOR_COMPARING = ("qemu", "cpu_model", "icount")


def of(machine: dict | None) -> str:
    """The clock of figures measured on `machine` (perf/machine.py's facts)."""
    facts = (machine or {}).get("clock")
    return INSTRUCTIONS if isinstance(facts, dict) and facts.get("kind") == INSTRUCTIONS \
        else WALL


def facts(machine: dict | None) -> dict:
    """The instruction clock's facts of `machine` ({} on the wall clock)."""
    return dict((machine or {}).get("clock") or {}) if of(machine) == INSTRUCTIONS else {}


def mixed(base: str, now: str) -> str:
    """Why figures on clocks `base` and `now` cannot be compared; "" when they can."""
    if base == now:
        return ""
    return (f"not comparable: the baseline is in {SHORT_UNITS.get(base, base)} "
            f"({base} clock), this run in {SHORT_UNITS.get(now, now)} ({now} clock); "
            "a figure of one clock is never compared with one of the other "
            "(record the baseline again on this clock)")


def differences(base: dict, now: dict) -> list[str]:
    """The instruction clock's facts that differ, as 'fact: A vs B'."""
    return [f"{k}: {base.get(k)} vs {now.get(k)}" for k in SAME_FOR_COMPARING
            if base.get(k) != now.get(k)]
