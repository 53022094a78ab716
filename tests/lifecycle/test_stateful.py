"""Property-based: random sequences of actions by random roles on a few requests, through the
services (the code the pages and the API call), with the credentials checked at the OAuth
endpoints. After every step:

- at most one active authorization per request, and exactly one while it is validated or
  reopened, none otherwise;
- a credential gets tokens, and its tokens introspect active, only while its authorization is;
- every change has its event: the last request event's state is the request's state, the
  last event of each authorization its state, and a step that changed anything wrote events;
- no forbidden move succeeds: an independent oracle says which moves are allowed; an allowed
  move must succeed, any other must fail with a domain error and change nothing.
"""

from __future__ import annotations

import base64
import sys
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from datapass.accounts.models import User
from datapass.authorizations.models import Authorization
from datapass.catalog import get_definition
from datapass.demo import complete_request_data
from datapass.errors import DomainError
from datapass.extensions import db
from datapass.lifecycle import reopening, revocation, services, transfer
from datapass.lifecycle.models import Event
from datapass.oauth.models import Credential
from datapass.oauth.services import credential_for, renew_secret
from datapass.oauth.validity import authorization_is_live
from datapass.requests.models import AuthorizationRequest

DEFINITION = "api_particulier"
ROLES = ("applicant", "colleague", "instructor", "reporter", "outsider", "admin")
SCOPES = ["cnaf_quotient_familial", "msa_quotient_familial", "cnaf_rsa", "cnaf_aah"]
REOPENED_STATES = ("draft", "submitted", "changes_requested")
# Any role, drawn more often as the two who can act, so that walks get somewhere.
ROLE = st.one_of(st.just("applicant"), st.just("instructor"), st.sampled_from(ROLES))
REASON = st.sampled_from(["Motif précis.", ""])
MOVES = [
    "save_scopes",
    "submit",
    "decide",
    "archive",
    "reopen",
    "cancel_reopening",
    "revoke",
    "transfer",
]
# Moves that succeeded, over all examples: the test checks the interesting ones were reached.
SUCCEEDED: Counter[str] = Counter()
ATTEMPTED: Counter[str] = Counter()


def _basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@dataclass
class Tracked:
    """What the test remembers of one request: its secret and the tokens fetched."""

    request_id: int
    secret: str | None = None
    client_id: str | None = None
    # token -> (its authorization's id, that authorization's state when last introspected)
    tokens: dict[str, tuple[int, str | None]] = field(default_factory=dict)


