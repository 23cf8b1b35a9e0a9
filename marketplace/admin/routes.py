"""Admin pages: users (create, change role, deactivate) and exchange rates."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.admin import bp
from marketplace.admin.forms import CreateUserForm, EditUserForm, FxRateForm
from marketplace.extensions import db
from marketplace.forms import ConfirmForm, currency_choices
from marketplace.models import FxRate, Organisation, Role, User
from marketplace.security import get_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.accounts import accounts, mfa
from marketplace.services.insights import stats
from marketplace.services.reference import fx


@bp.route("/")
@role_required(Role.ADMIN)
def home():
    """Users by role, organisations by kind, and the newest accounts."""
    return render_template("admin/home.html", data=stats.admin_home())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def create_user():
    """Add a broker, admin or any other account to an existing organisation."""
    form = CreateUserForm()
    form.organisation_id.choices = [
        (o.id, o.name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
    ]
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation_id.data) or abort(400)
        try:
            user = accounts.create_staff_user(
                form.email.data,
                form.password.data,
                form.display_name.data,
                Role(form.role.data),
                organisation,
                actor=current_user,
            )
        except ServiceError as error:
            form.email.errors.append(error.message)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id):
    """Change someone's role or switch their account off."""
    user = get_or_404(User, user_id)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            if Role(form.role.data) != user.role:
                accounts.change_role(user, Role(form.role.data), current_user)
            if form.active.data != user.active:
                accounts.set_active(user, form.active.data, current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("User updated."), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_edit.html", form=form, user=user)


@bp.route("/users/<int:user_id>/mfa/reset", methods=["POST"])
@role_required(Role.ADMIN)
def reset_mfa(user_id):
    """Remove someone's second factor (lost phone and codes); audited, all their sessions end."""
    user = get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        mfa.reset(user, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Two-factor authentication reset. The user is signed out everywhere."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/fx", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def fx_rates():
    """The exchange rates used for USD equivalents, newest first, and a form to add one."""
    form = FxRateForm()
    form.currency.choices = [c for c in currency_choices() if c[0] != "USD"]
    if form.validate_on_submit():
        try:
            fx.add_rate(
                form.currency.data,
                form.usd_per_unit.data,
                form.as_of.data,
                form.source.data.strip(),
                current_user,
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Rate added. New and edited listings use it from now on."), "success")
            return redirect(url_for("admin.fx_rates"))
    rates = db.session.scalars(
        select(FxRate).order_by(FxRate.as_of.desc(), FxRate.id.desc()).limit(100)
    ).all()
    return render_template("admin/fx.html", form=form, rates=rates)
