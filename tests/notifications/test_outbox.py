"""The outbox is written with the state change; who is told; opt-out; mailbox; admin; CLI.

These run without a worker: deliveries are run in-process with `delivery.deliver`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datapass.accounts.models import User
from datapass.config import ConfigError, load_config
from datapass.errors import Conflict
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.notifications import delivery, webhooks
from datapass.notifications.emails import compose, unsubscribe_token
from datapass.notifications.models import FAILED, PENDING, SENT, EmailOptOut, OutboxMessage
from datapass.requests.models import AuthorizationRequest
from tests.notifications.servers import WebhookReceiver


def _rows(request_id, kind_prefix=""):
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.context["request_id"].as_integer() == request_id)
        .where(OutboxMessage.kind.startswith(kind_prefix))
        .order_by(OutboxMessage.id)
    ).all()


def _email(user_id):
    return db.session.get(User, user_id).email


@pytest.fixture
def people(factory):
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    instructor = factory.user(roles=(("instructor", "api_particulier"),))
    other = factory.user(roles=(("instructor", "api_entreprise"),))
    return org, applicant, instructor, other


def test_submit_writes_emails_for_the_applicant_and_the_instructors_only(app, factory, people):
    org, applicant, instructor, other = people
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        rows = {r.recipient: r for r in _rows(request_id)}
        assert set(rows) == {_email(applicant), _email(instructor)}
        assert rows[_email(applicant)].kind == "submit_applicant"
        assert rows[_email(instructor)].kind == "submit_instructor"
        assert {r.state for r in rows.values()} == {PENDING}
        assert len({r.idempotency_key for r in rows.values()}) == 2
        assert all(r.event_id for r in rows.values())


def test_a_rolled_back_change_leaves_no_outbox_row(app, factory, people):
    org, applicant, _, _ = people
    request_id = factory.request(applicant, org, state="draft")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.flush()
        assert len(_rows(request_id, "submit")) == 2  # written in the transaction...
        db.session.rollback()
    with app.app_context():
        assert _rows(request_id, "submit") == []  # ...and gone with it
        assert db.session.get(AuthorizationRequest, request_id).state == "draft"


def test_a_refused_move_writes_nothing(app, factory, people):
    org, applicant, instructor, _ = people
    request_id = factory.request(applicant, org, state="draft")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        with pytest.raises(Conflict):
            services.refuse_request(request_obj, db.session.get(User, instructor), "Non.")
        db.session.rollback()
        assert _rows(request_id) == []


def test_approve_tells_the_applicant_the_dpo_and_the_controller(app, factory, people):
    org, applicant, instructor, _ = people
    request_id = factory.request(applicant, org, state="draft")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        services.save_step(
            request_obj,
            user,
            {
                "delegue_protection_donnees_email": "dpo@commune.fr",
                "responsable_traitement_email": "maire@commune.fr",
            },
        )
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        services.approve_request(request_obj, db.session.get(User, instructor), "Bienvenue.")
        db.session.commit()
        rows = {r.recipient: r for r in _rows(request_id, "approve")}
        assert set(rows) == {_email(applicant), "dpo@commune.fr", "maire@commune.fr"}
        assert rows["dpo@commune.fr"].kind == "approve_delegue_protection_donnees"
        assert rows[_email(applicant)].context["reason"] == "Bienvenue."


@pytest.mark.parametrize("decision", ["request_changes", "refuse"])
def test_decisions_tell_the_applicant_with_the_reason(app, factory, people, decision):
    org, applicant, instructor, _ = people
    state = "changes_requested" if decision == "request_changes" else "refused"
    request_id = factory.request(applicant, org, state=state, instructor_id=instructor)
    with app.app_context():
        rows = _rows(request_id, decision)
        assert [r.recipient for r in rows] == [_email(applicant)]
        message = compose(rows[0])
        text = message.get_body(("plain",)).get_content()
        assert (
            "Précisez la durée." if decision == "request_changes" else "Cadre juridique"
        ) in text
        assert "Motif :" in text


def test_a_message_reaches_the_other_side(app, factory, people):
    org, applicant, instructor, _ = people
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        services.post_message(request_obj, db.session.get(User, applicant), "Une question ?")
        services.post_message(request_obj, db.session.get(User, instructor), "Une réponse.")
        db.session.commit()
        rows = _rows(request_id, "message")
        assert [(r.kind, r.recipient) for r in rows] == [
            ("message_instructor", _email(instructor)),
            ("message_applicant", _email(applicant)),
        ]


def test_an_opted_out_instructor_is_not_told_and_unsubscribes_in_one_click(
    app, factory, people, client
):
    org, applicant, instructor, _ = people
    with app.app_context():
        token = unsubscribe_token(instructor, "api_particulier")
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 200
    response = client.post(f"/notifications/unsubscribe/{token}")  # RFC 8058, no CSRF token
    assert response.status_code == 200
    assert "Désinscription enregistrée" in response.get_data(as_text=True)
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        assert [r.recipient for r in _rows(request_id)] == [_email(applicant)]
        assert db.session.scalars(select(EmailOptOut)).one().user_id == instructor


def test_a_forged_or_expired_unsubscribe_link_is_refused(make_app, factory):
    app = make_app(UNSUBSCRIBE_MAX_AGE=-1)
    client = app.test_client()
    assert client.post("/notifications/unsubscribe/not-a-token").status_code == 400
    with app.app_context():
        token = unsubscribe_token(1, "api_particulier")
    response = client.post(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400
    assert "invalide ou a expiré" in response.get_data(as_text=True)


def test_preferences_turn_instructor_emails_back_on(app, factory, people, login_as):
    _, _, instructor, _ = people
    client = login_as(instructor)
    client.post("/notifications/preferences", data={})
    with app.app_context():
        assert db.session.scalars(select(EmailOptOut.definition_id)).all() == ["api_particulier"]
    client.post("/notifications/preferences", data={"definition": "api_particulier"})
    with app.app_context():
        assert db.session.scalars(select(EmailOptOut)).all() == []


def test_the_html_email_escapes_what_users_typed(app, factory, people):
    org, applicant, _, _ = people
    request_id = factory.request(applicant, org, state="draft")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        services.save_step(request_obj, user, {"intitule": "<script>alert(1)</script>"})
        services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
        db.session.commit()
        html = compose(_rows(request_id, "submit_applicant")[0]).get_body(("html",)).get_content()
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_development_mailbox_shows_the_delivered_mails(make_app, factory):
    app = make_app(ENV_NAME="development")
    factory = type(factory)(app)
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        (row,) = _rows(request_id)
        assert delivery.deliver(row.id).status == "sent"
        assert delivery.deliver(row.id).status == "skipped"  # a second copy sends nothing
        assert db.session.get(OutboxMessage, row.id).state == SENT
    client = app.test_client()
    page = client.get("/dev/mailbox").get_data(as_text=True)
    assert page.count('data-testid="mail"') == 1
    assert "a bien été soumise" in page
    name = (
        app.config["MAILBOX_DIR"]
        and sorted(__import__("pathlib").Path(app.config["MAILBOX_DIR"]).glob("*.eml"))[0].stem
    )
    message = client.get(f"/dev/mailbox/{name}").get_data(as_text=True)
    assert "Bonjour," in message


def test_the_mailbox_exists_only_in_development(client):
    assert client.get("/dev/mailbox").status_code == 404


def test_failed_deliveries_are_for_admins_and_the_cli_replays_them(app, factory, people, login_as):
    org, applicant, _, _ = people
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        row = _rows(request_id)[0]
        row.state, row.attempts, row.last_error = FAILED, 8, "SMTPRecipientsRefused"
        db.session.commit()
        row_id = row.id
    assert login_as(applicant).get("/admin/notifications").status_code == 404
    admin = factory.user(admin=True)
    page = login_as(admin).get("/admin/notifications").get_data(as_text=True)
    assert "SMTPRecipientsRefused" in page

    runner = app.test_cli_runner()
    result = runner.invoke(args=["outbox", "replay"])
    assert result.exit_code != 0
    result = runner.invoke(args=["outbox", "replay", str(row_id + 1000)])
    assert result.exit_code != 0
    assert "nothing replayed" in result.output
    result = runner.invoke(args=["outbox", "replay", "--all"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        row = db.session.get(OutboxMessage, row_id)
        assert (row.state, row.attempts) == (PENDING, 0)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"NOTIFICATION_RETRY_MAX": 7200, "BROKER_VISIBILITY_TIMEOUT": 3600}, "VISIBILITY"),
        ({"MAIL_BACKEND": "carrier-pigeon"}, "MAIL_BACKEND"),
        ({"BROKER_URL": "amqp://x"}, "BROKER_URL"),
        ({"NOTIFICATION_MAX_ATTEMPTS": 0}, "MAX_ATTEMPTS"),
    ],
)
def test_bad_notification_settings_stop_start_up(tmp_path, settings, named):
    with pytest.raises(ConfigError, match=named):
        load_config({"ENV_NAME": "testing", "VAR_DIR": str(tmp_path), **settings})


def test_a_bad_number_in_the_environment_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPASS_SMTP_PORT", "vingt-cinq")
    with pytest.raises(ConfigError, match="DATAPASS_SMTP_PORT"):
        load_config({"ENV_NAME": "testing", "VAR_DIR": str(tmp_path)})


def test_webhooks_to_internal_addresses_are_refused_at_delivery_time(make_app):
    app = make_app(WEBHOOK_ALLOW_PRIVATE=False)
    receiver = WebhookReceiver()
    receiver.start()
    try:
        with app.app_context():
            response = webhooks.post(receiver.url, webhooks.new_secret(), "msg_1", {"a": 1})
        assert response.status_code is None
        assert "Adresse interne refusée" in response.error
        assert receiver.received == []
    finally:
        receiver.stop()


def test_no_redirect_is_followed(app):
    receiver = WebhookReceiver()
    receiver.status = 302
    receiver.start()
    try:
        with app.app_context():
            response = webhooks.post(receiver.url, webhooks.new_secret(), "msg_1", {"a": 1})
        assert response.status_code == 302
        assert not response.ok
        assert len(receiver.received) == 1
    finally:
        receiver.stop()


def test_a_revocation_is_announced_once_with_its_reason(app, factory, people):
    from datapass.authorizations.models import Authorization
    from datapass.lifecycle.revocation import revoke_request

    org, applicant, instructor, _ = people
    request_id = factory.request(applicant, org, state="validated", instructor_id=instructor)
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        revoke_request(request_obj, db.session.get(User, instructor), "Usage non conforme.")
        db.session.commit()
        rows = _rows(request_id, "revoke")
        assert [(r.kind, r.recipient) for r in rows] == [("revoke_applicant", _email(applicant))]
        assert "Usage non conforme." in compose(rows[0]).get_body(("plain",)).get_content()
        assert db.session.scalars(select(Authorization.state)).all() == ["revoked"]


def test_a_transfer_tells_the_old_and_the_new_applicant(app, factory, people):
    from datapass.lifecycle.transfer import transfer_request

    org, applicant, _, _ = people
    successor = factory.user(organizations=(org,))
    request_id = factory.request(applicant, org, state="submitted")
    with app.app_context():
        request_obj = db.session.get(AuthorizationRequest, request_id)
        transfer_request(
            request_obj, db.session.get(User, applicant), db.session.get(User, successor)
        )
        db.session.commit()
        rows = _rows(request_id, "transfer")
        assert {r.recipient for r in rows} == {_email(applicant), _email(successor)}


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap(make_app):
    app = make_app(NOTIFICATION_RETRY_BASE=10, NOTIFICATION_RETRY_MAX=60)
    with app.app_context():
        first = [delivery.backoff(1) for _ in range(50)]
        third = [delivery.backoff(3) for _ in range(50)]
        late = [delivery.backoff(12) for _ in range(50)]
    assert all(5 <= d <= 10 for d in first)
    assert all(20 <= d <= 40 for d in third)
    assert all(30 <= d <= 60 for d in late)
    assert len(set(first)) > 1  # jitter: retries of many rows do not fire together


def test_lifecycle_moves_reach_the_applicant(app, factory, people):
    """Expiry, its reminder, the stale-draft reminder and sweep, and a cancelled reopening are
    each an email to the applicant, with the detail or reason in it."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from datapass.lifecycle import expiry, reopening

    org, applicant, instructor, _ = people
    production = "api_impot_particulier_production"  # authorizations valid 1095 days
    admin = factory.user(admin=True)
    validated = factory.request(
        applicant, org, definition_id=production, state="validated", instructor_id=admin
    )
    draft = factory.request(applicant, org, state="draft")
    reopened = factory.request(applicant, org, state="validated", instructor_id=instructor)
    now = datetime.now(UTC)
    with app.app_context():
        user = db.session.get(User, applicant)
        reopening.reopen_request(db.session.get(AuthorizationRequest, reopened), user)
        reopening.cancel_reopening(
            db.session.get(AuthorizationRequest, reopened), user, "Finalement inutile."
        )
        db.session.execute(
            update(AuthorizationRequest)
            .where(AuthorizationRequest.id == draft)
            .values(updated_at=now - timedelta(days=60))
            .execution_options(synchronize_session=False)
        )
        assert expiry.remind_expiring(now + timedelta(days=1090)) == 1
        assert expiry.remind_and_archive_stale_drafts(now).reminded == 1
        assert expiry.expire_authorizations(now + timedelta(days=1096)) == 1
        assert expiry.remind_and_archive_stale_drafts(now + timedelta(days=40)).archived == 1
        db.session.commit()

        def kinds(request_id):
            return [
                (r.kind, r.recipient)
                for r in _rows(request_id)
                if r.kind != "submit_applicant" and not r.kind.startswith(("submit_", "approve_"))
            ]

        email = _email(applicant)
        assert kinds(validated) == [
            ("remind_expiry_applicant", email),
            ("expire_applicant", email),
        ]
        assert kinds(draft) == [("remind_draft_applicant", email), ("archive_applicant", email)]
        [cancelled] = _rows(reopened, "cancel_reopening")
        assert cancelled.recipient == email
        body = compose(cancelled).get_body(("plain",)).get_content()
        assert "Finalement inutile." in body and "reste active" in body
        assert "a expiré" in compose(_rows(validated, "expire")[0])["Subject"]


