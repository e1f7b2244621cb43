"""rdmagate profile capture: a hardware profile from the real device."""
import json
import sys
from pathlib import Path

from .. import options
from ..errors import EXIT_UNEXPECTED
from ..pipelines.profile_capture import CaptureRequest, capture
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "profile", help="capture a hardware profile from a real device",
        description="Hardware profiles (hw-profiles/*.yaml) say what each test is expected "
        "to do on a kind of device: PASS, UNSUPPORTED with the device's reason, FAIL for a "
        "known defect (with its reason and failure id), and what a test of bad input observes (the errno or completion "
        "status). `capture` runs the device suites with no expectations and writes what the "
        "device did, with its capabilities (ibv_devinfo -v).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    capture = actions.add_parser("capture", help="run the device suites and write the profile",
                                 description="Run the suites that need a device with no "
                                 "expectations and write hw-profiles/<kind>-<kernel>.yaml "
                                 "(rxe-6.12.yaml for soft-RoCE on Linux 6.12; hardware also by "
                                 "part id and firmware: mlx5-part4125-fw22.36.1010-6.12.yaml). "
                                 "A test that ends in TIMEOUT, CRASH or ERROR cannot be "
                                 "captured: nothing is written then. A FAIL stops the capture "
                                 "(exit 1) with the failures listed for review: one enters the "
                                 "profile only as a known defect a person wrote there (outcome "
                                 "FAIL, its reason, and the failure it is: the message id "
                                 "printed), kept while the test fails in exactly that way. "
                                 "Notes added by hand to entries are kept.")
    options.add_stack(capture)
    options.add_device(capture)
    options.add_kernel(capture)
    options.add_suite(capture)
    capture.add_argument("--out", metavar="FILE",
                         help="where to write the profile (default: hw-profiles/<kind>-<kernel>.yaml)")
    options.add_results(capture)
    parser.set_defaults(func=run)


def run(args) -> int:
    request = CaptureRequest(stack=args.stack, suites=tuple(args.suite or ()),
                             device=args.device, use_lab=args.lab,
                             out=Path(args.out) if args.out else None,
                             results_dir=args.results, kernel=args.kernel)
    done = capture(request, Progress())
    if done.to_review:
        for result in done.to_review:
            print(f"FAIL {result.test}: failure {result.failure!r}: {result.why}")
        print(f"{len(done.to_review)} tests FAIL on this device and stack (run {done.run_dir}); "
              f"nothing written to {done.path}. Review each: a known defect is recorded by "
              f"adding it to {done.path} under expect, as\n"
              f"  {done.to_review[0].test}: {{outcome: FAIL, failure: "
              f"{_quoted(done.to_review[0].failure)}, reason: <why, in your words>}}\n"
              f"and capturing again; any other failure of that test stays a FAIL.",
              file=sys.stderr)
        return EXIT_UNEXPECTED
    print(f"wrote {done.path}: {done.expectations} expectations from {done.tests} tests "
          f"(run {done.run_dir})")
    if done.known_defects:
        print(f"{len(done.known_defects)} tests FAIL on this device and stack as their known "
              f"defects: {', '.join(done.known_defects)}", file=sys.stderr)
    return 0


def _quoted(text: str) -> str:
    """text as a YAML flow scalar a person can paste."""
    return json.dumps(text)
