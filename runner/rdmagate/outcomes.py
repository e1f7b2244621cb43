"""Every outcome a test can end in, and its class, defined once.

The class decides the exit code: as expected 0, unexpected 1 (NO-GO),
infrastructure 3 (the harness or the environment failed, not the stack: what
it hid is untested, not broken). harness/include/rdmagate/outcomes.h holds
the same list for the C side; tests/unit/test_outcomes.py keeps them equal.
XFAIL is a FAIL the profile expects (a known defect of that device and stack)."""
from collections.abc import Iterable

from .errors import EXIT_INFRA, EXIT_OK, EXIT_UNEXPECTED

# name -> class, in the order of RG_OUTCOMES
OUTCOMES = {"PASS": "AS_EXPECTED", "FAIL": "UNEXPECTED", "UNSUPPORTED": "AS_EXPECTED",
            "SKIP": "AS_EXPECTED", "TIMEOUT": "UNEXPECTED", "CRASH": "UNEXPECTED",
            "ERROR": "INFRA", "XFAIL": "AS_EXPECTED"}
NAMES = tuple(OUTCOMES)


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
