"""The WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (what `make serve` runs)."""

from marketplace import create_app

app = create_app()
