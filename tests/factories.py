"""Test data built through the real models and saved in the real database."""

import itertools
from decimal import Decimal

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Hub,
    NeedStatus,
    Organisation,
    OrgKind,
    ProductStatus,
    Role,
    User,
    utcnow,
)

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)

ORG_KIND_FOR_ROLE = {
    Role.OWNER: OrgKind.SPONSOR,
    Role.INVESTOR: OrgKind.INVESTOR,
    Role.BROKER: OrgKind.BROKER_FIRM,
    Role.ADMIN: OrgKind.BROKER_FIRM,
}


def _save(obj):
    """Commit, then detach with every column loaded, so tests can read it outside the context."""
    db.session.add(obj)
    db.session.commit()
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def make_org(app, kind=OrgKind.SPONSOR, **fields) -> Organisation:
    with app.app_context():
        return _save(
            Organisation(
                name=fields.pop("name", f"Org {next(_seq)}"),
                kind=kind,
                hub=fields.pop("hub", Hub.HONG_KONG),
                country_iso2=fields.pop("country_iso2", "HK"),
                **fields,
            )
        )


def make_user(app, role=Role.OWNER, organisation=None, password=PASSWORD, **fields) -> User:
    organisation = organisation or make_org(app, ORG_KIND_FOR_ROLE[role])
    with app.app_context():
        user = User(
            email=fields.pop("email", f"user{next(_seq)}@example.com"),
            role=role,
            display_name=fields.pop("display_name", f"{role.value.title()} Person"),
            organisation_id=organisation.id,
            email_confirmed=fields.pop("email_confirmed", True),
            **fields,
        )
        user.set_password(password)
        return _save(user)


def make_need(app, owner: User, **fields) -> FinancingNeed:
    with app.app_context():
        need = FinancingNeed(
            organisation_id=owner.organisation_id,
            created_by_id=owner.id,
            title_en=fields.pop("title_en", "50 MW solar park"),
            country_iso2=fields.pop("country_iso2", "PK"),
            sector=fields.pop("sector", "solar"),
            technology=fields.pop("technology", "solar_pv"),
            amount=fields.pop("amount", Decimal("40000000")),
            currency=fields.pop("currency", "USD"),
            amount_usd=fields.pop("amount_usd", Decimal("40000000")),
            tenor_years=fields.pop("tenor_years", 12),
            stage=fields.pop("stage", "financing"),
            status=fields.pop("status", NeedStatus.DRAFT),
            **fields,
        )
        if need.status == NeedStatus.PUBLISHED and need.published_at is None:
            need.published_at = utcnow()
        return _save(need)


def make_product(app, investor: User, **fields) -> FinanceProduct:
    values = {
        "name_en": "Green project loan",
        "product_type": "green_loan",
        "ticket_min": Decimal("10000000"),
        "ticket_max": Decimal("100000000"),
        "currency": "USD",
        "ticket_min_usd": Decimal("10000000"),
        "ticket_max_usd": Decimal("100000000"),
        "tenor_min_years": 5,
        "tenor_max_years": 15,
        "sectors": ["solar", "wind"],
        "status": ProductStatus.ACTIVE,
        **fields,
    }
    with app.app_context():
        return _save(
            FinanceProduct(
                organisation_id=investor.organisation_id, created_by_id=investor.id, **values
            )
        )


def pdf_bytes(size: int | None = None, password: str | None = None) -> bytes:
    """A real one-page PDF (pypdf), padded with an attached file to about `size` bytes."""
    import io

    from pypdf import PdfWriter

    def build(padding: int) -> bytes:
        writer = PdfWriter()
        writer.add_blank_page(width=595, height=842)
        if padding:
            writer.add_attachment("padding.bin", b"0" * padding)
        if password:
            writer.encrypt(password)
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    content = build(0)
    if size is None:
        return content
    padding = size - len(content) - 200
    for _ in range(3):  # the object lengths' digits move the size by a few bytes
        content = build(padding)
        padding += size - len(content)
    return content


