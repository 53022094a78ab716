"""The catalogue: public definitions listed with what api.gouv.fr shows; one page per definition."""

from __future__ import annotations

import re

from datapass.catalog import all_definitions
from tests.integration.helpers import text

PUBLIC = [
    "api_droits_cnam",
    "api_entreprise",
    "api_impot_particulier_sandbox",
    "api_particulier",
]


def cards(page: str) -> dict[str, str]:
    """The catalogue's cards by definition id, each as its own HTML."""
    found = re.findall(
        r'data-testid="definition-([a-z0-9_]+)"(.*?)(?=data-testid="definition-|$)', page, re.S
    )
    return dict(found)


def test_index_lists_every_public_definition_with_description_and_provider(app, client):
    listed = cards(client.get("/").text)
    assert sorted(listed) == PUBLIC  # not api_impot_particulier_production (public: false)
    with app.app_context():
        definitions = all_definitions()
    for definition_id, card in listed.items():
        definition = definitions[definition_id]
        content = text(card)
        assert f'href="/catalog/{definition_id}"' in card
        assert definition.name in content
        assert definition.description in content
        assert definition.provider.name in content
        assert ("Bac à sable" in content) is definition.sandbox, definition_id


def test_index_is_sorted_by_name(client):
    page = client.get("/").text
    names = [text(n).strip() for n in re.findall(r'<h2 class="fr-card__title">(.*?)</h2>', page)]
    assert names == sorted(names)
    assert len(names) == len(PUBLIC)


def test_definition_pages_show_links_scopes_access_and_sandbox(app, client):
    with app.app_context():
        definitions = [all_definitions()[d] for d in PUBLIC]
    for definition in definitions:
        response = client.get(f"/catalog/{definition.id}")
        assert response.status_code == 200
        page, content = response.text, text(response.text)
        assert definition.name in content
        assert f"Fournie par {definition.provider.name}" in content
        assert definition.description in content
        assert definition.access in content
        assert f'href="{definition.documentation_url}"' in page
        assert f'href="{definition.terms_url}"' in page
        for scope in definition.scopes:
            assert scope.label in content
        assert ('data-testid="sandbox"' in page) is definition.sandbox
        assert ("Pas de bac à sable" in content) is not definition.sandbox
        # Anonymous visitors are sent to the login, then back to the new request.
        assert f"/login?next=/requests/new/{definition.id}" in page.replace("%2F", "/")


def test_included_and_disabled_scopes_are_labelled(client):
    content = text(client.get("/catalog/api_particulier").text)
    assert "Avis d'imposition (ancienne API, fermée) plus proposée" in " ".join(content.split())
    cnam = " ".join(text(client.get("/catalog/api_droits_cnam").text).split())
    assert "Droits ouverts à l'assurance maladie toujours incluse" in cnam
    assert "messagerie fermée" in cnam


def test_production_stage_is_reachable_by_link_but_cannot_be_started_from_the_catalogue(
    client, factory, login_as
):
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    response = client.get("/catalog/api_impot_particulier_production")
    assert response.status_code == 200
    content = text(response.text)
    assert "Étape production" in content
    assert "à partir d'une demande de bac à sable validée" in content
    signed_in = login_as(applicant)
    page = signed_in.get("/catalog/api_impot_particulier_production").text
    assert 'data-testid="start-request"' not in page
    assert signed_in.get("/requests/new/api_impot_particulier_production").status_code == 404
    sandbox = signed_in.get("/catalog/api_impot_particulier_sandbox").text
    assert 'href="/requests/new/api_impot_particulier_sandbox"' in sandbox


def test_unknown_definition_is_404(client):
    for path in (
        "/catalog/api_inconnue",
        "/catalog/..%2Fapi_particulier",
        "/catalog/API_PARTICULIER",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.text
