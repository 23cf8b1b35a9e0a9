"""Structured (JSON-lines) logging to stderr."""

import json
import logging
import sys
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request's method, path and user when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry.update(method=request.method, path=request.path, ip=request.remote_addr)
            if getattr(g, "user_id", None):
                entry["user_id"] = g.user_id
        for key, value in getattr(record, "extra_fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    """Send the app's and the server's logs through the JSON formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    app.logger.propagate = False
