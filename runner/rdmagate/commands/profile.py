"""rdmagate profile capture: a hardware profile from the real device."""
import sys
from pathlib import Path

from .. import options
from ..pipelines.profile_capture import CaptureRequest, capture
from ..progress import Progress


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "profile", help="capture a hardware profile from a real device",
        description="Hardware profiles (hw-profiles/*.yaml) say what each test is expected "
        "to do on a kind of device: PASS, UNSUPPORTED with the device's reason, FAIL for a "
        "known defect, and what a test of bad input observes (the errno or completion "
        "status). `capture` runs the device suites with no expectations and writes what the "
        "device did, with its capabilities (ibv_devinfo -v).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    capture = actions.add_parser("capture", help="run the device suites and write the profile",
                                 description="Run the suites that need a device with no "
                                 "expectations and write hw-profiles/<kind>-<kernel>.yaml "
                                 "(rxe-6.12.yaml for soft-RoCE on Linux 6.12). A test that "
                                 "ends in TIMEOUT, CRASH or ERROR cannot be captured: nothing "
                                 "is written then. Notes added by hand to an existing "
                                 "profile's entries are kept.")
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
    print(f"wrote {done.path}: {done.expectations} expectations from {done.tests} tests "
          f"(run {done.run_dir})")
    if done.known_defects:
        print(f"{len(done.known_defects)} tests FAIL on this device and stack, recorded as "
              f"known defects; review them: {', '.join(done.known_defects)}", file=sys.stderr)
    return 0
