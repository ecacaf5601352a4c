"""A real HTTP server on loopback that answers from a script: a stand-in for a flaky third party.

``ScriptedServer(answers)`` listens on a free port; each request gets the next ``(status, json
body)`` of ``answers`` (the last one repeats) and is recorded as ``(method, path)``. Used where the
test needs exact failures (503 twice, then 200) that the sandbox gateway's faults do not give.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    def __init__(self, answers: list[tuple[int, dict]]):
        self.answers = list(answers)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                with server._lock:
                    server.requests.append((self.command, self.path))
                    status, body = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

            def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
