"""A real SMTP server for the mail tests (aiosmtpd, on a free loopback port): what the site sends, as received."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.polling import wait_until
from tests.support.processes import free_port

SMTP_PORTS = range(18960, 19000)


class SmtpServer:
    """Collects every message delivered to it; ``wait_for(...)`` awaits one, ``received`` lists them."""

    def __init__(self):
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self.port = free_port(SMTP_PORTS)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]

    def wait_for(self, address: str, *, subject_contains: str = "", count: int = 1) -> list[EmailMessage]:
        """The messages to ``address`` whose subject contains the text, once there are ``count`` of them."""

        def arrived():
            found = [m for m in self.to(address) if subject_contains in str(m["Subject"])]
            return found if len(found) >= count else None

        return wait_until(arrived, what=f"{count} mail(s) to {address} about {subject_contains!r}")

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
