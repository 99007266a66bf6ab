"""One module per `burnmeter` command; each has `add_parser(subparsers)` and `run(args)`."""
