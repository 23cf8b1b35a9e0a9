"""Personal API keys on the profile page: create one (shown once), revoke one."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.auth import bp
from marketplace.auth.forms import ApiKeyForm
from marketplace.auth.routes import profile_page
from marketplace.forms import ConfirmForm
from marketplace.services import ServiceError
from marketplace.services.accounts import api_keys


@bp.route("/profile/api-keys", methods=["POST"])
@login_required
def create_api_key():
    """Create a key and show it in this very answer (never in a flash: the session cookie is
    signed, not encrypted), once."""
    form = ApiKeyForm(prefix="key")
    if not form.validate_on_submit():
        return profile_page(key_form=form), 400
    scopes = ["read", "write"] if form.write.data else ["read"]
    try:
        key, plaintext = api_keys.create_key(current_user, form.name.data, scopes)
    except ServiceError as error:
        form.name.errors.append(error.message)
        return profile_page(key_form=form), error.status
    page = profile_page(new_key=plaintext, new_key_row=key)
    return page, 201, {"Cache-Control": "no-store"}  # Created: the key, shown this once


@bp.route("/profile/api-keys/<int:key_id>/revoke", methods=["POST"])
@login_required
def revoke_api_key(key_id: int):
    """Revoke one of my keys; it stops working at the next request."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        key = api_keys.revoke_key(current_user, key_id)
    except ServiceError as error:
        abort(error.status)
    flash(_("The key “%(name)s” has been revoked.", name=key.name), "success")
    return redirect(url_for("auth.profile", _anchor="api-keys-heading"))
