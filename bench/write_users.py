"""What each simulated user does over HTTP, and the ledger of what the site acknowledged.

Each user is a thread with its own requests.Session (its cookie jar is the browser): the work is
waiting on the server, so threads are enough to keep 50 users busy, and requests is already
pinned (locust would have to run as its own process, and its results be fetched back).
"""

import random
import re
import threading
import time
from dataclasses import dataclass, field

import pyotp
import requests

from bench.write_setup import Account

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" type="hidden" value="(\d+)"')
MATCH_RE = re.compile(r'name="match_ids" value="(\d+)"')
NEED_FORM = {
    "title_zh": "",
    "summary_zh": "",
    "description": "Write-load benchmark.",
    "country_iso2": "PK",
    "sector": "solar",
    "technology": "solar_pv",
    "taxonomy_activity_ref": "4.1",
    "amount": "25000000",
    "currency": "USD",
    "instruments": ["green_loan"],
    "tenor_years": "12",
    "stage": "financing",
    "capacity": "40",
    "capacity_unit": "MW",
    "owner_capacity_factor": "",
    "owner_tco2e_per_year": "",
}


class Unavailable(Exception):
    """The site answered 503, or not at all: the write is in doubt, the user tries later."""


@dataclass
class Write:
    kind: str  # need, edit, interest, decision, message
    marker: str
    acked: bool  # False: in doubt (503, timeout), it may or may not have been saved
    need_id: int | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Ledger:
    """Every response (time, status) and every write attempt, shared by all user threads."""

    run: str
    responses: list[tuple[float, int]] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    refused: int = 0  # answered with a reason (409 conflict, already done): nothing written
    errors: list[str] = field(default_factory=list)  # "500 GET /path" of every server error
    lock: threading.Lock = field(default_factory=threading.Lock)

    def response(self, status: int, what: str = "") -> None:
        with self.lock:
            self.responses.append((time.monotonic(), status))
            if status >= 500 and status != 503:
                self.errors.append(f"{status} {what}")

    def write(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)

    def refusal(self) -> None:
        with self.lock:
            self.refused += 1


