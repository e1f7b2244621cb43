"""python3 -m rdmagate (with runner/ on the path) is ./rdmagate."""
import sys

from .cli import main

sys.exit(main())
