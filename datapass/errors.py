"""Domain errors that views turn into pages (or, later, API problem documents)."""

from __future__ import annotations


class DomainError(Exception):
    """An action refused by the domain, with a message for the user (French)."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """The action does not fit the object's current state (or it changed meanwhile)."""

    status = 409


CHANGED_MEANWHILE = (
    "Cette demande a été modifiée entre-temps par quelqu'un d'autre. "
    "Rechargez la page pour voir son état actuel avant d'agir."
)
