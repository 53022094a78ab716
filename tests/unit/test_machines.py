"""The request and authorization state machines, without Flask or a database.

Every (state, trigger) pair is checked against an explicit table, so that a state or a trigger
added to the machine without being added here makes the tests fail.
"""

from __future__ import annotations

import itertools

import pytest
from transitions import MachineError

from workflows.machines import (
    AUTHORIZATION_STATES,
    GUARD_MESSAGES,
    REQUEST_STATES,
    AuthorizationFlow,
    IllegalTransition,
    RequestFlow,
)

ILLEGAL = "illegal"

REQUEST_TRIGGERS = [
    "submit",
    "request_changes",
    "refuse",
    "approve",
    "archive",
    "revoke",
    "reopen",
    "cancel_reopening",
    "refuse_reopening",
]
# The reopening triggers, illegal from most states.
_NO_REOPENING = {"reopen": ILLEGAL, "cancel_reopening": ILLEGAL, "refuse_reopening": ILLEGAL}

# (state, trigger) -> resulting state, or ILLEGAL; with every guard satisfied.
REQUEST_TABLE = {
    "draft": {
        "submit": "submitted",
        "request_changes": ILLEGAL,
        "refuse": ILLEGAL,
        "approve": ILLEGAL,
        "archive": "archived",
        "revoke": ILLEGAL,
        "reopen": ILLEGAL,
        "cancel_reopening": "validated",
        "refuse_reopening": ILLEGAL,
    },
    "submitted": {
        "submit": ILLEGAL,
        "request_changes": "changes_requested",
        "refuse": "refused",
        "approve": "validated",
        "archive": ILLEGAL,
        "revoke": ILLEGAL,
        "reopen": ILLEGAL,
        "cancel_reopening": "validated",
        "refuse_reopening": "validated",
    },
    "changes_requested": {
        "submit": "submitted",
        "request_changes": ILLEGAL,
        "refuse": ILLEGAL,
        "approve": ILLEGAL,
        "archive": "archived",
        "revoke": ILLEGAL,
        "reopen": ILLEGAL,
        "cancel_reopening": "validated",
        "refuse_reopening": ILLEGAL,
    },
    "validated": {
        "submit": ILLEGAL,
        "request_changes": ILLEGAL,
        "refuse": ILLEGAL,
        "approve": ILLEGAL,
        "archive": ILLEGAL,
        "revoke": "revoked",
        "reopen": "draft",
        "cancel_reopening": ILLEGAL,
        "refuse_reopening": ILLEGAL,
    },
    "refused": {
        "submit": ILLEGAL,
        "request_changes": ILLEGAL,
        "refuse": ILLEGAL,
        "approve": ILLEGAL,
        "archive": "archived",
        "revoke": ILLEGAL,
        **_NO_REOPENING,
    },
    "archived": {trigger: ILLEGAL for trigger in REQUEST_TRIGGERS},
    "revoked": {
        "submit": ILLEGAL,
        "request_changes": ILLEGAL,
        "refuse": ILLEGAL,
        "approve": ILLEGAL,
        "archive": "archived",
        "revoke": ILLEGAL,
        **_NO_REOPENING,
    },
}

# Guard facts of the request flow, and their value that lets every move through.
REQUEST_GUARDS = {
    "is_complete": True,
    "terms_accepted": True,
    "has_reason": True,
    "has_active_authorization": False,
    "has_changes": True,
    "reopening_allowed": True,
    "is_reopening": True,
}

# trigger -> the guard facts that can block it (fact, blocking value).
REQUEST_TRIGGER_GUARDS = {
    "submit": [("is_complete", False), ("terms_accepted", False), ("has_changes", False)],
    "request_changes": [("has_reason", False)],
    "refuse": [("has_reason", False)],
    "approve": [],
    "archive": [("has_active_authorization", True)],
    "revoke": [("has_reason", False)],
    "reopen": [("reopening_allowed", False)],
    "cancel_reopening": [("is_reopening", False), ("has_reason", False)],
    "refuse_reopening": [("is_reopening", False), ("has_reason", False)],
}

