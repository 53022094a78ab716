"""SIRET validation: format, Luhn checksum, La Poste's exception."""

from __future__ import annotations

import re

import pytest

from datapass.accounts.siret import InvalidSiret, is_valid_siret, normalize_siret


@pytest.mark.parametrize(
    "siret",
    [
        "21920023500014",  # Commune de Clamart
        "13002526500013",  # DINUM
        "35600000000048",  # La Poste, head office: Luhn like everyone
        "35600000049837",  # La Poste establishment: digit sum 45, a multiple of 5 (not Luhn)
    ],
)
def test_valid_sirets(siret):
    assert normalize_siret(siret) == siret


def test_separators_are_removed():
    assert normalize_siret(" 219 200 235 00014 ") == "21920023500014"
    assert normalize_siret("219.200.235-00014") == "21920023500014"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez un numéro SIRET."),
        (None, "Indiquez un numéro SIRET."),
        ("2192002350001A", "ne contient que des chiffres"),
        ("２１９２００２３５０００１４", "ne contient que des chiffres"),  # full-width digits
        ("2192002350001", "compte 14 chiffres (et non 13)"),
        ("219200235000140", "compte 14 chiffres (et non 15)"),
        ("21920023500015", "invalide"),  # last digit off by one
        ("12920023500014", "invalide"),  # two digits swapped
        ("35600000049838", "invalide"),  # La Poste: digit sum 46
        ("35600000000049", "invalide"),  # La Poste head office checked with Luhn
    ],
)
def test_invalid_sirets_say_why(value, message):
    with pytest.raises(InvalidSiret, match=re.escape(message)):
        normalize_siret(value)
    assert not is_valid_siret(value)


def test_siren_part_must_pass_luhn_too():
    # Passes Luhn as a whole, but its SIREN 100000000 does not.
    assert not is_valid_siret("10000000000008")
