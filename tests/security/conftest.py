"""The security tests share the cast and the security log of tests/conftest.py."""
