#!/usr/bin/python3
"""rdmagate: ABI conformance tests for RDMA software stacks.

./rdmagate at the root of the checkout is a symbolic link to this file.
Python puts the directory of a script's resolved path first on sys.path,
so the rdmagate package beside this file is imported as it is, from any
working directory, with no path set by hand."""
import sys

from rdmagate.cli import main

if __name__ == "__main__":
    sys.exit(main())
