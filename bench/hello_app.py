"""A bare Flask hello-world: the ceiling bench/load.py compares the marketplace's pages with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The smallest page Flask can serve."""
    return "Hello, world!"
