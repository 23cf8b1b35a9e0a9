"""`flask ranker train | evaluate | suggest | refresh`."""

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from tqdm import tqdm

from marketplace import matching
from marketplace.extensions import db
from marketplace.jobs import dispatch
from marketplace.models import FinanceProduct, FinancingNeed
from marketplace.services.matching import ranker, ranker_versions, suggestions

ranker_cli = AppGroup("ranker", help="Train, evaluate and run the matching ranker.")


@ranker_cli.command("evaluate", with_appcontext=False)
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None)
@click.option(
    "--compare-learners",
    is_flag=True,
    help="Also fit the other learner (logistic vs boosting) in the same folds.",
)
def evaluate(
    data_path: str, folds: int, seed: int, out_path: str | None, compare_learners: bool
) -> None:
    """Grouped cross-validation of the ranker and four baselines on a JSON-lines file, with the
    calibration of its probabilities and, when products carry track records, its gain from them."""
    result = matching.evaluate(data_path, folds=folds, seed=seed, compare_learners=compare_learners)
    text = json.dumps(result, sort_keys=True)
    if out_path:
        Path(out_path).write_text(text + "\n", encoding="utf-8")
    click.echo(text)


@ranker_cli.command("train")
@click.option("--seed", default=0, show_default=True, type=int)
def train(seed: int) -> None:
    """Train on all broker decisions; activate the new version only if it is not worse."""
    summary = ranker_versions.train(seed=seed)
    if not summary["saved"]:
        click.echo(f"No model trained ({summary['decisions']} decisions): {summary['reason']}.")
        return
    new, active = summary["metrics"], summary["active_metrics"]
    rules = new.get("baselines", {}).get("rules", {})
    click.echo(
        f"Trained {summary['version']} on {summary['decisions']} decisions: "
        f"held-out NDCG@10 {new.get('ndcg@10', float('nan')):.3f}"
        f" (rules baseline {rules.get('ndcg@10', float('nan')):.3f})"
        + (f" vs active {active['ndcg@10']:.3f}" if active else ", no active model")
    )
    calibration = new.get("calibration") or {}
    if calibration:
        click.echo(
            f"Learner {new.get('learner')}, calibration {calibration['method'] or 'none'}: "
            f"held-out Brier {calibration['brier']:.3f}, ECE {calibration['ece']:.3f}"
        )
    if not summary["activated"]:
        click.echo("Kept the active version (the new one is worse).")
        return
    click.echo("Activated; re-scoring the stored suggestions with it.")
    dispatch()  # the refresh asked for on activation: here, or by the workers with REDIS_URL


@ranker_cli.command("refresh")
def refresh() -> None:
    """Recompute stored suggestions for every published need and active product."""

    def progress(items, total, label):
        return tqdm(items, total=total, desc=label, file=sys.stderr)

    summary = suggestions.refresh_all(progress)
    click.echo(
        f"Refreshed {summary['needs']} needs and {summary['products']} products: "
        f"{summary['suggestions']} suggestions stored."
    )


@ranker_cli.command("suggest")
@click.option("--need", "need_id", type=int)
@click.option("--product", "product_id", type=int)
@click.option("-k", "k", default=matching.DEFAULT_K, show_default=True, type=click.IntRange(1, 100))
def suggest(need_id: int | None, product_id: int | None, k: int) -> None:
    """Print the top suggestions for one need or one product, with scores and reasons."""
    if (need_id is None) == (product_id is None):
        raise click.UsageError("Give exactly one of --need or --product.")
    model, index = ranker.active_model(), ranker.build_index()
    if need_id is not None:
        need = db.session.get(FinancingNeed, need_id) or _missing("need", need_id)
        items = matching.suggest_for_need(
            index, ranker.need_record(need), model, k=k, explore=False
        )
    else:
        product = db.session.get(FinanceProduct, product_id) or _missing("product", product_id)
        items = matching.suggest_for_product(
            index, ranker.product_record(product), model, k=k, explore=False
        )
    click.echo(f"Model: {getattr(model, 'version', None) or 'stage-1 rules (cold start)'}")
    for item in items:
        explanation = item.explanation
        chance = "—" if item.probability is None else f"{item.probability:.0%}"
        tier = "near miss" if item.tier == "near_miss" else "good"
        click.echo(
            f"{tier:>9} {item.rank:>3}. #{item.id}  chance {chance}  "
            f"near miss on: {', '.join(explanation.get('near_miss_on', [])) or 'nothing'}  "
            f"reasons: {', '.join(r['code'] for r in explanation.get('reasons', []))}  "
            f"shared: {', '.join(explanation.get('shared_terms', [])[:5])}"
        )


def _missing(kind: str, ident: int):
    raise click.ClickException(f"No {kind} with id {ident}.")
