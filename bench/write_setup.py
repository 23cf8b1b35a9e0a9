"""Accounts and records the write-load users act on, made once before the load starts.

Through the real models (tests/factories.py builds them the way the test suite does): the
simulated users then sign in and write only through the site's pages.
"""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyotp
from sqlalchemy import select

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import (
    Conversation,
    FinancingNeed,
    MatchStatus,
    MfaCredential,
    NeedStatus,
    OrgKind,
    Role,
)
from tests.factories import PASSWORD, make_match, make_need, make_org, make_product, make_user


@dataclass
class Account:
    """One simulated user: how to sign in and what it may act on."""

    role: str  # owner, investor, broker, party
    email: str
    password: str = PASSWORD
    mfa_secret: str | None = None
    product_id: int | None = None  # an investor's active product
    conversation_id: int | None = None  # a party's deal conversation
    targets: list[int] = field(default_factory=list)  # published needs an investor may ask for


def role_mix(users: int) -> list[str]:
    """40 % owners, 30 % investors, 10 % brokers, 20 % parties of a deal (at least one each)."""
    shares = {"investor": 0.3, "broker": 0.1, "party": 0.2}
    counts = {role: max(1, round(users * share)) for role, share in shares.items()}
    counts["owner"] = max(1, users - sum(counts.values()))
    return [role for role, count in counts.items() for _ in range(count)]


def make_accounts(database_url: str, users: int) -> list[Account]:
    """Create the simulated users (brokers with a TOTP second factor, as production requires)."""
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        published = list(
            db.session.scalars(
                select(FinancingNeed.id).where(FinancingNeed.status == NeedStatus.PUBLISHED)
            )
        )
    accounts = [_account(app, role, published) for role in role_mix(users)]
    with app.app_context():
        db.engine.dispose()
    return accounts


def _account(app, role: str, published: list[int]) -> Account:
    if role == "owner":
        return Account("owner", make_user(app, role=Role.OWNER).email)
    if role == "investor":
        investor = make_user(app, role=Role.INVESTOR)
        product = make_product(app, investor, sectors=[])
        targets = random.sample(published, min(len(published), 200))
        return Account("investor", investor.email, product_id=product.id, targets=targets)
    if role == "broker":
        return _broker(app)
    return _party(app)


def _broker(app) -> Account:
    broker = make_user(app, role=Role.BROKER)
    secret = pyotp.random_base32()
    with app.app_context():
        db.session.add(
            MfaCredential(user_id=broker.id, secret=secret, confirmed_at=datetime.now(UTC))
        )
        db.session.commit()
    return Account("broker", broker.email, mfa_secret=secret)


def _party(app) -> Account:
    """An owner whose need a broker introduced to an investor: a live deal conversation."""
    owner = make_user(app, role=Role.OWNER)
    investor = make_user(app, role=Role.INVESTOR, organisation=make_org(app, OrgKind.INVESTOR))
    need = make_need(app, owner, status=NeedStatus.PUBLISHED, title_en="Deal under way")
    product = make_product(app, investor)
    match = make_match(app, need, product, status=MatchStatus.INTRODUCED)
    with app.app_context():
        conversation = db.session.scalar(
            select(Conversation.id).where(Conversation.match_id == match.id)
        )
    return Account("party", owner.email, conversation_id=conversation)
