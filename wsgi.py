"""The WSGI entry point (`gunicorn -c gunicorn.conf.py wsgi:app`, what `make serve` runs) and
the workers' Celery app."""

from marketplace import create_app

app = create_app()
celery_app = app.extensions["celery"]
