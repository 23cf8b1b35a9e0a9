"""Search pages: thin wrappers around services.search and services.alerts."""

from urllib.parse import parse_qs, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import page_cache
from marketplace.models import AlertFrequency
from marketplace.search import bp
from marketplace.search.forms import SaveSearchForm
from marketplace.security import role_required
from marketplace.services import ServiceError
from marketplace.services.search import alerts, product_search, search


@bp.get("/needs")
@role_required(*alerts.SEARCH_ROLES["needs"])
def needs():
    """Published financing needs, narrowed by the words and facets in the URL."""
    return render_template(
        "search/needs.html",
        results=page_cache.needs_results("search.needs"),
        save_form=page_cache.form_fragment("save-search", _needs_save_form),
    )


def _needs_save_form() -> str:
    """The save-search form of this need search (the same for every investor but the token)."""
    geo = page_cache.geography()
    filters = search.parse_filters(request.args.to_dict(flat=False), "needs", geo)
    return render_template("search/_save_form.html", form=_save_form(filters), frequency=True)


@bp.get("/products")
@role_required(*alerts.SEARCH_ROLES["products"])
def products():
    """Active finance products, narrowed by the words and facets in the URL."""
    geo = page_cache.geography()
    filters = search.parse_filters(request.args.to_dict(flat=False), "products", geo)
    page = search.parse_page(request.args.get("page"))
    result = product_search.search_products(filters, page, geo)
    return render_template("search/products.html", result=result, form=_save_form(filters))


def _save_form(filters: search.Filters) -> SaveSearchForm:
    return SaveSearchForm(
        target=filters.target,
        query=urlencode(filters.to_params(), doseq=True),
        frequency="weekly" if filters.target == "needs" else "never",
    )


@bp.route("/saved", methods=["GET", "POST"])
@login_required
def saved():
    """My saved searches; a POST saves the search on screen under a name."""
    form, status = SaveSearchForm(), 200
    if form.validate_on_submit():
        try:
            alerts.save_search(
                current_user,
                form.name.data,
                form.target.data,
                parse_qs(form.query.data or ""),
                AlertFrequency(form.frequency.data),
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
            status = error.status
        else:
            flash(_("Search saved."), "success")
            return redirect(url_for("search.saved"))
    elif form.is_submitted():
        status = 400
    return render_template(
        "search/saved.html", form=form, searches=alerts.saved_searches_of(current_user)
    ), status


@bp.post("/saved/<int:search_id>/delete")
@login_required
def delete_saved(search_id: int):
    """Delete one of my saved searches; anyone else's is not found."""
    saved_search = alerts.saved_search_of(current_user, search_id)
    if saved_search is None:
        abort(404)
    alerts.delete_saved_search(saved_search)
    flash(_("Saved search deleted."), "success")
    return redirect(url_for("search.saved"))
