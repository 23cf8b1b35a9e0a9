"""The WSGI entry point: `gunicorn -w 4 wsgi:app`."""

from marketplace import create_app

app = create_app()
