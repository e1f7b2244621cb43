"""Job scripts that run at the target (the host or a lab guest) with no
Python there: each is copied into the run directory, which every target
shares at its own path, and run with `sh`. None evaluates what it reads:
job lists are split into words, never passed to a shell as text.

    native_jobs.sh OUT JOBS [PROFILE]    rdmagate-perf jobs, one line each; then,
                                     with PROFILE, wait for the host's profile.jobs
    profile_job.sh OUT JOBS          jobs under one perf record, samples and windows
    perftest_jobs.sh OUT JOBS ADDR [server|client]   perftest's server and client
    capture_devinfo.sh OUT DEV -- ARGV   ibv_devinfo -v into OUT, then exec ARGV
    kabi_load.sh OUT [KEY NAME KO]...    insmod each module, keep the kernel log, rmmod
    preflight.sh                     a node's kernel, taint, devices and ports
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent
NATIVE_JOBS = HERE / "native_jobs.sh"
PROFILE_JOB = HERE / "profile_job.sh"
PERFTEST_JOBS = HERE / "perftest_jobs.sh"
CAPTURE_DEVINFO = HERE / "capture_devinfo.sh"
KABI_LOAD = HERE / "kabi_load.sh"
PREFLIGHT = HERE / "preflight.sh"
