"""localstripe as the Stripe tests run it: ``python -m tests.support.localstripe_server --port N --from-scratch``.

localstripe (PyPI) is a stateful Stripe-compatible server with signed webhooks and a stand-in
Stripe.js. Read in its source (1.15.10, on Python 3.11 with aiohttp 3.14 it runs as is), it
lacks or does differently five things our tests need; this runner patches them here, in the
test harness, never in the product:

0. Its PaymentIntents take ``payment_method_types``; the API version our ``stripe`` client pins
   names that list ``allowed_payment_method_types``: here both are accepted.
1. It binds every interface (``::``): here it listens on 127.0.0.1 only.
2. It pickles its whole store to ``/tmp/localstripe.pickle`` on every write, a file any other
   run on the machine shares: here the store stays in memory (we always start from scratch).
3. ``GET /v1/payment_intents`` refuses Stripe's ``created`` filter (400 "Unexpected created"):
   here it accepts and ignores it, so our client's own filtering of the day is what is tested.
4. Stripe.js's ``confirmCardPayment(clientSecret, {payment_method: {card}})`` posts the card to
   ``/v1/payment_intents/<id>/confirm`` with the publishable key and the client secret; localstripe
   has no such publishable-key confirm, and its stand-in Stripe.js ignores the card and only
   completes a 3-D Secure step. Here that confirm exists (card PaymentMethod created, intent
   confirmed, declines and 3-D Secure cards behave as in localstripe) and the served Stripe.js's
   ``confirmCardPayment`` makes that call, then hands a 3-D Secure step to the stand-in's own.

Everything else (PaymentIntents, charges, refunds, events, webhook signatures) is localstripe's.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

from aiohttp import web

CONFIRM_PATH = re.compile(r"^/v1/payment_intents/(?P<id>pi_\w+)/confirm$")
JS_PATH = "/js.stripe.com/v3/"
HEALTH_PATH = "/_harness/healthz"

CONFIRM_CARD_PAYMENT_JS = """
// Appended by the test harness (tests/support/localstripe_server.py): confirmCardPayment as
// Stripe.js makes it, posting the Card Element's details with the publishable key.
(function () {
  const standIn = Stripe;
  Stripe = (apiKey) => {
    const stripe = standIn(apiKey);
    const authenticate = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
      const element = data && data.payment_method && data.payment_method.card;
      const card = element && element.value ? element.value.card : {};
      try {
        const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${pi}/confirm`, {
          method: 'POST',
          body: JSON.stringify({
            key: apiKey,
            client_secret: clientSecret,
            payment_method_data: {type: 'card', card: card},
          }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.status !== 200 || body.error) {
          return {error: body.error || {message: 'The payment failed.'}};
        }
        if (body.status === 'requires_action') {
          return authenticate(clientSecret, data);
        }
        return {paymentIntent: body};
      } catch (err) {
        return {error: {message: String(err)}};
      }
    };
    return stripe;
  };
})();
"""


def patch_localstripe() -> None:
    """Patches 0, 2 and 3 (module level); 1 and 4 are in ``main`` and ``harness_routes``."""
    from localstripe import resources

    create_intent = resources.PaymentIntent.__init__

    def create_with_allowed_types(self, allowed_payment_method_types=None, **kwargs):
        if allowed_payment_method_types is not None:
            kwargs.setdefault("payment_method_types", allowed_payment_method_types)
        create_intent(self, **kwargs)

    resources.PaymentIntent.__init__ = create_with_allowed_types
    resources.Store.dump_to_disk = lambda self: None

    def list_ignoring_created(cls, url, created=None, **kwargs):
        return resources.StripeObject._api_list_all.__func__(cls, url, **kwargs)

    resources.PaymentIntent._api_list_all = classmethod(list_ignoring_created)


def confirm_with_publishable_key(intent_id: str, data: dict) -> dict:
    """Stripe's ``POST /v1/payment_intents/<id>/confirm`` as Stripe.js calls it (publishable key)."""
    from localstripe.errors import UserError
    from localstripe.resources import PaymentIntent, PaymentMethod

    intent = PaymentIntent._api_retrieve(intent_id)
    if data.get("client_secret") != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(400, f"This PaymentIntent's status is {intent.status}: it cannot be confirmed.")
    method_data = data.get("payment_method_data") or {}
    method = PaymentMethod(type="card", card=dict(method_data.get("card") or {}))
    intent.payment_method = method.id
    # After a declined card Stripe lets the shopper try another one on the same intent.
    intent.latest_charge = None
    intent._authentication_failed = False
    intent._confirm(on_failure_now=intent._report_failure)
    return intent._export()


def harness_routes(server):
    """A middleware answering what the harness adds (patch 4 and a health probe) before localstripe's auth."""

    @web.middleware
    async def middleware(request, handler):
        if request.method == "GET" and request.path == HEALTH_PATH:
            return web.json_response({"pid": os.getpid()})
        if request.method == "GET" and request.path == JS_PATH:
            source = Path(server.__file__).with_name("localstripe-v3.js").read_text()
            return web.Response(text=source + CONFIRM_CARD_PAYMENT_JS, content_type="application/javascript")
        match = CONFIRM_PATH.match(request.path)
        if request.method == "POST" and match:
            data = await server.get_post_data(request, remove_auth=False) or {}
            key = data.get("key")
            if isinstance(key, str) and key.startswith("pk_"):
                return server.json_response(confirm_with_publishable_key(match["id"], data))
        return await handler(request)

    return middleware


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="localstripe for the tests, on loopback, in memory.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--from-scratch", action="store_true", help="always the case here: the store is never loaded")
    args = parser.parse_args(argv)

    patch_localstripe()
    from localstripe import server

    # After localstripe's error middleware (UserError becomes its JSON error), before its auth.
    server.app.middlewares.insert(1, harness_routes(server))
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(server.app, host="127.0.0.1", port=args.port, access_log=logger, print=None)


if __name__ == "__main__":
    main()
