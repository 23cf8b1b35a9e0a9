"""Landing page, listing pages, document downloads and /healthz."""

from flask import abort, jsonify, render_template, send_file
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace import page_cache
from marketplace.extensions import db, limiter
from marketplace.forms import (
    ConfirmForm,
    DocumentForm,
    VerificationForm,
    interest_form_for,
    offers_interest,
    own_listing_options,
)
from marketplace.jobs import health
from marketplace.models import Document
from marketplace.public import bp
from marketplace.reference import catalog, sectors
from marketplace.security import get_or_404
from marketplace.services.deals import documents
from marketplace.services.insights import stats
from marketplace.services.listings import visibility
from marketplace.services.matching import suggestions
from marketplace.services.track_records import queries as track_records


@bp.route("/")
def index():
    """Explain the platform; show the public figures and the newest published needs."""
    return render_template(
        "public/index.html", listings=page_cache.fragment("landing", _landing_listings)
    )


def _landing_listings() -> str:
    return render_template(
        "public/_index_listings.html",
        figures=stats.platform_figures(),
        needs=stats.latest_published_needs(limit=6),
    )


@bp.route("/needs")
def browse_needs():
    """Published needs in summary for everyone, with the same facets investors use."""
    results = page_cache.needs_results("public.browse_needs")
    return render_template("search/needs.html", results=results, save_form=None)


@bp.route("/needs/<int:need_id>")
def need_detail(need_id):
    """A need: a summary for visitors, everything for its owner, brokers and admins."""
    need = visibility.need_for_viewer(need_id, current_user)
    owner, staff = visibility.owns(current_user, need), visibility.is_staff(current_user)
    return render_template(
        "public/need.html",
        need=need,
        is_owner=owner,
        is_staff=staff,
        # Only the owner's and staff's parts of the page hold these forms.
        document_form=DocumentForm() if owner else None,
        confirm_form=ConfirmForm() if owner or staff else None,
        claim_form=VerificationForm() if staff else None,
        classification=classification_of(need.technology),
        visible_documents=[d for d in need.documents if documents.can_download(current_user, d)],
        interest_form=_interest_form(need_id=need.id),
        suggested=suggestions.suggestions_for_need(need.id) if owner or staff else [],
    )


def _interest_form(need_id: int | None = None, product_id: int | None = None):
    """The interest form for this user, its options (the organisation's own open listings, up
    to a thousand products) cached per organisation and language until any listing is written."""
    if not offers_interest(current_user, on_need=bool(need_id)):
        return None
    owner = f"own-listings:{current_user.role.value}:{current_user.organisation_id}"
    options = page_cache.shared_fragment(owner, lambda: own_listing_options(current_user))
    return interest_form_for(options, need_id=need_id, product_id=product_id)


def classification_of(technology: str) -> dict:
    """The ICMA category and China's catalogue (level 1) a technology maps to."""
    tech = sectors.TECHNOLOGIES.get(technology)
    if tech is None:
        return {}
    china = {c.code: c for c in catalog.china_catalogue()}.get(tech.china_catalogue_code or "")
    return {"icma": tech.icma_category, "china": china}


@bp.route("/products/<int:product_id>")
@login_required
def product_detail(product_id):
    """A product and its mandate, for signed-in users."""
    product = visibility.product_for_viewer(product_id, current_user)
    owner, staff = visibility.owns(current_user, product), visibility.is_staff(current_user)
    return render_template(
        "public/product.html",
        product=product,
        is_owner=owner,
        is_staff=staff,
        confirm_form=ConfirmForm(),
        interest_form=_interest_form(product_id=product.id),
        track_record=track_records.summary(product.organisation_id),
        suggested=suggestions.suggestions_for_product(product.id) if owner or staff else [],
    )


@bp.route("/documents/<int:document_id>")
@login_required
def download_document(document_id):
    """Send a document to the owner, brokers and introduced investors only."""
    document = get_or_404(Document, document_id)
    if not documents.can_download(current_user, document):
        abort(403)
    return send_file(
        documents.path_of(document),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
    )


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """Readiness for the load balancer: 503 only when the database does not answer.

    Redis down is reported but keeps 200: pages serve, the limiter counts in each process and
    jobs wait in the database until Redis is back (README: Background jobs).
    """
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify(status="unavailable", database="down", error=type(error).__name__), 503
    try:
        queue = health.queue_state()
    except SQLAlchemyError as error:  # e.g. before `flask db upgrade` made the jobs table
        db.session.rollback()
        queue = {"error": type(error).__name__}
    redis_state = health.redis_state()
    status = "ok" if redis_state != "down" else "degraded"
    return jsonify(status=status, database="up", redis=redis_state, queue=queue)


@bp.route("/healthz/live")
@limiter.exempt
def liveness():
    """Liveness: the process answers (restart it only when this fails)."""
    return jsonify(status="ok")
