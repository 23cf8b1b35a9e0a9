"""Investor pages: the home page and the product workflow."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.forms import ConfirmForm
from marketplace.investors import bp
from marketplace.investors.forms import ProductForm
from marketplace.models import FinanceProduct, Role
from marketplace.security import get_owned_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.insights import stats
from marketplace.services.listings import listings

DONE = {
    "activate": _l("Product is active."),
    "pause": _l("Product paused."),
    "close": _l("Product closed."),
}


@bp.route("/")
@role_required(Role.INVESTOR)
def home():
    """The investor's products, counted by status, and the published needs to look at."""
    return render_template(
        "investors/home.html", data=stats.investor_home(current_user.organisation_id)
    )


@bp.route("/products/new", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def new_product():
    """Draft a new green-finance product with its mandate."""
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = listings.create_product(current_user, form.to_input())
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Product saved as a draft. Activate it to start matching."), "success")
            return redirect(url_for("public.product_detail", product_id=product.id))
    return render_template("investors/product_form.html", form=form, product=None)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def edit_product(product_id):
    """Change a product's terms or mandate."""
    product = get_owned_or_404(FinanceProduct, product_id, staff_may=False)
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            listings.update_product(product, form.to_input(), current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("public.product_detail", product_id=product.id))
    return render_template("investors/product_form.html", form=form, product=product)


@bp.route("/products/<int:product_id>/<any(activate, pause, close):action>", methods=["POST"])
@role_required(Role.INVESTOR)
def product_action(product_id, action):
    """Activate, pause or close a product."""
    product = get_owned_or_404(FinanceProduct, product_id, staff_may=False)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        listings.transition_product(product, action, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(str(DONE[action]), "success")
    return redirect(url_for("public.product_detail", product_id=product.id))
