"""One module per subcommand: register(subparsers) adds it, setting func."""
