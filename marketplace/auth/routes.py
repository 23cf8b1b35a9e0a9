"""Account views: thin wrappers around services.accounts."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.auth import bp, mfa_pending
from marketplace.auth.forms import (
    ApiKeyForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    VerificationRequestForm,
)
from marketplace.extensions import limiter
from marketplace.forms import ConfirmForm
from marketplace.models import Hub, Role
from marketplace.security import is_safe_next, role_required
from marketplace.services import ServiceError
from marketplace.services.accounts import accounts, api_keys, organisations


def home_url_for(user) -> str:
    """Each role's own home page."""
    return url_for(
        {
            Role.OWNER: "owners.home",
            Role.INVESTOR: "investors.home",
            Role.BROKER: "brokers.home",
            Role.ADMIN: "admin.home",
        }[user.role]
    )


def _limit(name):
    return lambda: current_app.config[name]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_IP"), methods=["POST"])
def login():
    """Sign in; the error never says whether the email or the password was wrong."""
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr)
        except ServiceError as error:
            flash(error.message, "danger")
            return render_template("auth/login.html", form=form), error.status
        if user:  # the password is right: the one place a session starts
            if mfa_pending.needed(user):
                return mfa_pending.start(user, form.next.data)
            login_user(user)
            session["locale"] = user.locale
            target = form.next.data
            return redirect(target if is_safe_next(target) else home_url_for(user))
        flash(_("The email or password is not correct."), "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out everywhere: the old session cookie stops working."""
    accounts.sign_out(current_user._get_current_object())
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_LIMIT_PER_IP"), methods=["POST"])
def register():
    """Create a project-owner or investor account with its organisation."""
    form = RegisterForm(locale=session.get("locale", "en"))
    if form.validate_on_submit():
        data = accounts.Registration(
            email=form.email.data,
            password=form.password.data,
            display_name=form.display_name.data,
            role=Role(form.role.data),
            organisation_name=form.organisation_name.data,
            hub=Hub(form.hub.data),
            country_iso2=form.country.data,
            locale=form.locale.data,
        )
        try:
            accounts.register(data)
        except ServiceError as error:
            form.email.errors.append(error.message)
        else:
            # The same answer whether or not the address already had an account.
            flash(_("Thank you. Check your e-mail, then sign in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


@bp.route("/confirm/<token>")
def confirm_email(token):
    """Confirm the account's e-mail address from the mailed link."""
    if accounts.confirm_email(token) is None:
        flash(
            _("This confirmation link is invalid or has expired. Sign in to get a new one."),
            "danger",
        )
    else:
        flash(_("Thank you: your e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/confirm", methods=["POST"])
@login_required
@limiter.limit(_limit("REGISTER_LIMIT_PER_IP"))
def resend_confirmation():
    """Mail the confirmation link again."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.send_confirmation(current_user._get_current_object())
    except ServiceError as error:
        flash(error.message, "info")
    else:
        flash(
            _("A new confirmation link is on its way to %(email)s.", email=current_user.email),
            "info",
        )
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else home_url_for(current_user))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_IP"), methods=["POST"])
def forgot_password():
    """Mail a reset link; the answer is the same whether or not the account exists."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = accounts.find_by_email(form.email.data)
        if user and user.active:
            accounts.mail_reset_link(user)
        flash(_("If an account exists for that email, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Set a new password from an opaque, expiring, single-use link."""
    user = accounts.user_for_reset_token(token)
    if user is None:
        flash(_("This reset link is invalid or has expired. Ask for a new one."), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm(account=user)
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except ServiceError as error:
            flash(error.message, "danger")
            return redirect(url_for("auth.forgot_password"))
        flash(_("Your password has been changed. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit name and language, and change the password."""
    form = ProfileForm(obj=current_user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password", account=current_user)
    if form.validate_on_submit():
        accounts.update_profile(current_user, form.display_name.data, form.locale.data)
        session["locale"] = form.locale.data
        flash(_("Profile saved."), "success")
        return redirect(url_for("auth.profile"))
    return profile_page(form=form, password_form=password_form)


def profile_page(**parts) -> str:
    """The profile page with its forms (the given ones, else blank) and the user's API keys."""
    defaults = {
        "form": lambda: ProfileForm(obj=current_user, prefix="profile"),
        "password_form": lambda: ChangePasswordForm(prefix="password", account=current_user),
        "key_form": lambda: ApiKeyForm(prefix="key", formdata=None),
    }
    for name, make in defaults.items():
        parts.setdefault(name, make())
    return render_template(
        "auth/profile.html",
        verification_form=VerificationRequestForm(),
        api_keys=api_keys.keys_of(current_user),
        revoke_form=ConfirmForm(),
        **parts,
    )


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    """Change the password; every other session of this account ends."""
    form = ProfileForm(obj=current_user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password", account=current_user)
    if password_form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, password_form.current_password.data, password_form.password.data
            )
        except ServiceError as error:
            password_form.current_password.errors.append(error.message)
        else:
            login_user(current_user._get_current_object())
            flash(_("Password changed. Other sessions have been signed out."), "success")
            return redirect(url_for("auth.profile"))
    return profile_page(form=form, password_form=password_form), 400


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch language: remembered on the account, or in this browser for visitors."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            accounts.set_locale(current_user, form.locale.data)
    target = form.next.data
    return redirect(target if is_safe_next(target) else url_for("public.index"))


@bp.route("/organisation/verification", methods=["POST"])
@role_required(Role.OWNER, Role.INVESTOR)
def request_verification():
    """Ask the brokers to verify the user's organisation."""
    form = VerificationRequestForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        organisations.request_verification(current_user.organisation, current_user)
    except ServiceError as error:
        flash(str(error.message), "warning")
    else:
        flash(_("Verification requested. A broker will review your organisation."), "success")
    return redirect(url_for("auth.profile"))
