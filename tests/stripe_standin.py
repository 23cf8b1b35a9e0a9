"""A small local stand-in for Stripe's API: a real HTTP server on 127.0.0.1 at a random port.

It answers the endpoints our gateway calls with Stripe-shaped JSON, records every request
(form parameters decoded into nested dicts, as Stripe reads them), and, like Stripe, replays the
first response when an Idempotency-Key comes again with the same parameters and refuses it with
different ones. Creating calls must carry one of our own keys (the SDK would otherwise invent one).

Two outages can be switched on (`outage`): "500", an error in front of the API (nothing executed,
so, as at Stripe, no result is saved for the key), and "hang", where the call is executed and its
result saved but the answer comes only after `hang_seconds`, when the client has given up: the
case where only the idempotency key stops a retry from charging twice.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import stripe

OUR_KEY_PREFIX = "gsr-"


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    replayed: bool = False
    status: int = 200


class StripeError(Exception):
    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def decode_form(pairs: list[tuple[str, str]]) -> dict:
    """`line_items[0][price_data][currency]=usd` pairs -> nested dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


class StripeStandin:
    """Start it, point STRIPE_API_BASE at `url`, then read `requests` and `objects`."""

    def __init__(self):
        self.requests: list[Recorded] = []
        self.objects: dict[str, dict] = {}
        self.invoice_payments: dict[str, str] = {}
        self._replies: dict[str, tuple[str, dict, int, dict]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.outage: str | None = None  # None, "500" or "hang"
        self.hang_seconds = 2.0

    def start(self) -> "StripeStandin":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.objects.clear()
            self.invoice_payments.clear()
            self._replies.clear()
            self.outage = None

    def calls(self, method: str, path: str) -> list[Recorded]:
        """Requests to one endpoint; a trailing `*` matches any id in the path."""

        def matches(recorded: Recorded) -> bool:
            if path.endswith("*"):
                return recorded.path.startswith(path[:-1])
            return recorded.path == path

        return [r for r in self.requests if r.method == method and matches(r)]

    def add_payment_intent(self, intent_id: str, metadata: dict) -> None:
        self.objects[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "metadata": metadata,
            "status": "succeeded",
        }

    # ---- request handling ----------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers) -> tuple[int, dict]:
        key = headers.get("Idempotency-Key")
        if not (headers.get("Authorization") or "").startswith("Bearer sk_test_"):
            return 401, _error("invalid_request_error", "Invalid API Key provided.")
        if self.outage == "500":
            self.requests.append(Recorded(method, path, params, key, status=500))
            return 500, _error("api_error", "standin: an internal error; nothing was executed")
        with self._lock:
            if method == "POST":
                replay = self._replay(key, path, params)
                if replay is not None:
                    self.requests.append(Recorded(method, path, params, key, replayed=True))
                    return replay
            self.requests.append(Recorded(method, path, params, key))
            try:
                if method == "POST" and not (key or "").startswith(OUR_KEY_PREFIX):
                    raise StripeError(
                        400,
                        "idempotency_error",
                        f"standin: a creating call needs our key, got {key!r}",
                    )
                status, body = 200, self._route(method, path, params)
            except StripeError as error:
                status, body = error.status, _error(error.kind, error.message)
            if method == "POST" and key:
                self._replies[key] = (path, params, status, body)
            return status, body

    def _replay(self, key: str | None, path: str, params: dict) -> tuple[int, dict] | None:
        if not key or key not in self._replies:
            return None
        first_path, first_params, status, body = self._replies[key]
        if (first_path, first_params) != (path, params):
            return 400, _error(
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters.",
            )
        return status, body

    def _route(self, method: str, path: str, params: dict) -> dict:
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        routes = {
            ("POST", "checkout/sessions"): self._checkout_session,
            ("POST", "billing_portal/sessions"): self._portal_session,
            ("POST", "customers"): self._customer,
            ("POST", "invoices"): self._invoice,
            ("POST", "invoiceitems"): self._invoice_item,
            ("POST", "refunds"): self._refund,
            ("GET", "invoice_payments"): self._invoice_payment_list,
        }
        route = routes.get((method, "/".join(parts)))
        if route is not None:
            return route(params)
        if method == "POST" and len(parts) == 3 and parts[0] == "invoices":
            return self._invoice_action(parts[1], parts[2])
        if method == "GET" and len(parts) == 2 and parts[1] in self.objects:
            return self.objects[parts[1]]
        raise StripeError(404, "invalid_request_error", f"standin: no route {method} {path}")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    def _checkout_session(self, params: dict) -> dict:
        _require(params, "mode", "success_url", "cancel_url", "line_items")
        if not params["success_url"].startswith(("http://", "https://")):
            raise StripeError(400, "invalid_request_error", "success_url must be absolute")
        price = params["line_items"][0]["price_data"]
        if price["currency"] != price["currency"].lower() or not price["unit_amount"].isdigit():
            raise StripeError(400, "invalid_request_error", "bad currency or unit_amount")
        if params["mode"] == "subscription" and "recurring" not in price:
            raise StripeError(400, "invalid_request_error", "a subscription needs recurring")
        now = int(time.time())
        if int(params.get("expires_at", now + 86400)) < now + 1800:
            raise StripeError(400, "invalid_request_error", "expires_at must be 30 min ahead")
        session_id = self._new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "created": now,
            "url": f"{self.url}/pay/{session_id}",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "currency": price["currency"],
            "amount_total": int(price["unit_amount"])
            * int(params["line_items"][0].get("quantity", "1")),
            "metadata": params.get("metadata", {}),
            "client_reference_id": params.get("client_reference_id"),
            "customer": params.get("customer"),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "expires_at": int(params["expires_at"]),
        }
        self.objects[session_id] = session
        return session

    def _portal_session(self, params: dict) -> dict:
        _require(params, "customer", "return_url")
        portal_id = self._new_id("bps")
        return {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": params["customer"],
            "return_url": params["return_url"],
            "url": f"{self.url}/portal/{portal_id}",
        }

    def _customer(self, params: dict) -> dict:
        customer = {
            "id": self._new_id("cus"),
            "object": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
        }
        self.objects[customer["id"]] = customer
        return customer

    def _invoice(self, params: dict) -> dict:
        _require(params, "customer", "currency")
        if params["customer"] not in self.objects:
            raise StripeError(400, "invalid_request_error", "No such customer")
        invoice = {
            "id": self._new_id("in"),
            "object": "invoice",
            "status": "draft",
            "customer": params["customer"],
            "currency": params["currency"],
            "collection_method": params.get("collection_method"),
            "description": params.get("description"),
            "created": int(time.time()),
            "metadata": params.get("metadata", {}),
            "amount_due": 0,
            "hosted_invoice_url": None,
            "lines": {"object": "list", "data": []},
        }
        self.objects[invoice["id"]] = invoice
        return invoice

    def _invoice_item(self, params: dict) -> dict:
        _require(params, "customer", "invoice", "amount", "currency")
        invoice = self.objects.get(params["invoice"])
        if invoice is None or invoice["status"] != "draft":
            raise StripeError(400, "invalid_request_error", "No such draft invoice")
        item = {
            "id": self._new_id("ii"),
            "object": "invoiceitem",
            "invoice": invoice["id"],
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
        }
        invoice["lines"]["data"].append(item)
        invoice["amount_due"] += item["amount"]
        return item

    def _invoice_action(self, invoice_id: str, action: str) -> dict:
        invoice = self.objects.get(invoice_id)
        if invoice is None or action not in ("finalize", "send"):
            raise StripeError(404, "invalid_request_error", "No such invoice")
        if action == "finalize":
            invoice.update(
                status="open",
                number=f"GSR-{invoice_id[-4:]}",
                hosted_invoice_url=f"{self.url}/invoice/{invoice_id}",
            )
        return invoice

    def _refund(self, params: dict) -> dict:
        _require(params, "payment_intent", "amount")
        refund = {
            "id": self._new_id("re"),
            "object": "refund",
            "status": "succeeded",
            "amount": int(params["amount"]),
            "payment_intent": params["payment_intent"],
            "reason": params.get("reason"),
            "metadata": params.get("metadata", {}),
        }
        self.objects[refund["id"]] = refund
        return refund

    def _invoice_payment_list(self, params: dict) -> dict:
        intent = self.invoice_payments.get(params.get("invoice", ""))
        data = (
            [
                {
                    "id": self._new_id("inpay"),
                    "object": "invoice_payment",
                    "status": "paid",
                    "invoice": params["invoice"],
                    "payment": {"type": "payment_intent", "payment_intent": intent},
                }
            ]
            if intent
            else []
        )
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}