AUTHORIZATION_TRIGGERS = ["revoke", "deprecate", "expire"]

AUTHORIZATION_TABLE = {
    "active": {"revoke": "revoked", "deprecate": "obsolete", "expire": "expired"},
    "obsolete": {"revoke": ILLEGAL, "deprecate": ILLEGAL, "expire": ILLEGAL},
    "revoked": {"revoke": ILLEGAL, "deprecate": ILLEGAL, "expire": ILLEGAL},
    "expired": {"revoke": ILLEGAL, "deprecate": ILLEGAL, "expire": ILLEGAL},
}

AUTHORIZATION_TRIGGER_GUARDS = {
    "revoke": [("has_reason", False)],
    "deprecate": [],
    "expire": [],
}


def _machine_triggers(flow) -> set[str]:
    return set(flow.machine.get_triggers(*flow.machine.states))


def _cells(table):
    return [(state, trigger, dest) for state, row in table.items() for trigger, dest in row.items()]


# --- the tables cover the machines ---------------------------------------------------------


@pytest.mark.parametrize(
    ("flow_class", "initial", "table", "triggers"),
    [
        (RequestFlow, "draft", REQUEST_TABLE, REQUEST_TRIGGERS),
        (AuthorizationFlow, "active", AUTHORIZATION_TABLE, AUTHORIZATION_TRIGGERS),
    ],
    ids=["request", "authorization"],
)
def test_table_covers_every_state_and_trigger_of_the_machine(flow_class, initial, table, triggers):
    flow = flow_class(state=initial)
    assert set(flow.machine.states) == set(table)
    assert _machine_triggers(flow) == set(triggers)
    for state, row in table.items():
        assert set(row) == set(triggers), state
    # No auto-transitions (to_draft()...): the table's triggers are the only ways to move.
    assert not any(t.startswith("to_") for t in _machine_triggers(flow))


def test_request_states_are_the_documented_ones():
    assert list(REQUEST_TABLE) == REQUEST_STATES
    assert list(AUTHORIZATION_TABLE) == AUTHORIZATION_STATES


def test_trigger_guard_table_covers_every_guard():
    used = {fact for guards in REQUEST_TRIGGER_GUARDS.values() for fact, _ in guards}
    assert used == set(REQUEST_GUARDS)
    assert set(GUARD_MESSAGES) == set(REQUEST_GUARDS)


# --- request flow: every (state, trigger) pair ---------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "dest"),
    _cells(REQUEST_TABLE),
    ids=[f"{s}-{t}" for s, t, _ in _cells(REQUEST_TABLE)],
)
def test_request_transition(state, trigger, dest):
    flow = RequestFlow(state=state)
    if dest == ILLEGAL:
        assert trigger not in flow.available_triggers()
        assert not flow.allowed(trigger)
        with pytest.raises(IllegalTransition) as excinfo:
            flow.fire(trigger)
        error = excinfo.value
        assert (error.trigger, error.state, error.reason) == (trigger, state, None)
        assert str(error) == f"Action « {trigger} » impossible depuis l'état « {state} »."
        assert flow.state == state, "an illegal move must not change the state"
    else:
        assert trigger in flow.available_triggers()
        assert flow.allowed(trigger)
        assert flow.fire(trigger) == dest
        assert flow.state == dest


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s, t, d in _cells(REQUEST_TABLE) if d == ILLEGAL],
)
def test_calling_an_illegal_trigger_directly_is_not_a_silent_no_op(state, trigger):
    flow = RequestFlow(state=state)
    with pytest.raises(MachineError):
        getattr(flow, trigger)()
    assert flow.state == state


