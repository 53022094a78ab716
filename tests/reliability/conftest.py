"""The real Redis / SMTP / webhook receiver / worker stack of the notification tests, reused."""

from tests.notifications.conftest import stack  # noqa: F401 - the fixture, for this package
