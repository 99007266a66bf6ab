"""Bundled data: price overrides, tier policy, icons, demo history, editor clients."""