def test_unknown_trigger_is_illegal():
    flow = RequestFlow(state="draft")
    assert not flow.allowed("validate")
    with pytest.raises(IllegalTransition, match="« validate » impossible depuis l'état « draft »"):
        flow.fire("validate")


@pytest.mark.parametrize("flow_class", [RequestFlow, AuthorizationFlow])
def test_unknown_state_is_refused(flow_class):
    with pytest.raises(ValueError, match="unknown state 'pending'"):
        flow_class(state="pending")


def test_available_triggers_lists_exactly_the_legal_moves():
    for state, row in REQUEST_TABLE.items():
        legal = {t for t, d in row.items() if d != ILLEGAL}
        assert set(RequestFlow(state=state).available_triggers()) == legal, state


def test_full_journey_with_resubmission():
    flow = RequestFlow(state="draft")
    for trigger, expected in [
        ("submit", "submitted"),
        ("request_changes", "changes_requested"),
        ("submit", "submitted"),
        ("approve", "validated"),
        ("revoke", "revoked"),
        ("archive", "archived"),
    ]:
        assert flow.fire(trigger) == expected
    assert flow.available_triggers() == []


# --- request flow: guards -------------------------------------------------------------------


GUARDED_MOVES = [
    (state, trigger, fact, blocking)
    for state, trigger, dest in _cells(REQUEST_TABLE)
    if dest != ILLEGAL
    for fact, blocking in REQUEST_TRIGGER_GUARDS[trigger]
]


@pytest.mark.parametrize(
    ("state", "trigger", "fact", "blocking"),
    GUARDED_MOVES,
    ids=[f"{s}-{t}-{f}" for s, t, f, _ in GUARDED_MOVES],
)
def test_request_guard_blocks_its_move_with_its_reason(state, trigger, fact, blocking):
    flow = RequestFlow(state=state, **{fact: blocking})
    # The trigger exists from this state; the guard is what refuses it.
    assert trigger in flow.available_triggers()
    assert not flow.allowed(trigger)
    with pytest.raises(IllegalTransition) as excinfo:
        flow.fire(trigger)
    error = excinfo.value
    assert error.reason == GUARD_MESSAGES[fact]
    assert str(error) == (
        f"Action « {trigger} » impossible depuis l'état « {state} » : {GUARD_MESSAGES[fact]}."
    )
    assert flow.state == state


def test_guard_reasons_are_in_french_and_explicit():
    assert "incomplète" in GUARD_MESSAGES["is_complete"]
    assert "conditions générales" in GUARD_MESSAGES["terms_accepted"]
    assert "délégué à la protection des données" in GUARD_MESSAGES["terms_accepted"]
    assert "motif" in GUARD_MESSAGES["has_reason"]
    assert "habilitation active" in GUARD_MESSAGES["has_active_authorization"]


def test_approve_has_no_guard():
    flow = RequestFlow(
        state="submitted",
        is_complete=False,
        terms_accepted=False,
        has_reason=False,
        has_active_authorization=True,
    )
    assert flow.fire("approve") == "validated"


def test_unrelated_guards_do_not_block_a_move():
    # A missing reason does not block a submission; an incomplete request can still be refused.
    assert RequestFlow(state="draft", has_reason=False).fire("submit") == "submitted"
    assert RequestFlow(state="submitted", is_complete=False).fire("refuse") == "refused"
    assert RequestFlow(state="draft", has_reason=False).fire("archive") == "archived"


def _request_guard_combinations():
    for values in itertools.product([True, False], repeat=len(REQUEST_GUARDS)):
        yield dict(zip(REQUEST_GUARDS, values, strict=True))


