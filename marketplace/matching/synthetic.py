"""Write a synthetic evaluation data set: `python -m marketplace.matching.synthetic --out F.jsonl`.

The needs and products come from `world`, the logged, position-biased broker decisions from
`simulate`; the file is the JSON-lines input of `flask ranker evaluate`.
"""

from __future__ import annotations

import argparse
import json
import sys

from .simulate import logged_dataset


def write_jsonl(path, needs, products, decisions) -> None:
    """Write needs, products and decisions in the evaluation format."""
    with open(path, "w", encoding="utf-8") as handle:
        for record in (*needs, *products, *decisions):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command line: generate a data set with logged, position-biased broker decisions."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--needs", type=int, default=500)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--interest-share",
        type=float,
        default=0.3,
        help="share of decisions on parties' expressions of interest (0 = queue only)",
    )
    parser.add_argument(
        "--no-track-records",
        dest="track_records",
        action="store_false",
        help="products carry no track record and the hidden truth ignores experience",
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    needs, products, decisions = logged_dataset(
        args.needs,
        args.products,
        args.decisions,
        args.seed,
        args.interest_share,
        progress=True,
        track_records=args.track_records,
    )
    write_jsonl(args.out, needs, products, decisions)
    accepted = sum(d["accepted"] for d in decisions)
    print(
        f"wrote {len(needs)} needs, {len(products)} products, {len(decisions)} decisions "
        f"({accepted} accepted) to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
