"""SIRET validation: the identifier of an establishment in the national company register (SIRENE).

A SIRET is 14 digits: the company's SIREN (9 digits) and an establishment number (5 digits). Its
SIREN and the SIRET each end with a Luhn check digit, with one exception: La Poste (SIREN
356000000) numbers its many establishments, all but its head office 35600000000048, so that the
sum of the SIRET's digits is a multiple of 5 (INSEE rule).
"""

from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"
LA_POSTE_HEAD_OFFICE = "35600000000048"
_SEPARATORS = re.compile(r"[\s.\-]")


class InvalidSiret(ValueError):
    """A SIRET that cannot be right; the message is French, shown as is to the user."""


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalize_siret(value: str | None) -> str:
    """The SIRET's 14 digits (spaces, dots and dashes removed), or InvalidSiret saying why."""
    siret = _SEPARATORS.sub("", value or "")
    if not siret:
        raise InvalidSiret("Indiquez un numéro SIRET.")
    if not siret.isascii() or not siret.isdigit():
        raise InvalidSiret("Un numéro SIRET ne contient que des chiffres.")
    if len(siret) != 14:
        raise InvalidSiret(f"Un numéro SIRET compte 14 chiffres (et non {len(siret)}).")
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_HEAD_OFFICE:
        valid = sum(int(c) for c in siret) % 5 == 0
    else:
        valid = _luhn_valid(siret[:9]) and _luhn_valid(siret)
    if not valid:
        raise InvalidSiret("Ce numéro SIRET est invalide : vérifiez les chiffres saisis.")
    return siret


def is_valid_siret(value: str | None) -> bool:
    try:
        normalize_siret(value)
    except InvalidSiret:
        return False
    return True


class SiretValidator:
    """WTForms validator: replaces the field's data by the normalized SIRET."""

    def __call__(self, form, field) -> None:
        from wtforms.validators import StopValidation

        try:
            field.data = normalize_siret(field.data)
        except InvalidSiret as exc:
            raise StopValidation(str(exc)) from exc
