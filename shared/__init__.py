"""burnmeter core: log sources, ingest engine, ledger, pricing, reports and CLI.

Never imports Qt or pygls: the front ends build on this package, not the other way round.
"""

__version__ = "0.1.0"
