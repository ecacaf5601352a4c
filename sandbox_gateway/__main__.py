"""Run the sandbox gateway: ``python -m sandbox_gateway --port 8001``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sandbox_gateway.app import GatewayApp
from sandbox_gateway.config import GatewayConfig
from sandbox_gateway.delivery import DeliveryWorker
from sandbox_gateway.store import Store

log = logging.getLogger("sandbox_gateway")


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # A burst of shoppers arriving at checkout together must not be refused at the socket.
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        log.info("%s %s", self.address_string(), format % args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sandbox payment gateway (stands in for the third party).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    config = GatewayConfig.from_env()
    store = Store(config.db_path)
    worker = DeliveryWorker(store, config)
    app = GatewayApp(config, store, worker=worker)
    server = make_server(args.host, args.port, app, server_class=ThreadingServer, handler_class=QuietHandler)

    def stop(signum, frame):
        # Pending deliveries stay in storage; the next start continues them.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    worker.start()
    log.info(
        "sandbox gateway on http://%s:%s, storage %s, webhooks to %s",
        args.host,
        args.port,
        config.db_path,
        config.webhook_url,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        worker.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
