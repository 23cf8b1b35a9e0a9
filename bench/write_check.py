"""Counting, after the load, what the database holds of each write the site acknowledged."""

import time
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from bench.write_users import Ledger

# Where each kind of write leaves its unique marker.
MARKED = {
    "need": ("financing_needs", "title_en"),
    "interest": ("interests", "message"),
    "decision": ("match_events", "note"),
    "message": ("messages", "body"),
}


def count_writes(database_url: str, ledger: Ledger) -> dict:
    """Acknowledged writes found exactly once; in-doubt ones (503, no answer) found at most once."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = {kind: _markers(connection, kind, ledger.run) for kind in MARKED}
            edits = _edit_figures(connection, ledger)
    finally:
        engine.dispose()
    figures = defaultdict(int)
    for write in ledger.writes:
        if write.kind == "edit":
            continue
        copies = stored[write.kind].get(write.marker, 0)
        figures["acknowledged_writes" if write.acked else "in_doubt_writes"] += 1
        if write.acked:
            figures["found_in_db"] += copies == 1
            figures["missing"] += copies == 0
        else:
            figures["in_doubt_saved"] += copies == 1
    figures["duplicates"] = sum(
        copies - 1 for markers in stored.values() for copies in markers.values() if copies > 1
    )
    by_kind = defaultdict(int)
    for write in ledger.writes:
        by_kind[write.kind] += write.acked
    return {**_add_edits(figures, edits), "acknowledged_by_kind": dict(by_kind)}


def _markers(connection, kind: str, run: str) -> dict[str, int]:
    table, column = MARKED[kind]
    rows = connection.execute(
        text(f"SELECT {column}, count(*) FROM {table} WHERE {column} LIKE :run GROUP BY {column}"),
        {"run": f"wl-{run}-%"},
    )
    return {marker: copies for marker, copies in rows}


def _edit_figures(connection, ledger: Ledger) -> dict:
    """Edits overwrite each other: the need must end with its last acknowledged summary (or a
    later in-doubt one), and hold one audit row per applied edit, never more than were sent."""
    per_need = defaultdict(list)
    for write in ledger.writes:
        if write.kind == "edit":
            per_need[write.need_id].append(write)
    result = defaultdict(int)
    for need_id, writes in per_need.items():
        writes.sort(key=lambda write: write.at)
        summary, updates = _need_state(connection, need_id)
        acked = [write for write in writes if write.acked]
        in_doubt = len(writes) - len(acked)
        result["acknowledged"] += len(acked)
        result["in_doubt"] += in_doubt
        last = acked[-1] if acked else None
        later = {write.marker for write in writes if last is None or write.at > last.at}
        consistent = summary in later | ({last.marker} if last else set())
        applied_ok = len(acked) <= updates <= len(writes)
        result["found"] += len(acked) if consistent and applied_ok else 0
        result["missing"] += 0 if consistent and updates >= len(acked) else len(acked)
        result["duplicates"] += max(0, updates - len(writes))
    return result


def _need_state(connection, need_id: int) -> tuple[str, int]:
    summary = connection.execute(
        text("SELECT summary_en FROM financing_needs WHERE id = :id"), {"id": need_id}
    ).scalar()
    updates = connection.execute(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'need.updated' "
            "AND target_type = 'FinancingNeed' AND target_id = :id"
        ),
        {"id": str(need_id)},
    ).scalar()
    return summary, updates


def _add_edits(figures: dict, edits: dict) -> dict:
    figures = dict(figures)
    figures["acknowledged_writes"] = figures.get("acknowledged_writes", 0) + edits["acknowledged"]
    figures["found_in_db"] = figures.get("found_in_db", 0) + edits["found"]
    figures["missing"] = figures.get("missing", 0) + edits["missing"]
    figures["duplicates"] = figures.get("duplicates", 0) + edits["duplicates"]
    figures["in_doubt_writes"] = figures.get("in_doubt_writes", 0) + edits["in_doubt"]
    return figures


def wait_for_jobs(database_url: str, timeout: float = 120.0) -> dict:
    """Let the worker finish what the load asked for; returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if _open_jobs(database_url) == 0:
            break
        time.sleep(1)
    return {"jobs_drained_after_s": round(time.monotonic() - started, 1)}


def _open_jobs(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM background_jobs "
                    "WHERE state IN ('pending', 'enqueued', 'running')"
                )
            ).scalar()
    finally:
        engine.dispose()


def job_figures(database_url: str, marks: dict) -> dict:
    """Jobs asked for during the load, and during the outage, by the state they ended in."""
    engine = create_engine(database_url)
    query = text(
        "SELECT state, count(*) FROM background_jobs WHERE created_at >= :since "
        "AND created_at <= :until GROUP BY state"
    )
    try:
        with engine.connect() as connection:
            during_load = {"since": marks["started_utc"], "until": datetime.now(UTC)}
            total = dict(connection.execute(query, during_load).all())
            window = {}
            if "down_utc" in marks:
                outage = {"since": marks["down_utc"], "until": marks["up_utc"]}
                window = dict(connection.execute(query, outage).all())
    finally:
        engine.dispose()
    return {"jobs_by_state": total, "jobs_during_outage_by_state": window}
