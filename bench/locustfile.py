"""Locust scenario of the load test (see bench/README.md, section "Load"): applicants and
instructors of one API driving the production pages, signed in through OpenID Connect.

Started by bench/load_bench.py, which prepares the accounts and passes them in the JSON file
named by LOAD_ACCOUNTS. Each simulated user is one prepared account:

- an applicant (user of its own organisation) starts a request for the API, fills every step
  (forms parsed for their CSRF token, choices read from the page), submits it, answers the
  changes an instructor asks for and submits again, reads its requests and messages;
- an instructor opens the queue (its share of the requests: the submitted ones of its group of
  applicants, found by the applicants' email domain), opens the oldest, and sends a message,
  asks for changes or validates it; now and then it looks at the whole dashboard.

Users wait a think time (LOAD_THINK, min,max seconds) between tasks and before each form they
post, as someone reading and typing would. Instructors split the applicants in groups so that
two instructors never decide the same request at once: an optimistic-locking conflict (409) is
then a bug, counted as an error like any other unexpected answer. Every POST is sent without
following its redirect, so each page kind is timed on its own.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import threading
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

with open(os.environ["LOAD_ACCOUNTS"], encoding="utf-8") as _file:
    ACCOUNTS = json.load(_file)
CA_FILE = os.environ.get("LOAD_CA_FILE") or True
THINK = [float(x) for x in os.environ.get("LOAD_THINK", "5,15").split(",")]
TIMEOUT = 60
DEFINITION = ACCOUNTS["definition"]

_applicants = itertools.count()
_instructors = itertools.count()
_lock = threading.Lock()
COUNTERS = {
    "requests started": 0,
    "requests submitted": 0,
    "requests resubmitted": 0,
    "changes requested": 0,
    "requests validated": 0,
    "messages sent": 0,
}


def count(name: str) -> None:
    with _lock:
        COUNTERS[name] += 1


@events.quitting.add_listener
def _write_counters(environment, **_kwargs):
    path = os.environ.get("LOAD_COUNTERS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(COUNTERS, out)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        raise ValueError("no CSRF token on the page")
    return match.group(1)


def form_errors(page: str) -> str:
    found = re.findall(r'class="fr-(?:error-text|message fr-message--error)">(.*?)</p>', page, re.S)
    alerts = re.findall(r"fr-alert--error[^>]*>\s*<p>(.*?)</p>", page, re.S)
    alerts += re.findall(r'data-testid="error-message">(.*?)</p>', page, re.S)
    return "; ".join(html.unescape(m).strip() for m in found + alerts)[:300] or "no message"


class Journey(HttpUser):
    """What both kinds of users share: OIDC sign-in, checked answers, no redirect on POST."""

    abstract = True
    wait_time = between(*THINK)
    account: dict

    def on_start(self) -> None:
        self.client.verify = CA_FILE
        # The user already has a session at the identity provider (single sign-on): the
        # provider of the bench knows who is signing in from its own cookie.
        self.client.cookies.set("op_user", self.account["email"], domain="127.0.0.1", path="/")
        with self.client.get(
            "/login/oidc", name="sign-in (OIDC round trip)", catch_response=True, timeout=TIMEOUT
        ) as response:
            if response.status_code != 200 or "Se déconnecter" not in response.text:
                response.failure(f"not signed in: {response.status_code} {response.url}")
            elif len(response.history) < 3:
                response.failure(f"unexpected sign-in path: {[r.url for r in response.history]}")

    def page(self, path: str, name: str, expect: str | None = None) -> str | None:
        """GET a page that must answer 200 (and contain `expect`); its text or None."""
        with self.client.get(
            path, name=name, catch_response=True, allow_redirects=False, timeout=TIMEOUT
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} on GET {path}")
                return None
            if expect and expect not in response.text:
                response.failure(f"{expect!r} missing on {path}")
                return None
            return response.text

    def post(self, path: str, data: dict | list, name: str, page: str | None = None) -> str | None:
        """POST a form (found on `page`, by default `path`) that must answer with a redirect;
        the redirect's target or None. Like a browser, it sends the Referer, which Flask-WTF
        checks over https."""
        headers = {"Referer": f"{self.host}{page or path}"}
        with self.client.post(
            path,
            data=data,
            headers=headers,
            name=name,
            catch_response=True,
            allow_redirects=False,
            timeout=TIMEOUT,
        ) as response:
            if response.status_code not in (302, 303):
                response.failure(
                    f"{response.status_code} on POST {path}: {form_errors(response.text)}"
                )
                return None
            target = urlsplit(response.headers["Location"])
            return target.path + (f"?{target.query}" if target.query else "")


class Applicant(Journey):
    def on_start(self) -> None:
        index = next(_applicants) % len(ACCOUNTS["applicants"])
        self.account = ACCOUNTS["applicants"][index]
        self.mine: list[int] = []
        super().on_start()

    # A whole request, step by step.

    def step_data(self, block: str, page: str) -> list[tuple[str, str]]:
        me = self.account
        if block == "basic_infos":
            return [
                ("intitule", f"Tarification sociale de la cantine ({me['given_name']})"),
                ("description", "Calcul du tarif de la cantine selon le quotient familial."),
            ]
        if block == "legal":
            return [
                ("cadre_juridique_nature", "Délibération du conseil municipal n° 2024-12"),
                (
                    "cadre_juridique_url",
                    "https://www.legifrance.gouv.fr/loda/id/LEGITEXT000006074069",
                ),
            ]
        if block == "personal_data":
            return [
                ("destinataire_donnees_caractere_personnel", "Agents du service enfance"),
                ("duree_conservation_donnees_caractere_personnel", "24"),
                ("duree_conservation_donnees_caractere_personnel_justification", ""),
            ]
        if block == "scopes":
            offered = re.findall(
                r'<input type="checkbox" name="scopes" id="[^"]+" value="([^"]+)"(?![^>]*disabled)',
                page,
            )
            return [("scopes", value) for value in random.sample(offered, min(2, len(offered)))]
        if block == "contacts":
            data = []
            for prefix in (
                "responsable_traitement",
                "delegue_protection_donnees",
                "contact_technique",
            ):
                data += [
                    (f"{prefix}_given_name", me["given_name"]),
                    (f"{prefix}_family_name", me["family_name"]),
                    (f"{prefix}_email", me["email"]),
                    (f"{prefix}_phone_number", "01 46 62 35 35"),
                    (f"{prefix}_job_title", "Chargée de mission"),
                ]
            return data
        if block == "volumes":
            options = re.findall(
                r'<select[^>]*name="volumetrie_approximative".*?</select>', page, re.S
            )
            values = re.findall(r'<option[^>]*value="(\d+)"', options[0]) if options else []
            return [("volumetrie_approximative", random.choice(values) if values else "")]
        raise ValueError(f"unknown block {block}")

    def fill_steps(self, location: str, only: str | None = None) -> str | None:
        """Fill the steps from `location` on; returns the summary's path (or None on error)."""
        while location and "/steps/" in location:
            block = location.rsplit("/", 1)[1]
            page = self.page(location, "step form")
            if page is None:
                return None
            data = [("csrf_token", csrf_token(page)), *self.step_data(block, page)]
            self.wait()  # the user fills the form
            location = self.post(location, data, "save step")
            if location and only:
                return location.rsplit("/steps/", 1)[0] + "/summary"
        return location

    def submit(self, summary: str, name: str) -> bool:
        page = self.page(summary, "summary", expect="Soumettre la demande")
        if page is None:
            return False
        data = {"csrf_token": csrf_token(page), "terms_accepted": "y", "dpo_informed": "y"}
        self.wait()  # the user reads the summary
        target = self.post(summary, data, name)
        if target is None:
            return False
        return self.page(target, "request page (applicant)") is not None

    @task(3)
    def new_request(self) -> None:
        page = self.page(f"/requests/new/{DEFINITION}", "new request form")
        if page is None:
            return
        selected = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected', page)
        first = re.search(r'name="organization_id".*?<option[^>]*value="(\d+)"', page, re.S)
        organization = (selected and (selected.group(1) or selected.group(2))) or first.group(1)
        data = {"csrf_token": csrf_token(page), "organization_id": organization}
        location = self.post(f"/requests/new/{DEFINITION}", data, "start request")
        if location is None:
            return
        count("requests started")
        self.mine.append(int(location.split("/")[2]))
        summary = self.fill_steps(location)
        if summary and self.submit(summary, "submit"):
            count("requests submitted")

    @task(3)
    def follow_up(self) -> None:
        """My requests: answer the ones sent back for changes, read the others."""
        page = self.page("/requests", "my requests")
        if page is None:
            return
        rows = re.findall(r'<td>(\d+)</td>.*?data-testid="state">([^<]+)</p>', page, re.S)
        sent_back = [int(i) for i, state in rows if state.strip() == "Modifications demandées"]
        if sent_back:
            request_id = random.choice(sent_back)
            shown = self.page(f"/requests/{request_id}", "request page (applicant)")
            if shown is None:
                return
            if random.random() < 0.5:
                data = {"csrf_token": csrf_token(shown), "body": "Voici les précisions demandées."}
                page = f"/requests/{request_id}"
                if self.post(f"/requests/{request_id}/messages", data, "message (applicant)", page):
                    count("messages sent")
            summary = self.fill_steps(f"/requests/{request_id}/steps/basic_infos", only="one")
            if summary and self.submit(summary, "submit again"):
                count("requests resubmitted")
        elif rows:
            request_id = random.choice(rows)[0]
            self.page(f"/requests/{request_id}", "request page (applicant)")

    @task(1)
    def catalogue(self) -> None:
        self.page("/", "catalogue")
        self.page(f"/catalog/{DEFINITION}", "API page")


