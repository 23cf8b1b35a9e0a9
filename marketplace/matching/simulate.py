"""Broker simulator: hidden affinity, position-biased examination, random acceptance, retraining."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from .candidates import Pair, RuleConfig, rule_parts
from .experience import generate_market
from .features import hits_for_grid
from .index import MatchingIndex
from .ranker import grid_scores
from .records import Need, Product
from .suggest import plan_slots
from .train import decisions_from, fit_model
from .world import World

BASE_UTILITY = 0.5  # sets the acceptance rate of broker decisions near 30 %
# Experience from the track record: a deal in the need's country, log1p(deals there),
# log1p(deals in the need's technology), a deal in its country since experience.RECENT_SINCE;
# minus an offset that keeps the acceptance rate where it is without track records.
TRACK_WEIGHTS = (0.8, 0.3, 0.5, 0.4)
TRACK_OFFSET = 0.3
NOISE = 0.5  # per-pair taste no feature can see
BATCH = 200


def examination(position: np.ndarray) -> np.ndarray:
    """Chance a broker looks at the suggestion shown at a 1-based position."""
    return 0.9 * np.asarray(position, dtype=np.float64) ** -0.35


def build_index(needs: list[dict], products: list[dict]) -> MatchingIndex:
    """Index of generated records, rows in generation order."""
    return MatchingIndex.build(
        [Need.from_dict(n) for n in needs], [Product.from_dict(p) for p in products]
    )


def acceptance_probability(world: World, index: MatchingIndex, need_rows: np.ndarray) -> np.ndarray:
    """P(accept | examined) for some needs against every product: the hidden ground truth."""
    hits, text = hits_for_grid(index, need_rows)
    pair = Pair(
        index.needs.side.take(need_rows[:, None]),
        index.products.side.take(np.newaxis),
        hits,
        text,
        {},
    )
    missed = rule_parts(pair, RuleConfig())["missed"]
    taste = world.investor_taste[world.product_investor][:, world.need_sector[need_rows]].T
    themes = world.need_theme[need_rows] @ world.product_theme.T
    noise = np.stack(
        [
            np.random.default_rng([world.seed, int(r)]).normal(0, NOISE, len(index.products))
            for r in need_rows
        ]
    )
    utility = (
        BASE_UTILITY
        - 2.0 * missed
        + 0.6 * (hits["technology"] > 0)
        + 0.4 * (hits["country"] > 0)
        + 1.0 * taste
        + 0.8 * world.product_quality[None, :]
        + 1.5 * themes
        + noise
    )
    if world.experience is not None:
        utility = utility + experience_utility(world, need_rows)
    return 1 / (1 + np.exp(-utility))


def experience_utility(world: World, need_rows: np.ndarray) -> np.ndarray:
    """The part of the hidden utility that the investors' track records carry (needs × products)."""
    seen = world.experience
    investors = world.product_investor
    country = seen.need_country[need_rows]
    known = (country >= 0)[:, None]
    in_country = np.where(known, seen.country_deals[investors][:, country].T, 0.0)
    recent = np.where(known, seen.recent[investors][:, country].T, 0.0)
    technology = seen.technology_deals[investors][:, seen.need_technology[need_rows]].T
    w_any, w_country, w_technology, w_recent = TRACK_WEIGHTS
    return (
        w_any * (in_country > 0)
        + w_country * np.log1p(in_country)
        + w_technology * np.log1p(technology)
        + w_recent * recent
        - TRACK_OFFSET
    )


def _queue_picks(index, rows, chance, rng) -> np.ndarray:
    """Products of each need's suggestion queue (noisy stage 1) that a broker examined, in order."""
    logging = grid_scores(index, rows, None, RuleConfig())["stage1"]
    shown = np.argsort(-(logging + 0.15 * rng.gumbel(size=logging.shape)), axis=1)[:, :200]
    looked = rng.random(shown.shape) < examination(np.arange(1, shown.shape[1] + 1))[None, :]
    return [shown[b][looked[b]] for b in range(len(rows))]


def _interest_picks(chance, rng) -> list[np.ndarray]:
    """Products the parties expressed interest in, drawn by their hidden taste (Gumbel top-k)."""
    utility = np.log(chance) - np.log1p(-chance)
    return list(np.argsort(-(utility + rng.gumbel(size=chance.shape)), axis=1)[:, :50])


