"""Pages of a match for its parties and brokers; interests; conversations; notifications."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from marketplace.deals import bp
from marketplace.deals.forms import MessageForm, RespondForm
from marketplace.extensions import db
from marketplace.forms import (
    AdvanceForm,
    CloseLostForm,
    CloseWonForm,
    ConfirmForm,
    DecisionForm,
    InterestForm,
)
from marketplace.models import (
    Conversation,
    FinanceProduct,
    FinancingNeed,
    Match,
    Notification,
    Role,
    utcnow,
)
from marketplace.parsing import MAX_RECORD_ID, query_int
from marketplace.security import get_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.deals import access, conversations, deals
from marketplace.services.matching import interests


def _visible_match(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    if not deals.can_see_deal(current_user, match):
        abort(404)
    return match


@bp.route("/")
@login_required
def my_deals():
    """My matches, interests and conversations, with unread counts."""
    if current_user.role in (Role.BROKER, Role.ADMIN):
        return redirect(url_for("brokers.pipeline"))
    org = current_user.organisation_id
    matches = db.session.scalars(
        select(Match)
        .join(Match.need)
        .join(Match.product)
        .where((FinancingNeed.organisation_id == org) | (FinanceProduct.organisation_id == org))
        .options(contains_eager(Match.need), contains_eager(Match.product))
        .order_by(Match.updated_at.desc())
        .limit(200)
    ).all()
    return render_template(
        "deals/index.html",
        matches=matches,
        interests=interests.interests_of(current_user),
        conversations=conversations.conversations_for(current_user),
        unread=conversations.unread_counts(current_user),
    )


@bp.route("/<int:match_id>")
@login_required
def match_detail(match_id):
    """Both sides of a match, its explanation, history and — once introduced — contacts."""
    match = _visible_match(match_id)
    forms = {
        "decision": DecisionForm(version=match.version_id),
        "advance": AdvanceForm(version=match.version_id),
        "won": CloseWonForm(version=match.version_id, currency=match.need.currency),
        "lost": CloseLostForm(version=match.version_id),
        "respond": RespondForm(),
    }
    return render_template(
        "deals/match.html",
        match=match,
        forms=forms,
        conversation=conversations.readable_conversation(match, current_user),
        contacts=deals.contacts_for(current_user, match),
        side=deals.side_of(current_user, match),
        show_owner=access.shows_owner_identity(current_user, match),
        deal_ended=access.deal_has_ended(match),
    )


@bp.route("/<int:match_id>/respond", methods=["POST"])
@role_required(Role.OWNER, Role.INVESTOR)
def respond(match_id):
    """Accept or decline an introduction."""
    _visible_match(match_id)
    form = RespondForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        deals.respond(match_id, current_user, form.answer.data == "accept")
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Your answer has been recorded."), "success")
    return redirect(url_for("deals.match_detail", match_id=match_id))


@bp.route("/interest", methods=["POST"])
@role_required(Role.OWNER, Role.INVESTOR)
def express_interest():
    """Ask to be introduced: an investor to a need, an owner to a product."""
    form = InterestForm()
    form.own_listing.choices = [(value, "") for value in _own_listing_ids()]
    if not form.validate_on_submit():
        abort(400, description=_("Choose one of your own listings."))
    if current_user.role == Role.INVESTOR:
        need = get_or_404(FinancingNeed, _int(form.need_id.data))
        product = get_or_404(FinanceProduct, form.own_listing.data)
        back = url_for("public.need_detail", need_id=need.id)
    else:
        product = get_or_404(FinanceProduct, _int(form.product_id.data))
        need = get_or_404(FinancingNeed, form.own_listing.data)
        back = url_for("public.product_detail", product_id=product.id)
    try:
        interests.express(current_user, need, product, form.message.data)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Interest sent. A broker will review it."), "success")
    return redirect(back)


def _int(value) -> int:
    """A listing id from the form: 400 when it is not one a database integer column can hold."""
    listing_id = query_int(value, minimum=1, maximum=MAX_RECORD_ID)
    if listing_id is None:
        abort(400, description=_("The listing is missing."))
    return listing_id


def _own_listing_ids() -> list[int]:
    model = FinanceProduct if current_user.role == Role.INVESTOR else FinancingNeed
    return list(
        db.session.scalars(
            select(model.id).where(model.organisation_id == current_user.organisation_id)
        )
    )


@bp.route("/conversations/<int:conversation_id>", methods=["GET", "POST"])
@login_required
def conversation(conversation_id):
    """Read and write messages of an introduced match."""
    thread = get_or_404(Conversation, conversation_id)
    if not access.can_read(thread, current_user):
        abort(404)
    form = MessageForm()
    if form.validate_on_submit():
        upload = form.attachment.data
        attachment = (upload.filename, upload.read()) if upload and upload.filename else None
        try:
            conversations.post(thread, current_user, form.body.data, attachment)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            return redirect(url_for("deals.conversation", conversation_id=thread.id))
    conversations.mark_read(thread, current_user)
    return render_template(
        "deals/conversation.html",
        thread=thread,
        form=form if access.can_post(thread, current_user) else None,
        downloadable=conversations.downloadable_attachments(thread, current_user),
    )


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """In-app notices, newest first; posting marks them all read."""
    items = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc())
        .limit(100)
    ).all()
    form = ConfirmForm()
    if form.validate_on_submit():
        for item in items:
            item.read_at = item.read_at or utcnow()
        db.session.commit()
        return redirect(url_for("deals.notifications"))
    return render_template("deals/notifications.html", items=items, form=form)
