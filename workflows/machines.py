"""State machines of authorization requests and authorizations.

Built with `transitions`, importable with no Flask and no database: a flow wraps a state and the
facts its guards need, and `fire()` either moves it or raises. Services in `datapass.lifecycle`
are the only code that fires them, and they persist the resulting state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

# Requests. "archived" is terminal; "revoked" can still be archived.
REQUEST_STATES = [
    "draft",
    "submitted",
    "changes_requested",
    "validated",
    "refused",
    "archived",
    "revoked",
]

REQUEST_TRANSITIONS = [
    {
        "trigger": "submit",
        "source": ["draft", "changes_requested"],
        "dest": "submitted",
        "conditions": ["is_complete", "terms_accepted", "has_changes"],
    },
    {
        "trigger": "request_changes",
        "source": "submitted",
        "dest": "changes_requested",
        "conditions": ["has_reason"],
    },
    {"trigger": "refuse", "source": "submitted", "dest": "refused", "conditions": ["has_reason"]},
    {"trigger": "approve", "source": "submitted", "dest": "validated"},
    {
        "trigger": "archive",
        "source": ["draft", "changes_requested", "refused", "revoked"],
        "dest": "archived",
        "unless": ["has_active_authorization"],
    },
    {"trigger": "revoke", "source": "validated", "dest": "revoked", "conditions": ["has_reason"]},
    # Reopening: a validated request goes back to a draft while its authorization stays active;
    # refusing or cancelling the reopening brings it back to "validated" (data restored).
    {
        "trigger": "reopen",
        "source": "validated",
        "dest": "draft",
        "conditions": ["reopening_allowed"],
    },
    {
        "trigger": "cancel_reopening",
        "source": ["draft", "submitted", "changes_requested"],
        "dest": "validated",
        "conditions": ["is_reopening", "has_reason"],
    },
    {
        "trigger": "refuse_reopening",
        "source": "submitted",
        "dest": "validated",
        "conditions": ["is_reopening", "has_reason"],
    },
]

AUTHORIZATION_STATES = ["active", "obsolete", "revoked", "expired"]

AUTHORIZATION_TRANSITIONS = [
    {"trigger": "revoke", "source": "active", "dest": "revoked", "conditions": ["has_reason"]},
    {"trigger": "deprecate", "source": "active", "dest": "obsolete"},
    # The definition's authorization_lifetime_days ran out (checked by the service).
    {"trigger": "expire", "source": "active", "dest": "expired"},
]

# Why a guard said no, for the error message (French: it reaches the user as is).
GUARD_MESSAGES = {
    "is_complete": "la demande est incomplète : chaque étape doit être remplie et valide",
    "terms_accepted": (
        "les conditions générales doivent être acceptées et le délégué à la protection des "
        "données informé"
    ),
    "has_reason": "un motif est obligatoire",
    "has_active_authorization": "une habilitation active est rattachée à cette demande",
    "has_changes": "une réouverture ne peut être soumise sans aucune modification",
    "reopening_allowed": "cette API ne permet pas de rouvrir une demande validée",
    "is_reopening": "aucune réouverture n'est en cours sur cette demande",
}


class IllegalTransition(Exception):
    """A trigger that the current state does not allow, or whose guard refused."""

    def __init__(self, trigger: str, state: str, reason: str | None = None):
        self.trigger, self.state, self.reason = trigger, state, reason
        detail = f" : {reason}" if reason else ""
        super().__init__(f"Action « {trigger} » impossible depuis l'état « {state} »{detail}.")


@dataclass
class _Flow:
    """Common ground of both flows: a state, guard facts, and a strict `fire`."""

    state: str
    machine: Machine = field(init=False, repr=False)

    def _build(self, states: list[str], transitions: list[dict]) -> None:
        if self.state not in states:
            raise ValueError(f"unknown state {self.state!r}")
        self.machine = Machine(
            model=self,
            states=states,
            transitions=transitions,
            initial=self.state,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_attribute="state",
        )

    def available_triggers(self) -> list[str]:
        """Triggers whose source includes the current state (guards not evaluated)."""
        return self.machine.get_triggers(self.state)

    def allowed(self, trigger: str) -> bool:
        """True when `trigger` is possible now, guards included."""
        if trigger not in self.available_triggers():
            return False
        return self._failing_guard(trigger) is None

    def _failing_guard(self, trigger: str) -> str | None:
        for transition in self.machine.get_transitions(trigger, source=self.state):
            for condition in transition.conditions:
                if bool(getattr(self, condition.func)) != condition.target:
                    return condition.func
        return None

    def fire(self, trigger: str) -> str:
        """Move to the trigger's destination or raise IllegalTransition; returns the new state."""
        if trigger not in self.available_triggers():
            raise IllegalTransition(trigger, self.state)
        failing = self._failing_guard(trigger)
        if failing is not None:
            raise IllegalTransition(trigger, self.state, GUARD_MESSAGES.get(failing, failing))
        getattr(self, trigger)()
        return self.state


@dataclass
class RequestFlow(_Flow):
    """The life of an authorization request ("demande")."""

    is_complete: bool = True
    terms_accepted: bool = True
    has_reason: bool = True
    has_active_authorization: bool = False
    # Reopening facts; services always pass them (defaults let the moves through, as above).
    has_changes: bool = True
    reopening_allowed: bool = True
    is_reopening: bool = True

    def __post_init__(self) -> None:
        self._build(REQUEST_STATES, REQUEST_TRANSITIONS)


@dataclass
class AuthorizationFlow(_Flow):
    """The life of an authorization ("habilitation") issued by a validation."""

    has_reason: bool = True

    def __post_init__(self) -> None:
        self._build(AUTHORIZATION_STATES, AUTHORIZATION_TRANSITIONS)