def test_allowed_agrees_with_fire_for_every_state_trigger_and_guard_combination():
    # One flow, reset between checks: building a Machine costs milliseconds, 672 of them add up.
    flow = RequestFlow(state="draft")
    checked = 0
    for facts in _request_guard_combinations():
        for fact, value in facts.items():
            setattr(flow, fact, value)
        for state, trigger, dest in _cells(REQUEST_TABLE):
            flow.machine.set_state(state)
            assert flow.state == state
            blocked = any(facts[fact] == value for fact, value in REQUEST_TRIGGER_GUARDS[trigger])
            expected = dest != ILLEGAL and not blocked
            assert flow.allowed(trigger) is expected, (state, trigger, facts)
            assert (trigger in flow.available_triggers()) is (dest != ILLEGAL)
            if expected:
                assert flow.fire(trigger) == dest
            else:
                with pytest.raises(IllegalTransition):
                    flow.fire(trigger)
                assert flow.state == state
            checked += 1
    assert checked == 2 ** len(REQUEST_GUARDS) * len(REQUEST_STATES) * len(REQUEST_TRIGGERS)


def test_allowed_does_not_move_the_flow():
    flow = RequestFlow(state="submitted")
    for trigger in REQUEST_TRIGGERS:
        flow.allowed(trigger)
        flow.available_triggers()
    assert flow.state == "submitted"


def test_guard_facts_are_read_when_firing():
    flow = RequestFlow(state="draft", is_complete=False)
    with pytest.raises(IllegalTransition):
        flow.fire("submit")
    flow.is_complete = True
    assert flow.fire("submit") == "submitted"


# --- authorization flow ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "trigger", "dest"),
    _cells(AUTHORIZATION_TABLE),
    ids=[f"{s}-{t}" for s, t, _ in _cells(AUTHORIZATION_TABLE)],
)
def test_authorization_transition(state, trigger, dest):
    flow = AuthorizationFlow(state=state)
    if dest == ILLEGAL:
        assert trigger not in flow.available_triggers()
        assert not flow.allowed(trigger)
        with pytest.raises(IllegalTransition) as excinfo:
            flow.fire(trigger)
        assert str(excinfo.value) == f"Action « {trigger} » impossible depuis l'état « {state} »."
        assert flow.state == state
    else:
        assert trigger in flow.available_triggers()
        assert flow.allowed(trigger)
        assert flow.fire(trigger) == dest
        assert flow.state == dest


def test_authorization_revoke_needs_a_reason():
    flow = AuthorizationFlow(state="active", has_reason=False)
    assert "revoke" in flow.available_triggers()
    assert not flow.allowed("revoke")
    with pytest.raises(IllegalTransition) as excinfo:
        flow.fire("revoke")
    assert excinfo.value.reason == GUARD_MESSAGES["has_reason"]
    assert flow.state == "active"
    # Deprecation (a newer authorization replaces this one) needs no reason.
    assert flow.allowed("deprecate")
    assert flow.fire("deprecate") == "obsolete"


def test_authorization_allowed_agrees_with_fire():
    for has_reason in (True, False):
        for state, trigger, dest in _cells(AUTHORIZATION_TABLE):
            blocked = any(
                {"has_reason": has_reason}[f] == v for f, v in AUTHORIZATION_TRIGGER_GUARDS[trigger]
            )
            expected = dest != ILLEGAL and not blocked
            assert (
                AuthorizationFlow(state=state, has_reason=has_reason).allowed(trigger) is expected
            )
            flow = AuthorizationFlow(state=state, has_reason=has_reason)
            if expected:
                assert flow.fire(trigger) == dest
            else:
                with pytest.raises(IllegalTransition):
                    flow.fire(trigger)
                assert flow.state == state


def test_authorization_terminal_states_have_no_way_out():
    assert AuthorizationFlow(state="revoked").available_triggers() == []
    assert AuthorizationFlow(state="obsolete").available_triggers() == []


def test_flows_do_not_share_state():
    first, second = RequestFlow(state="draft"), RequestFlow(state="draft")
    first.fire("submit")
    assert second.state == "draft"
    assert second.fire("archive") == "archived"
    assert first.state == "submitted"
