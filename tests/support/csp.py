"""Content-Security-Policy violations as a browser reports them, for the Playwright journeys.

``watch_csp(context)`` returns a list that fills with every violation any page of the context
reports (several contexts may share one list): the ``securitypolicyviolation`` event (through a binding Playwright installs before the
page's own scripts run, so the policy cannot block it) and the console's "Refused to ..." lines.
"""

from __future__ import annotations

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__reportCspViolation({
    page: document.location.href, directive: event.violatedDirective, blocked: event.blockedURI,
    source: event.sourceFile, line: event.lineNumber, sample: event.sample
  });
});
"""


def watch_csp(context, seen: list[dict] | None = None) -> list[dict]:
    """Collect the violations of ``context``'s pages into ``seen`` (a new list if None) and return it."""
    seen = [] if seen is None else seen
    context.expose_binding("__reportCspViolation", lambda _source, report: seen.append(report))
    context.add_init_script(REPORT_VIOLATIONS)

    def watch_console(page) -> None:
        def on_message(message) -> None:
            if "Content Security Policy" in message.text:
                seen.append({"page": page.url, "console": message.text})

        page.on("console", on_message)

    for page in context.pages:
        watch_console(page)
    context.on("page", watch_console)
    return seen
