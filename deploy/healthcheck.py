"""Container health check: GET /healthz from this container's gunicorn; exit 0 only on a 200.

The request names the site's host (from SITE_URL), because the app answers 400 to any host not
in TRUSTED_HOSTS. Standard library only: the slim image has no curl.
"""

import os
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
    host = urlsplit(os.environ.get("SITE_URL", "")).netloc
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"healthz: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