def test_saving_a_draft_step_fires_the_update_webhook_of_subscribed_hooks_only(
    app, factory, people
):
    from datapass.notifications.delivery import webhook_payload
    from datapass.notifications.models import WEBHOOK, Webhook

    org, applicant, _, _ = people
    request_id = factory.request(applicant, org, state="draft", complete=False)
    with app.app_context():
        subscribed = Webhook(
            definition_id="api_particulier",
            url="http://127.0.0.1:9/hook",
            events=["update", "submit"],
            secret_encrypted="x",
            enabled=True,
        )
        other = Webhook(
            definition_id="api_particulier",
            url="http://127.0.0.1:9/other",
            events=["submit"],
            secret_encrypted="x",
            enabled=True,
        )
        db.session.add_all([subscribed, other])
        db.session.commit()
        request_obj = db.session.get(AuthorizationRequest, request_id)
        services.save_step(request_obj, db.session.get(User, applicant), {"intitule": "Cantine"})
        db.session.commit()
        [row] = _rows(request_id, "update")
        assert (row.channel, row.webhook_id, row.event_id) == (WEBHOOK, subscribed.id, None)
        payload = webhook_payload(row)
        assert payload["event"] == "update"
        assert payload["data"]["data"]["intitule"] == "Cantine"
        # Saving is not an audit event: the trail still holds only the creation.
        from datapass.lifecycle.models import Event

        names = db.session.scalars(select(Event.name).filter_by(request_id=request_id)).all()
        assert names == ["create"]