def _logged_batch(index, world, rows, quota, interest_share, rng) -> list[dict]:
    """Broker decisions on queue suggestions and on expressions of interest."""
    chance = acceptance_probability(world, index, rows)
    queue, interest = _queue_picks(index, rows, chance, rng), _interest_picks(chance, rng)
    out = []
    for b, row in enumerate(rows):
        n_interest = rng.binomial(quota[b], interest_share)
        picks = np.concatenate([interest[b][:n_interest], queue[b]])
        for j in list(dict.fromkeys(picks.tolist()))[: quota[b]]:
            out.append(
                {
                    "type": "decision",
                    "need": index.needs.records[row].id,
                    "product": index.products.records[j].id,
                    "accepted": bool(rng.random() < chance[b, j]),
                }
            )
    return out


def logged_dataset(
    n_needs: int,
    n_products: int,
    n_decisions: int,
    seed: int = 0,
    interest_share: float = 0.3,
    progress: bool = False,
    track_records: bool = True,
):
    """Needs, products and decisions: a share from parties' interests, the rest from a
    rules-ordered queue that brokers examine with position bias."""
    needs, products, world = generate_market(n_needs, n_products, seed, progress, track_records)
    index = build_index(needs, products)
    rng = np.random.default_rng(seed + 1)
    quota = rng.multinomial(n_decisions, np.ones(n_needs) / n_needs)
    decisions = []
    for start in tqdm(range(0, n_needs, BATCH), desc="brokers", disable=not progress):
        rows = np.arange(start, min(start + BATCH, n_needs))
        decisions += _logged_batch(index, world, rows, quota[rows], interest_share, rng)
    return needs, products, decisions


def oracle_ndcg(scores: np.ndarray, gains: np.ndarray, cutoff: int = 10) -> np.ndarray:
    """NDCG@cutoff per row with the true acceptance probabilities as graded gains."""
    discounts = 1 / np.log2(np.arange(2, cutoff + 2))
    top = np.argsort(-scores, axis=1)[:, :cutoff]
    best = -np.sort(-gains, axis=1)[:, :cutoff]
    return (np.take_along_axis(gains, top, axis=1) @ discounts) / (best @ discounts)


def _show_and_decide(index, world, rows, model, k, seed, rng) -> list[dict]:
    """One round of brokers: the current ranker's page (with exploration), examined by position."""
    chance = acceptance_probability(world, index, rows)
    grid = grid_scores(index, rows, model, RuleConfig())
    ranked = np.argsort(-grid["learned" if model else "stage1"], axis=1)[:, :100]
    out = []
    for b, row in enumerate(rows):
        need = index.needs.records[row]
        for place, (i, explored, propensity) in enumerate(
            plan_slots(ranked.shape[1], k, seed, need.id), 1
        ):
            j = ranked[b, i]
            looked = rng.random() < examination(place)
            out.append(
                {
                    "need": need.id,
                    "product": index.products.records[j].id,
                    "position": place,
                    "is_exploration": explored,
                    "propensity": propensity,
                    "accepted": bool(rng.random() < chance[b, j]) if looked else None,
                }
            )
    return out


def _held_out_scores(index, world, rows, model) -> dict[str, float]:
    gains = acceptance_probability(world, index, rows)
    grid = grid_scores(index, rows, model, RuleConfig())
    out = {
        name: float(oracle_ndcg(grid[name], gains).mean()) for name in ("rules", "stage1", "tfidf")
    }
    if model is not None:
        out["learned"] = float(oracle_ndcg(grid["learned"], gains).mean())
    return out


def simulate_rounds(
    n_needs: int = 800,
    n_products: int = 300,
    rounds: int = 4,
    k: int = 10,
    seed: int = 0,
    holdout: float = 0.25,
    track_records: bool = True,
) -> dict:
    """Rank, let brokers decide, retrain, repeat; score each model on never-seen needs."""
    needs, products, world = generate_market(n_needs, n_products, seed, False, track_records)
    index = build_index(needs, products)
    rng = np.random.default_rng(seed + 7)
    order = rng.permutation(n_needs)
    held = np.sort(order[: int(n_needs * holdout)])
    batches = np.array_split(order[len(held) :], rounds)
    model, logged, history = None, [], []
    for round_no, batch in enumerate(batches):
        logged += _show_and_decide(index, world, np.sort(batch), model, k, seed + round_no, rng)
        model = fit_model(index, decisions_from(index, logged), seed=seed, calibrate=False)
        scores = _held_out_scores(index, world, held, model)
        labelled = [d for d in logged if d["accepted"] is not None]
        history.append(
            scores
            | {
                "round": round_no + 1,
                "decisions": len(labelled),
                "accepted": sum(d["accepted"] for d in labelled),
            }
        )
    return {"history": history, "model": model, "decisions": logged, "index": index}