def make_document(
    app,
    need: FinancingNeed,
    owner: User,
    content: bytes | None = None,
    name: str = "feasibility.pdf",
):
    """A PDF stored the way the upload service stores one."""
    from marketplace.services.deals import documents

    with app.app_context(), app.test_request_context():
        attached = documents.attach_to_need(
            db.session.get(FinancingNeed, need.id),
            name,
            content or pdf_bytes(),
            db.session.get(User, owner.id),
        )
        db.session.refresh(attached)
        db.session.expunge(attached)
        return attached


def make_fx_rate(app, currency="CNY", usd_per_unit="0.14", as_of=None):
    from datetime import date

    from marketplace.models import FxRate

    with app.app_context():
        return _save(
            FxRate(
                currency=currency,
                usd_per_unit=Decimal(usd_per_unit),
                as_of=as_of or date(2026, 11, 1),
                source="test rate",
            )
        )


def make_match(
    app, need: FinancingNeed, product: FinanceProduct, status=None, broker=None, **fields
):
    """A match; when introduced (or later), with its conversation and everyone in it."""
    from marketplace.models import (
        Conversation,
        ConversationParticipant,
        Match,
        MatchEvent,
        MatchStatus,
    )

    status = status or MatchStatus.SUGGESTED
    with app.app_context():
        match = Match(
            need_id=need.id,
            product_id=product.id,
            status=status,
            score=fields.pop("score", 0.8),
            **fields,
        )
        db.session.add(match)
        db.session.flush()
        if status not in (MatchStatus.SUGGESTED, MatchStatus.REJECTED, MatchStatus.ACCEPTED):
            db.session.add(
                MatchEvent(
                    match_id=match.id,
                    from_status=MatchStatus.ACCEPTED,
                    to_status=MatchStatus.INTRODUCED,
                    actor_id=getattr(broker, "id", None),
                )
            )
            conversation = Conversation(match_id=match.id)
            db.session.add(conversation)
            db.session.flush()
            people = {need.created_by_id, product.created_by_id} | (
                {broker.id} if broker else set()
            )
            db.session.add_all(
                ConversationParticipant(conversation_id=conversation.id, user_id=uid)
                for uid in people
            )
        return _save(match)


def make_saved_search(app, user: User, **fields):
    """A saved search of needs (weekly unless told), as the save form would store it."""
    from marketplace.models import AlertFrequency, SavedSearch

    with app.app_context():
        return _save(
            SavedSearch(
                user_id=user.id,
                name=fields.pop("name", "Solar in South Asia"),
                target=fields.pop("target", "needs"),
                filters=fields.pop("filters", {"sector": ["solar"]}),
                frequency=fields.pop("frequency", AlertFrequency.WEEKLY),
                **fields,
            )
        )


def make_payment(app, user: User, **fields):
    """A payment of the user's organisation (a paid listing fee unless told otherwise)."""
    import uuid

    from marketplace.models import Payment, PaymentPurpose, PaymentStatus

    with app.app_context():
        return _save(
            Payment(
                user_id=user.id,
                organisation_id=user.organisation_id,
                purpose=fields.pop("purpose", PaymentPurpose.LISTING_FEE),
                status=fields.pop("status", PaymentStatus.PAID),
                amount=fields.pop("amount", Decimal("500.00")),
                currency=fields.pop("currency", "USD"),
                idempotency_key=fields.pop("idempotency_key", f"gsr-test-{uuid.uuid4().hex}"),
                **fields,
            )
        )


def make_track_deal(app, investor: User, **fields):
    """A deal of the investor's organisation's track record, as the add form would store it."""
    from marketplace.models import TrackSource
    from marketplace.services.track_records.rules import DealInput, completed, new_row

    deal = completed(
        DealInput(
            country_iso2=fields.pop("country_iso2", "KZ"),
            sector=fields.pop("sector", None),
            technology=fields.pop("technology", "onshore_wind"),
            year=fields.pop("year", 2018),
            amount_usd=fields.pop("amount_usd", Decimal("120000000")),
            co_financiers=tuple(fields.pop("co_financiers", ("Asian Development Bank",))),
        )
    )
    with app.app_context():
        source = fields.pop("source", TrackSource.MANUAL)
        row = new_row(investor.organisation_id, deal, source, investor.id)
        for name, value in fields.items():
            setattr(row, name, value)
        return _save(row)
