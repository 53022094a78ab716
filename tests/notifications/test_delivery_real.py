"""End to end with real parts: Redis, a Celery worker process, SMTP (aiosmtpd), HTTP receiver."""

from __future__ import annotations

from sqlalchemy import func, select

from datapass.accounts.models import User
from datapass.extensions import db
from datapass.lifecycle import services
from datapass.notifications.models import FAILED, SENT, OutboxMessage
from datapass.requests.models import AuthorizationRequest
from tests.notifications.servers import wait_for


def _people(stack, definition_id="api_particulier"):
    factory = stack.factory
    org = factory.organization()
    applicant = factory.user(organizations=(org,))
    instructor = factory.user(roles=(("instructor", definition_id),))
    return org, applicant, instructor


def _email(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).email


def _rows(app, request_id):
    with app.app_context():
        return db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.context["request_id"].as_integer() == request_id)
            .order_by(OutboxMessage.id)
        ).all()


def test_submit_emails_the_applicant_and_the_instructors_in_french(stack):
    org, applicant, instructor = _people(stack)
    request_id = stack.factory.request(applicant, org, state="submitted")
    applicant_mail = _email(stack.app, applicant)
    instructor_mail = _email(stack.app, instructor)

    wait_for(
        lambda: stack.smtp.to(applicant_mail) and stack.smtp.to(instructor_mail),
        what="both submit emails",
    )
    mail = stack.smtp.to(applicant_mail)[0]
    assert "a bien été soumise" in mail["Subject"]
    assert mail.get_body(("plain",)).get_content().startswith("Bonjour,")
    assert f"http://datapass.test/requests/{request_id}" in mail.get_body(("html",)).get_content()
    to_instructor = stack.smtp.to(instructor_mail)[0]
    assert "Nouvelle demande à instruire" in to_instructor["Subject"]
    assert to_instructor["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert to_instructor["List-Unsubscribe"].startswith(
        "<http://datapass.test/notifications/unsubscribe/"
    )
    wait_for(lambda: all(r.state == SENT for r in _rows(stack.app, request_id)), what="sent")


def test_a_refused_smtp_delivery_is_retried_without_sending_a_duplicate(stack):
    org, applicant, instructor = _people(stack)
    applicant_mail = _email(stack.app, applicant)
    instructor_mail = _email(stack.app, instructor)
    stack.smtp.fail_next[applicant_mail] = 2  # two temporary failures, then accepted
    request_id = stack.factory.request(applicant, org, state="submitted")

    wait_for(lambda: stack.smtp.to(applicant_mail), what="the retried email")
    wait_for(lambda: all(r.state == SENT for r in _rows(stack.app, request_id)), what="sent")
    rows = {r.recipient: r for r in _rows(stack.app, request_id)}
    assert rows[applicant_mail].attempts == 3
    assert rows[instructor_mail].attempts == 1
    # The relay keeps running: nothing is sent twice, to either recipient.
    with stack.app.app_context():
        from datapass.notifications import delivery

        assert delivery.deliver(rows[applicant_mail].id).status == "skipped"
    wait_for(lambda: stack.smtp.to(instructor_mail), what="the instructor's email")
    import time

    time.sleep(1.5)
    assert len(stack.smtp.to(applicant_mail)) == 1
    assert len(stack.smtp.to(instructor_mail)) == 1


def test_after_the_last_attempt_the_delivery_is_failed_and_an_admin_replays_it(stack):
    org, applicant, _ = _people(stack)
    admin = stack.factory.user(admin=True)
    applicant_mail = _email(stack.app, applicant)
    stack.smtp.fail_next[applicant_mail] = 3  # NOTIFICATION_MAX_ATTEMPTS
    request_id = stack.factory.request(applicant, org, state="submitted")

    def failed_row():
        rows = [r for r in _rows(stack.app, request_id) if r.recipient == applicant_mail]
        return rows and rows[0].state == FAILED and rows[0]

    row = wait_for(failed_row, what="the failed state")
    assert "451" in row.last_error
    assert stack.smtp.to(applicant_mail) == []

    client = stack.app.test_client()
    client.post("/login", data={"email": _email(stack.app, admin)})
    page = client.get("/admin/notifications")
    assert page.status_code == 200
    assert applicant_mail in page.get_data(as_text=True)
    response = client.post("/admin/notifications/replay", data={"outbox_id": [str(row.id)]})
    assert response.status_code == 302

    wait_for(lambda: stack.smtp.to(applicant_mail), what="the replayed email")
    assert len(stack.smtp.to(applicant_mail)) == 1
    wait_for(lambda: not failed_row(), what="the row to leave the failed state")


def test_redis_down_during_submit_and_approve_delays_but_loses_nothing(stack):
    org, applicant, instructor = _people(stack)
    request_id = stack.factory.request(applicant, org, state="draft")
    applicant_mail = _email(stack.app, applicant)
    stack.redis.stop()
    try:
        with stack.app.app_context():
            request_obj = db.session.get(AuthorizationRequest, request_id)
            applicant_user = db.session.get(User, applicant)
            services.submit_request(
                request_obj, applicant_user, terms_accepted=True, dpo_informed=True
            )
            db.session.commit()  # the kick fails: Redis is down; the rows are committed
            request_obj = db.session.get(AuthorizationRequest, request_id)
            services.approve_request(request_obj, db.session.get(User, instructor), "Bravo.")
            db.session.commit()
        assert {r.state for r in _rows(stack.app, request_id)} == {"pending"}
    finally:
        stack.redis.start()

    def delivered():
        subjects = [m["Subject"] for m in stack.smtp.to(applicant_mail)]
        return any("soumise" in s for s in subjects) and any("validée" in s for s in subjects)

    wait_for(delivered, timeout=40, what="the emails after Redis came back")
    wait_for(lambda: all(r.state == SENT for r in _rows(stack.app, request_id)), what="sent")
    import time

    time.sleep(1.5)
    assert len(stack.smtp.to(applicant_mail)) == 2  # exactly once per event
    assert len(stack.smtp.to(_email(stack.app, instructor))) == 1


def test_a_worker_killed_mid_delivery_delivers_after_restart(stack):
    org, applicant, _ = _people(stack)
    applicant_mail = _email(stack.app, applicant)
    stack.smtp.hang[applicant_mail] = 30  # the SMTP server holds the DATA answer
    request_id = stack.factory.request(applicant, org, state="submitted")

    def sending():
        rows = [r for r in _rows(stack.app, request_id) if r.recipient == applicant_mail]
        return rows and rows[0].state == "sending"

    wait_for(sending, what="the delivery to start")
    stack.worker.kill()
    stack.worker.start()

    wait_for(lambda: stack.smtp.to(applicant_mail), timeout=30, what="delivery after restart")
    assert len(stack.smtp.to(applicant_mail)) == 1
    with stack.app.app_context():
        count = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.recipient == applicant_mail)
        )
    assert count == 1
