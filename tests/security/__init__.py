"""Attacks on the service, each kept as a test (issue 9): every one of them worked once."""