def _submit_counting_statements(app, factory, instructors: int, opted_out: int):
    """(the SQL a submission and its notifications run, the instructor emails written)."""
    from sqlalchemy import event

    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    users = [factory.user(roles=(("instructor", "api_particulier"),)) for _ in range(instructors)]
    request_id = factory.request(applicant, org, state="draft")
    statements = []

    def count(connection, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        db.session.add_all(
            EmailOptOut(user_id=u, definition_id="api_particulier") for u in users[:opted_out]
        )
        db.session.commit()
        request_obj = db.session.get(AuthorizationRequest, request_id)
        user = db.session.get(User, applicant)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            services.submit_request(request_obj, user, terms_accepted=True, dpo_informed=True)
            db.session.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        told = len(_rows(request_id, "submit_instructor"))
        db.session.rollback()
    return statements, told


def test_submitting_costs_the_same_queries_whatever_the_number_of_instructors(app, factory):
    few, told_few = _submit_counting_statements(app, factory, instructors=2, opted_out=1)
    many, told_many = _submit_counting_statements(app, factory, instructors=30, opted_out=10)
    assert (told_few, told_many) == (1 + 0, 1 + 20)  # the previous ones are instructors too
    reads = [[q for q in run if q.lstrip().upper().startswith("SELECT")] for run in (few, many)]
    assert len(reads[1]) == len(reads[0])  # no query per instructor (one row written each)


def test_private_webhook_addresses_are_an_operator_setting(tmp_path, monkeypatch):
    base = {"ENV_NAME": "production", "VAR_DIR": str(tmp_path)}
    from datapass.notifications.settings import apply_notification_defaults

    config = dict(base)
    apply_notification_defaults(config)
    assert config["WEBHOOK_ALLOW_PRIVATE"] is False  # refused in production by default
    monkeypatch.setenv("DATAPASS_WEBHOOK_ALLOW_PRIVATE", "true")
    config = dict(base)
    apply_notification_defaults(config)
    assert config["WEBHOOK_ALLOW_PRIVATE"] is True
    monkeypatch.setenv("DATAPASS_WEBHOOK_ALLOW_PRIVATE", "peut-être")
    with pytest.raises(ConfigError, match="DATAPASS_WEBHOOK_ALLOW_PRIVATE"):
        apply_notification_defaults(dict(base))