class User:
    """One simulated person: signs in through the forms, then writes until the deadline."""

    def __init__(self, number: int, account: Account, base_url: str, ledger: Ledger):
        self.number, self.account, self.base, self.ledger = number, account, base_url, ledger
        self.http = requests.Session()
        self.sequence = 0
        self.own_needs: dict[int, dict] = {}  # need id -> the form it was saved with

    def marker(self, kind: str) -> str:
        self.sequence += 1
        return f"wl-{self.ledger.run}-{kind}-{self.number}-{self.sequence}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.http.request(
                method, self.base + path, allow_redirects=False, timeout=30, **kwargs
            )
        except requests.RequestException as error:
            self.ledger.response(0)
            raise Unavailable(str(error)) from error
        self.ledger.response(response.status_code, f"{method} {path}")
        if response.status_code == 503:
            raise Unavailable("503")
        return response

    def token(self, path: str) -> tuple[str, str]:
        page = self.request("GET", path).text
        match = CSRF_RE.search(page)
        if match is None:
            raise Unavailable(f"no form on {path}")
        return match.group(1), page

    def post(self, path: str, data: dict, write: Write | None, form_page: str | None = None):
        """POST a form read from its page; a 503 or no answer leaves `write` in doubt."""
        csrf, _page = self.token(form_page or path)
        try:
            return self.request("POST", path, data={**data, "csrf_token": csrf})
        except Unavailable:
            if write is not None:
                self.ledger.write(write)
            raise

    # ---- signing in ------------------------------------------------------------------------

    def sign_in(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            try:
                form = {"email": self.account.email, "password": self.account.password}
                response = self.post("/auth/login", form, None)
                if "/auth/mfa" in response.headers.get("Location", ""):
                    code = pyotp.TOTP(self.account.mfa_secret).now()
                    response = self.post("/auth/mfa", {"code": code}, None)
                if response.status_code == 302:
                    return True
            except Unavailable:
                pass
            time.sleep(1)
        return False

    def run(self, deadline: float) -> None:
        if not self.sign_in(deadline):
            return
        act = getattr(self, f"act_as_{self.account.role}")
        while time.monotonic() < deadline:
            try:
                act()
            except Unavailable:
                time.sleep(0.5)
            time.sleep(random.uniform(0.05, 0.3))

    # ---- what each role writes -------------------------------------------------------------

    def act_as_owner(self) -> None:
        if not self.own_needs or random.random() < 0.4:
            self.create_need()
        else:
            self.edit_need(random.choice(list(self.own_needs)))

    def create_need(self) -> None:
        marker = self.marker("need")
        form = {**NEED_FORM, "title_en": marker, "summary_en": "First version."}
        response = self.post("/owner/needs/new", form, Write("need", marker, False))
        found = re.search(r"/needs/(\d+)$", response.headers.get("Location", ""))
        if response.status_code == 302 and found:
            self.own_needs[int(found.group(1))] = form
            self.ledger.write(Write("need", marker, True, need_id=int(found.group(1))))
        else:
            self.ledger.refusal()

    def edit_need(self, need_id: int) -> None:
        path = f"/owner/needs/{need_id}/edit"
        marker = self.marker("edit")
        page = self.request("GET", path).text
        version = VERSION_RE.search(page)
        form = {**self.own_needs[need_id], "summary_en": marker}
        if version:
            form["version"] = version.group(1)
        response = self.post(path, form, Write("edit", marker, False, need_id=need_id))
        if response.status_code == 302 and response.headers["Location"].endswith(
            f"/needs/{need_id}"
        ):
            self.ledger.write(Write("edit", marker, True, need_id=need_id))
        else:
            self.ledger.refusal()

    def act_as_investor(self) -> None:
        if not self.account.targets:
            time.sleep(1)
            return
        need_id = self.account.targets.pop()
        marker = self.marker("interest")
        form = {"need_id": need_id, "own_listing": self.account.product_id, "message": marker}
        response = self.post(
            "/deals/interest", form, Write("interest", marker, False), form_page=f"/needs/{need_id}"
        )
        # Success and refusal both go back to the need; the flash message tells them apart.
        try:
            after = self.request("GET", response.headers.get("Location", f"/needs/{need_id}"))
        except Unavailable:
            self.ledger.write(Write("interest", marker, False))
            raise
        if response.status_code == 302 and "Interest sent" in after.text:
            self.ledger.write(Write("interest", marker, True))
        else:
            self.ledger.refusal()

    def act_as_broker(self) -> None:
        queue = self.request("GET", f"/broker/queue?page={random.randint(1, 3)}").text
        ids = MATCH_RE.findall(queue) or MATCH_RE.findall(self.request("GET", "/broker/queue").text)
        if not ids:
            time.sleep(1)
            return
        match_id = random.choice(ids)
        page = self.request("GET", f"/deals/{match_id}").text
        version = VERSION_RE.search(page)
        marker = self.marker("decision")
        accept = random.random() < 0.5
        form = {
            "decision": "accept" if accept else "reject",
            "reason": "" if accept else "ticket_size",
            "note": marker,
            "version": version.group(1) if version else "",
        }
        path = f"/broker/matches/{match_id}/decide"
        response = self.post(
            path, form, Write("decision", marker, False), form_page=f"/deals/{match_id}"
        )
        if response.status_code == 302 and response.headers["Location"].endswith("/broker/queue"):
            self.ledger.write(Write("decision", marker, True))
        else:
            self.ledger.refusal()  # another broker decided it first: a 409, nothing written

    def act_as_party(self) -> None:
        path = f"/deals/conversations/{self.account.conversation_id}"
        marker = self.marker("message")
        response = self.post(path, {"body": marker}, Write("message", marker, False))
        if response.status_code == 302:
            self.ledger.write(Write("message", marker, True))
        else:
            self.ledger.refusal()
