"""Multi-factor authentication pages: the second step of sign-in, set-up with a QR code,
recovery codes and turning it off; and the rule that staff set it up before any other page."""

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from marketplace.auth import bp, mfa_pending
from marketplace.auth.forms import MfaDisableForm, MfaEnrolForm, MfaRecoveryCodesForm, MfaVerifyForm
from marketplace.auth.routes import home_url_for
from marketplace.extensions import limiter
from marketplace.security import is_safe_next
from marketplace.services import ServiceError
from marketplace.services.accounts import mfa

# What a broker or admin who must still set up MFA may open (static files keep pages styled).
_OPEN_BEFORE_ENROLMENT = {"auth.mfa_enrol", "auth.logout", "auth.set_language"}


def _limit(name):
    return lambda: current_app.config[name]


def _code_account_key() -> str:
    """Code attempts count per account: the pending sign-in's, or the signed-in user's."""
    uid = current_user.id if current_user.is_authenticated else mfa_pending.user_id()
    return f"mfa-account:{uid}"


# The limits of passwords, shared by every page that checks a code, so guesses add up.
per_ip = limiter.shared_limit(_limit("LOGIN_LIMIT_PER_IP"), scope="mfa-ip", methods=["POST"])
per_account = limiter.shared_limit(
    _limit("MFA_LIMIT_PER_ACCOUNT"),
    scope="mfa-account",
    key_func=_code_account_key,
    methods=["POST"],
)


@bp.before_app_request
def require_staff_enrolment():
    """While MFA is required for staff, a broker or admin without it sees only the set-up page."""
    endpoint = request.endpoint or ""
    if endpoint in _OPEN_BEFORE_ENROLMENT or endpoint.split(".")[-1] == "static":
        return None
    if current_user.is_authenticated and mfa.must_enrol(current_user):
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.mfa_enrol", next=target))
    return None


@bp.route("/mfa", methods=["GET", "POST"])
@per_ip
@per_account
def mfa_verify():
    """The second step of sign-in: a code from the authenticator app or a recovery code."""
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    user = mfa_pending.pending_user()
    if user is None:
        mfa_pending.clear()
        flash(_("Your sign-in has expired. Please enter your email and password again."), "info")
        return redirect(url_for("auth.login"))
    form = MfaVerifyForm()
    if form.validate_on_submit():
        if mfa.verify_second_step(user, form.code.data):
            target = mfa_pending.next_target()
            mfa_pending.clear()
            login_user(user)
            session["locale"] = user.locale
            return redirect(target if is_safe_next(target) else home_url_for(user))
        form.code.errors.append(mfa.WRONG_CODE)
    return render_template("auth/mfa_verify.html", form=form)


# Not per account: the user is signed in and sees the secret, so guessing here gains nothing.
@bp.route("/mfa/enrol", methods=["GET", "POST"])
@per_ip
@login_required
def mfa_enrol():
    """Set up the authenticator app: scan the QR code, type a code, keep the recovery codes."""
    try:
        enrolment = mfa.start_enrolment(current_user)
    except ServiceError as error:
        flash(str(error.message), "info")
        return redirect(url_for("auth.mfa_settings"))
    form = MfaEnrolForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(current_user, form.code.data)
        except ServiceError as error:
            form.code.errors.append(error.message)
        else:
            login_user(current_user._get_current_object())
            return _recovery_codes_page(codes, request.args.get("next"))
    return _no_store(
        render_template(
            "auth/mfa_enrol.html",
            form=form,
            secret=" ".join(
                enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)
            ),
            qr_code=segno.make(enrolment.uri, error="m").svg_data_uri(scale=5, light="#fff"),
            required=mfa.required_for(current_user),
        )
    )


@bp.route("/mfa/settings")
@login_required
def mfa_settings():
    """Whether two-factor authentication is on, new recovery codes, and turning it off."""
    return _settings_page()


@bp.route("/mfa/recovery-codes", methods=["POST"])
@per_ip
@per_account
@login_required
def mfa_recovery_codes():
    """Replace the recovery codes; the old ones stop working."""
    form = MfaRecoveryCodesForm(prefix="recovery")
    if form.validate_on_submit():
        try:
            codes = mfa.regenerate_recovery_codes(current_user, form.code.data)
        except ServiceError as error:
            form.code.errors.append(error.message)
        else:
            return _recovery_codes_page(codes, url_for("auth.mfa_settings"))
    return _settings_page(recovery_form=form), 400


@bp.route("/mfa/disable", methods=["POST"])
@per_ip
@per_account
@login_required
def mfa_disable():
    """Turn two-factor authentication off with the password and a code; other sessions end."""
    form = MfaDisableForm(prefix="disable")
    if form.validate_on_submit():
        try:
            mfa.disable(current_user, form.password.data, form.code.data)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            login_user(current_user._get_current_object())
            flash(
                _("Two-factor authentication is off. Other sessions have been signed out."),
                "success",
            )
            return redirect(url_for("auth.mfa_settings"))
    return _settings_page(disable_form=form), 400


def _settings_page(recovery_form=None, disable_form=None):
    return render_template(
        "auth/mfa_settings.html",
        status=mfa.status(current_user),
        recovery_form=recovery_form or MfaRecoveryCodesForm(prefix="recovery"),
        disable_form=disable_form or MfaDisableForm(prefix="disable"),
    )


def _recovery_codes_page(codes: list[str], next_target: str | None = None):
    """Shown once, in the response itself: the codes are never stored or put in a cookie."""
    target = next_target if is_safe_next(next_target) else home_url_for(current_user)
    return _no_store(
        render_template("auth/mfa_recovery_codes.html", codes=codes, continue_url=target)
    )


def _no_store(html: str):
    """A page with a secret on it: kept in no cache, not even the browser's history."""
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response
