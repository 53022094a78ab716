def test_catalogue_lists_the_definitions(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "API Particulier" in response.text


def test_factory_builds_states(factory, app):
    org = factory.organization()
    user = factory.user(organizations=(org,))
    for state in ("draft", "submitted", "changes_requested", "refused", "validated", "archived"):
        request_id = factory.request(user, org, state=state)
        assert factory.get_request(request_id).state == state
