"""The older token-based BWS 2 web API under /extension/ (contract section 5)."""
