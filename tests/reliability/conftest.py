"""The real Redis / SMTP / webhook receiver / worker stack of the notification tests, reused."""

from tests.notifications.conftest import stack  # noqa: F401 - the fixture, for this package
from tests.oauth.conftest import approve, producer  # noqa: F401, E402 - consumers and producers
