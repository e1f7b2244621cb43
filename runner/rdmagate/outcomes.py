"""Every outcome a test can end in, and its class, defined once.

The class decides the exit code: as expected 0, unexpected 1 (NO-GO),
infrastructure 3 (the harness or the environment failed, not the stack: what
it hid is untested, not broken). harness/include/rdmagate/outcomes.h holds
the same list for the C side; tests/unit/test_outcomes.py keeps them equal,
and the README's outcome table equal to MEANING. A test that cannot say PASS
or FAIL says which outcome it is and why in its reason (the perf suite's
states map to these words in one table, perf/suite.py OUTCOME)."""
from collections.abc import Iterable

from .errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED

# name -> class, in the order of RG_OUTCOMES
OUTCOMES = {"PASS": "AS_EXPECTED", "FAIL": "UNEXPECTED", "UNSUPPORTED": "AS_EXPECTED",
            "SKIP": "AS_EXPECTED", "TIMEOUT": "UNEXPECTED", "CRASH": "UNEXPECTED",
            "ERROR": "INFRA", "XFAIL": "AS_EXPECTED"}
NAMES = tuple(OUTCOMES)

# name -> what it means, one meaning each (the README's outcome table)
MEANING = {
    "PASS": "did what the hardware profile expects (a measurement: same as its reference, "
            "or faster)",
    "FAIL": "did something else (including an unexpected PASS of something the profile "
            "calls unsupported; a measurement: slower)",
    "UNSUPPORTED": "the device, its driver or the kernel lacks the operation or capability "
                   "(for a suite test, the profile agrees)",
    "SKIP": "not judged, through no fault of the device or the infrastructure: the stack's "
            "headers or libraries lack the API, or a measurement has no reference to compare "
            "with (no baseline, one not comparable) or runs that cannot decide "
            "(inconclusive); the reason says which",
    "TIMEOUT": "killed after its time limit",
    "CRASH": "its process died by a signal",
    "ERROR": "the harness or the environment failed, not the stack under test",
    "XFAIL": "a FAIL the profile expects: a known defect of that device and stack, named "
             "with its reason (or one it says not to run)",
}


def _of_class(kind: str) -> frozenset[str]:
    return frozenset(name for name, of in OUTCOMES.items() if of == kind)


AS_EXPECTED = _of_class("AS_EXPECTED")
UNEXPECTED = _of_class("UNEXPECTED")   # what the gate counts as a break
INFRA = _of_class("INFRA")             # what the gate counts as untested


def exit_code(outcomes: Iterable[str]) -> int:
    """1 if anything ended unexpectedly, 3 if only infrastructure failed, else 0."""
    seen = set(outcomes)
    if seen & UNEXPECTED:
        return EXIT_UNEXPECTED
    if seen & INFRA:
        return EXIT_INFRA
    return EXIT_OK