class Instructor(Journey):
    # As many as prepared instructor accounts (LOAD_INSTRUCTORS); applicants are the rest.
    fixed_count = int(os.environ.get("LOAD_INSTRUCTORS", "0")) or len(ACCOUNTS["instructors"])

    def on_start(self) -> None:
        index = next(_instructors) % len(ACCOUNTS["instructors"])
        self.account = ACCOUNTS["instructors"][index]
        self.asked: set[int] = set()
        super().on_start()

    @task(6)
    def instruct(self) -> None:
        query = f"?q=%40{self.account['group']}.&state=submitted&sort=submitted_asc"
        page = self.page(f"/instruction{query}", "queue (my share, submitted)")
        if page is None:
            return
        ids = re.findall(r'href="/instruction/requests/(\d+)"', page)
        if not ids:
            return
        request_id = int(ids[0])
        path = f"/instruction/requests/{request_id}"
        shown = self.page(path, "request page (instructor)")
        if shown is None:
            return
        self.wait()  # the instructor reads the request
        if random.random() < 0.2:
            data = {
                "csrf_token": csrf_token(shown),
                "body": "Pouvez-vous préciser le public visé ?",
            }
            if self.post(f"/requests/{request_id}/messages", data, "message (instructor)", path):
                count("messages sent")
            shown = self.page(path, "request page (instructor)")
            if shown is None:
                return
            self.wait()
        version = re.search(r'name="lock_version"[^>]*value="(\d+)"', shown)
        if version is None:
            self.page(path, "request page (instructor)")  # an answer to fail on, named
            return
        if request_id not in self.asked and random.random() < 0.3:
            decision, reason, name = "request_changes", "Précisez la délibération.", "ask changes"
        else:
            decision, reason, name = "approve", "Conforme.", "validate"
        data = {
            "csrf_token": csrf_token(shown),
            "decision": decision,
            "lock_version": version.group(1),
            "reason": reason,
        }
        if self.post(f"{path}/decision", data, f"decision: {name}", path):
            if decision == "approve":
                count("requests validated")
            else:
                self.asked.add(request_id)
                count("changes requested")

    @task(1)
    def dashboard(self) -> None:
        self.page("/instruction?reset=1", "queue (whole dashboard)")
