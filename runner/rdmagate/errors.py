"""Errors a user or the environment can cause, each with its exit code."""

EXIT_OK = 0
EXIT_UNEXPECTED = 1   # no-go, or tests ended other than expected
EXIT_USAGE = 2        # usage or configuration error: the user can fix it
EXIT_INFRA = 3        # infrastructure error: the environment failed


class RdmagateError(Exception):
    """An error that ends the command with one clear line and an exit code."""
    exit_code = EXIT_INFRA


class UsageError(RdmagateError):
    """Bad input: a command line, a manifest, a plan, a baseline. Exit 2."""
    exit_code = EXIT_USAGE


class InfraError(RdmagateError):
    """The environment failed: a tool is missing, the network, a VM. Exit 3."""
    exit_code = EXIT_INFRA


class RunCutShort(InfraError):
    """A run that started and ended early (its device vanished, the lab VM
    died): what finished before is kept, in run_dir and finished."""

    def __init__(self, message: str, run_dir, finished: list):   # list[Result]
        super().__init__(message)
        self.run_dir = run_dir
        self.finished = finished
