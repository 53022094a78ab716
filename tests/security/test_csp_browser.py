"""The strict Content-Security-Policy in a real browser (Chromium): no violation on the main
pages, and the design system's script still runs."""

from __future__ import annotations

PAGES = {
    None: ["/", "/catalog/api_particulier", "/stats", "/login", "/developers/docs"],
    "demandeur@demo.datapass.fr": ["/requests", "/organizations", "/requests/1"],
    "instructeur.particulier@demo.datapass.fr": ["/instruction", "/instruction/requests/2"],
    "admin@demo.datapass.fr": ["/admin/users", "/admin/rights", "/admin/notifications"],
}

# Chromium prints the violations in the console too; the event is the standard, surer signal.
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => console.error(
  'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));
"""


def test_no_page_violates_the_policy_and_the_dsfr_script_runs(page, live_server):
    violations: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    for email, paths in PAGES.items():
        if email:
            page.context.clear_cookies()
            page.goto("/login")
            page.get_by_test_id(f"login-{email}").click()
            page.wait_for_url(lambda url: "/login" not in url)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
            # the DSFR marks the document once its script has started
            page.wait_for_function("document.documentElement.hasAttribute('data-fr-js')")
    assert not violations, "\n".join(violations)
