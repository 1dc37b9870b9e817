"""Fixtures of the end-to-end tests: the shared ones (service, channel, a) are in tests/conftest.py."""
