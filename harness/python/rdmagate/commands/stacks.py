"""rdmagate stacks: list, fetch and show RDMA software stacks."""
from . import not_built


def register(subparsers) -> None:
    parser = subparsers.add_parser("stacks", help="list, fetch and show RDMA software stacks (not built yet)")
    parser.set_defaults(func=not_built.answer("stacks", "stack manifests, fetching and inventory"))
