"""The browser fixtures of the journey tests, for the CSP check in a real browser."""

from tests.e2e.conftest import browser, live_server, page  # noqa: F401 - fixtures