class Lifecycle(RuleBasedStateMachine):
    app = None  # set by the test
    producer: tuple[str, str] | None = None

    @initialize()
    def setup_world(self):
        from tests.factories import Factory

        factory = Factory(self.app)
        self.org = factory.organization()
        other_org = factory.organization()
        self.users = {
            "applicant": factory.user(organizations=(self.org,)),
            "colleague": factory.user(organizations=(self.org,)),
            "instructor": factory.user(roles=(("instructor", DEFINITION),)),
            "reporter": factory.user(roles=(("reporter", DEFINITION),)),
            "outsider": factory.user(organizations=(other_org,)),
            "admin": factory.user(admin=True),
        }
        self.tracked: list[Tracked] = []
        self.ctx = self.app.app_context()
        self.ctx.push()

    def teardown(self):
        if hasattr(self, "ctx"):
            db.session.rollback()
            self.ctx.pop()

    # Helpers.

    def user(self, role: str) -> User:
        return db.session.get(User, self.users[role])

    def req(self, index: int) -> AuthorizationRequest:
        tracked = self.tracked[index % len(self.tracked)]
        return db.session.get(AuthorizationRequest, tracked.request_id)

    def snapshot(self, request_obj: AuthorizationRequest) -> tuple:
        authorizations = db.session.scalars(
            select(Authorization.state)
            .where(Authorization.request_id == request_obj.id)
            .order_by(Authorization.id)
        ).all()
        events = db.session.scalar(
            select(func.count()).select_from(Event).where(Event.request_id == request_obj.id)
        )
        return (
            request_obj.state,
            dict(request_obj.data),
            request_obj.applicant_id,
            tuple(authorizations),
            reopening.is_reopening(request_obj),
            events,
        )

    def attempt(
        self, request_obj, allowed: bool, action, *expected_events: str, label: str = ""
    ) -> None:
        """Run `action`; it must succeed iff `allowed`, a refusal changing nothing."""
        name = label or sys._getframe(1).f_code.co_name  # the rule, for SUCCEEDED
        ATTEMPTED[name] += 1
        request_id = request_obj.id
        before = self.snapshot(request_obj)
        first_event = db.session.scalar(select(func.max(Event.id))) or 0
        try:
            action()
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            assert not allowed, f"allowed move refused: {exc.message}"
            after = self.snapshot(db.session.get(AuthorizationRequest, request_id))
            assert after == before, "a refused move changed something"
            return
        assert allowed, "a forbidden move succeeded"
        SUCCEEDED[name] += 1
        after = self.snapshot(db.session.get(AuthorizationRequest, request_id))
        written = db.session.scalars(
            select(Event.name).where(Event.id > first_event).order_by(Event.id)
        ).all()
        for name in expected_events:
            assert name in written, (name, written)
        # Editing a draft's data is not an event (the next submission records what changed);
        # any move of the request, its applicant or its authorizations is.
        moved = (after[0], *after[2:5]) != (before[0], *before[2:5])
        if moved:
            assert written, "a move without an event"

    def is_instructor(self, role: str) -> bool:
        return role in ("instructor", "admin")

    def is_applicant(self, request_obj, role: str) -> bool:
        return self.users[role] == request_obj.applicant_id

    def has_changes(self, request_obj) -> bool:
        """The spec: a reopening needs a change, unless it renews an ended authorization."""
        if not reopening.is_reopening(request_obj):
            return True
        if reopening.active_authorization(request_obj) is None:
            return True
        return bool(reopening.reopening_changes(request_obj))

    # Rules: start a request, any move by anyone (random_move), the next ordinary move
    # (advance), a token request.

    @precondition(lambda self: len(self.tracked) < 3)
    @rule()
    def start(self):
        applicant = self.user("applicant")
        definition = get_definition(DEFINITION)
        organization = applicant.organizations[0]
        request_obj = services.start_request(applicant, definition, organization)
        services.save_step(request_obj, applicant, complete_request_data(definition, applicant))
        db.session.commit()
        self.tracked.append(Tracked(request_obj.id))

    # Moves, each checked against the oracle by `attempt`.

    def save_scopes(self, index, role, scopes):
        request_obj = self.req(index)
        allowed = self.is_applicant(request_obj, role) and request_obj.is_editable
        chosen = [s for s in SCOPES if s in scopes]
        self.attempt(
            request_obj,
            allowed,
            lambda: services.save_step(request_obj, self.user(role), {"scopes": chosen}),
        )

    def submit(self, index, role):
        request_obj = self.req(index)
        allowed = (
            self.is_applicant(request_obj, role)
            and request_obj.state in ("draft", "changes_requested")
            and self.has_changes(request_obj)
        )
        self.attempt(
            request_obj,
            allowed,
            lambda: services.submit_request(
                request_obj, self.user(role), terms_accepted=True, dpo_informed=True
            ),
            "submit",
        )

    def decide(self, index, role, decision, reason):
        request_obj = self.req(index)
        allowed = self.is_instructor(role) and request_obj.state == "submitted"
        if decision != "approve":
            allowed = allowed and bool(reason)
        user = self.user(role)
        if decision == "approve":
            action = lambda: services.approve_request(request_obj, user, reason)  # noqa: E731
            expected = ("approve", "issue_authorization", "issue_credential")
        elif decision == "refuse":
            action = lambda: services.refuse_request(request_obj, user, reason)  # noqa: E731
            expected = ()
        else:
            action = lambda: services.request_changes(request_obj, user, reason)  # noqa: E731
            expected = ("request_changes",)
        self.attempt(request_obj, allowed, action, *expected)

    def archive(self, index, role):
        request_obj = self.req(index)
        allowed = (
            self.is_applicant(request_obj, role)
            and request_obj.state in ("draft", "changes_requested", "refused", "revoked")
            and not reopening.is_reopening(request_obj)
            and reopening.active_authorization(request_obj) is None
        )
        self.attempt(
            request_obj,
            allowed,
            lambda: services.archive_request(request_obj, self.user(role)),
            "archive",
        )

    def reopen(self, index, role):
        request_obj = self.req(index)
        allowed = self.is_applicant(request_obj, role) and request_obj.state == "validated"
        self.attempt(
            request_obj,
            allowed,
            lambda: reopening.reopen_request(request_obj, self.user(role)),
            "reopen",
        )

    def cancel_reopening(self, index, role, reason):
        request_obj = self.req(index)
        allowed = (
            (self.is_applicant(request_obj, role) or self.is_instructor(role))
            and reopening.is_reopening(request_obj)
            and bool(reason)
        )
        self.attempt(
            request_obj,
            allowed,
            lambda: reopening.cancel_reopening(request_obj, self.user(role), reason),
            "cancel_reopening",
        )

    def revoke(self, index, role, reason):
        request_obj = self.req(index)
        open_ = reopening.is_reopening(request_obj)
        allowed = (
            self.is_instructor(role)
            and (request_obj.state == "validated" or open_)
            and bool(reason)
        )
        self.attempt(
            request_obj,
            allowed,
            lambda: revocation.revoke_request(request_obj, self.user(role), reason),
            "revoke",
            "revoke_authorization",
            *(("cancel_reopening",) if open_ else ()),
            label="revoke_reopened" if open_ else "revoke",
        )

    def transfer(self, index, role, to):
        request_obj = self.req(index)
        new_applicant = self.user(to)
        allowed = (
            (self.is_applicant(request_obj, role) or role == "admin")
            and request_obj.state != "archived"
            and to != "outsider"
            and new_applicant.id != request_obj.applicant_id
        )
        self.attempt(
            request_obj,
            allowed,
            lambda: transfer.transfer_request(request_obj, self.user(role), new_applicant),
            "transfer",
        )

    @precondition(lambda self: self.tracked)
    @rule(
        move=st.sampled_from(MOVES),
        index=st.integers(0, 2),
        role=ROLE,
        scopes=st.sets(st.sampled_from(SCOPES), min_size=1),
        decision=st.sampled_from(["approve", "refuse", "request_changes"]),
        reason=REASON,
        to=st.sampled_from(["applicant", "colleague", "outsider"]),
    )
    def random_move(self, move, index, role, scopes, decision, reason, to):
        """Any move, by anyone, on any request: the oracle says whether it must succeed."""
        arguments = {
            "save_scopes": (scopes,),
            "decide": (decision, reason),
            "cancel_reopening": (reason,),
            "revoke": (reason,),
            "transfer": (to,),
        }
        getattr(self, move)(index, role, *arguments.get(move, ()))

    @precondition(lambda self: self.tracked)
    @rule(index=st.integers(0, 2), scope=st.sampled_from(SCOPES), pick=st.integers(0, 5))
    def advance(self, index, scope, pick):
        """One of the ordinary next moves of a request, by the right person, so that random
        walks get somewhere (the oracle still says whether it must succeed)."""
        request_obj = self.req(index)
        state, open_ = request_obj.state, reopening.is_reopening(request_obj)
        if state in ("draft", "changes_requested"):
            if open_ and pick == 0:
                self.cancel_reopening(index, "instructor", "Motif précis.")
            elif open_ and pick == 2:
                self.revoke(index, "instructor", "Motif précis.")
            elif not self.has_changes(request_obj) or pick == 1:
                scopes = request_obj.data.get("scopes", [])
                changed = [s for s in scopes if s != scope]
                self.save_scopes(index, "applicant", set(changed or [scope]) | {scope})
            else:
                self.submit(index, "applicant")
        elif state == "submitted":
            decision = ("approve", "approve", "refuse", "request_changes")[pick % 4]
            if open_ and pick in (4, 5):
                self.revoke(index, "instructor", "Motif précis.")
            else:
                self.decide(index, "instructor", decision, "Motif précis.")
        elif state == "validated":
            if pick in (0, 1):
                self.revoke(index, "instructor", "Motif précis.")
            elif pick == 2:
                self.transfer(index, "applicant", "colleague")
            else:
                self.reopen(index, "applicant")

    @precondition(lambda self: self.tracked)
    @rule(index=st.integers(0, 2))
    def fetch_token(self, index):
        """The applicant makes sure a secret exists, then the consumer asks for a token."""
        tracked = self.tracked[index % len(self.tracked)]
        request_obj = db.session.get(AuthorizationRequest, tracked.request_id)
        latest = reopening.latest_authorization(request_obj)
        if latest is None:
            return
        credential = credential_for(latest)
        live = authorization_is_live(latest)
        if tracked.secret is None and live:
            tracked.secret = renew_secret(credential, request_obj.applicant)
            tracked.client_id = credential.client_id
            db.session.commit()
        if tracked.secret is None:
            return
        response = self.app.test_client().post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers=_basic(tracked.client_id, tracked.secret),
            base_url="https://localhost",
        )
        assert (response.status_code == 200) is live, (response.status_code, latest.state)
        if live:
            tracked.tokens[response.json["access_token"]] = (latest.id, None)

    # Invariants.

    @invariant()
    def authorizations_follow_the_request(self):
        if not hasattr(self, "ctx"):
            return
        for tracked in self.tracked:
            request_obj = db.session.get(AuthorizationRequest, tracked.request_id)
            states = db.session.scalars(
                select(Authorization.state).where(Authorization.request_id == request_obj.id)
            ).all()
            active = states.count("active")
            assert active <= 1
            open_ = reopening.is_reopening(request_obj)
            if open_:
                assert request_obj.state in REOPENED_STATES
            should_be_active = request_obj.state == "validated" or open_
            assert active == (1 if should_be_active else 0), (request_obj.state, states)

    @invariant()
    def credentials_work_only_while_their_authorization_is_active(self):
        if not hasattr(self, "ctx"):
            return
        for tracked in self.tracked:
            for credential in db.session.scalars(
                select(Credential)
                .join(Authorization, Credential.authorization_id == Authorization.id)
                .where(Authorization.request_id == tracked.request_id)
            ):
                latest = reopening.latest_authorization(
                    db.session.get(AuthorizationRequest, tracked.request_id)
                )
                assert credential.authorization_id == latest.id
                assert authorization_is_live(latest) is (latest.state == "active")
            # Introspected again whenever its authorization's state moved (and when new).
            for token, (authorization_id, checked) in tracked.tokens.items():
                state = db.session.get(Authorization, authorization_id).state
                if state == checked:
                    continue
                response = self.app.test_client().post(
                    "/oauth/introspect",
                    data={"token": token},
                    headers=_basic(*self.producer),
                    base_url="https://localhost",
                )
                assert response.json["active"] is (state == "active"), (state, response.json)
                tracked.tokens[token] = (authorization_id, state)

    @invariant()
    def every_state_is_the_one_its_last_event_says(self):
        if not hasattr(self, "ctx"):
            return
        for tracked in self.tracked:
            request_obj = db.session.get(AuthorizationRequest, tracked.request_id)
            last = db.session.scalar(
                select(Event.to_state)
                .where(
                    Event.request_id == request_obj.id,
                    Event.authorization_id.is_(None),
                    Event.to_state.is_not(None),
                )
                .order_by(Event.id.desc())
            )
            assert last == request_obj.state
            for authorization in db.session.scalars(
                select(Authorization).where(Authorization.request_id == request_obj.id)
            ):
                last = db.session.scalar(
                    select(Event.to_state)
                    .where(Event.authorization_id == authorization.id, Event.to_state.is_not(None))
                    .order_by(Event.id.desc())
                )
                assert last == authorization.state


@pytest.fixture
def producer(world):
    return world.producer(DEFINITION)


def test_random_sequences_keep_the_lifecycle_invariants(app, producer):
    Lifecycle.app = app
    Lifecycle.producer = producer
    SUCCEEDED.clear()
    ATTEMPTED.clear()
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=6,
            derandomize=True,  # the same walks on every run: no flaky coverage check
            stateful_step_count=50,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # The random walks did reach the interesting moves, not only refusals.
    moves = ("submit", "decide", "reopen", "cancel_reopening", "revoke", "revoke_reopened")
    for move in (*moves, "transfer"):
        assert SUCCEEDED[move] > 0, (SUCCEEDED, ATTEMPTED)