def _require(params: dict, *names: str) -> None:
    missing = [name for name in names if name not in params]
    if missing:
        raise StripeError(400, "invalid_request_error", f"Missing required param: {missing[0]}")


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def _handler_for(standin: StripeStandin):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                pairs = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
            else:
                pairs = parse_qsl(parts.query, keep_blank_values=True)
            status, body = standin.handle(method, parts.path, decode_form(pairs), self.headers)
            if standin.outage == "hang":
                time.sleep(standin.hang_seconds)  # done and saved, but the client stopped waiting
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_standin_{len(standin.requests)}")
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and closed the connection

        def do_GET(self):  # noqa: N802 (the name http.server calls)
            self._answer("GET")

        def do_POST(self):  # noqa: N802
            self._answer("POST")

        def log_message(self, *args):  # keep the test output clean
            pass

    return Handler


# ---- Signed webhook events, as Stripe sends them -----------------------------------------------

WEBHOOK_SECRET = "whsec_test_standin"
_event_ids = itertools.count(1)


def make_event(
    event_type: str, obj: dict, created: int | None = None, event_id: str | None = None
) -> dict:
    """A v1 snapshot event around one Stripe object."""
    return {
        "id": event_id or f"evt_test_{next(_event_ids):06d}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def send_event(
    client,
    event: dict | str,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    body: str | None = None,
):
    """POST an event to /stripe/webhook with a real signature over the exact body sent."""
    payload = event if isinstance(event, str) else json.dumps(event)
    header = signature_header(payload, secret, timestamp)
    return client.post(
        "/stripe/webhook",
        data=body if body is not None else payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def signature_header(payload: str, secret: str, timestamp: int | None) -> str:
    """A real Stripe-Signature header, made by Stripe's own SDK."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
