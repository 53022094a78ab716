"""Message templates (managers write, instructors pick) and instructors' private notes."""

from __future__ import annotations

import re


def test_managers_write_templates_and_instructors_pick_them(world):
    manager = world.client(world.manager)
    bad = manager.post(
        "/instruction/templates/api_particulier",
        data={"title": "Relance", "body": "Bonjour {prenom}"},
    )
    assert bad.status_code == 400
    assert "Variable inconnue : {prenom}" in bad.text
    response = manager.post(
        "/instruction/templates/api_particulier",
        data={
            "title": "Pièce manquante",
            "body": "Votre demande n°{numero} « {intitule} » ({organisation}) : {lien}",
        },
    )
    assert response.status_code == 302
    page = manager.get("/instruction/templates/api_particulier")
    assert "Pièce manquante" in page.text
    template_id = int(re.search(r"/instruction/templates/(\d+)/edit", page.text).group(1))
    # An instructor who is not manager cannot edit them; nor can anyone for another API.
    assert world.as_instructor.get("/instruction/templates/api_particulier").status_code == 404
    assert manager.get("/instruction/templates/api_entreprise").status_code == 404

    request_id = world.factory.request(world.applicant, world.org, state="submitted")
    title = world.request(request_id).title
    review = world.as_instructor.get(f"/instruction/requests/{request_id}?template={template_id}")
    assert review.status_code == 200
    expected = f"Votre demande n°{request_id} « {title} » (Commune n°"
    assert expected in review.text
    assert f"/requests/{request_id}" in review.text
    # The picked text is sent as a message like any other.
    body = f"Votre demande n°{request_id} : merci de compléter."
    world.as_instructor.post(f"/requests/{request_id}/messages", data={"body": body})
    assert body in world.as_applicant.get(f"/requests/{request_id}").text


def test_private_notes_are_read_by_instructors_only(world):
    request_id = world.factory.request(world.applicant, world.org, state="submitted")
    response = world.as_instructor.post(
        f"/instruction/requests/{request_id}/notes",
        data={"body": "Cadre juridique fragile, à vérifier.", "opinion": "defavorable"},
    )
    assert response.status_code == 302
    review = world.as_instructor.get(f"/instruction/requests/{request_id}")
    assert "Cadre juridique fragile" in review.text and "Avis défavorable" in review.text
    assert "Cadre juridique fragile" not in world.as_applicant.get(f"/requests/{request_id}").text
    reporter = world.client(world.factory.user(roles=(("reporter", "api_particulier"),)))
    assert "Cadre juridique fragile" not in reporter.get(f"/instruction/requests/{request_id}").text
    assert (
        reporter.post(f"/instruction/requests/{request_id}/notes", data={"body": "x"}).status_code
        == 403
    )
    empty = world.as_instructor.post(f"/instruction/requests/{request_id}/notes", data={})
    assert empty.status_code == 302
    assert world.events(request_id) == ["create", "submit"]  # notes are not in the trail
