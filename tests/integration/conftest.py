"""People of the integration tests: an organisation, its applicant, staff of API Particulier."""

from __future__ import annotations

import pytest


@pytest.fixture
def org(factory) -> int:
    return factory.organization("Commune de Clamart")


@pytest.fixture
def other_org(factory) -> int:
    return factory.organization("Ville de Paris")


@pytest.fixture
def applicant(factory, org) -> int:
    return factory.user(organizations=(org,), email="camille.martin@clamart.fr")


@pytest.fixture
def outsider(factory, other_org) -> int:
    """An applicant of another organisation."""
    return factory.user(organizations=(other_org,), email="paul.durand@paris.fr")


@pytest.fixture
def instructor(factory) -> int:
    return factory.user(roles=(("instructor", "api_particulier"),), email="instr@dinum.fr")


@pytest.fixture
def reporter(factory) -> int:
    return factory.user(roles=(("reporter", "api_particulier"),), email="rapp@dinum.fr")
