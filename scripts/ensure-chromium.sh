#!/usr/bin/env bash
# Make sure Debian's Chromium (and a Chinese font, so zh screenshots are readable) is installed
# for the browser tests. Installs with apt-get when run as root; otherwise only says what is
# missing and the browser tests skip. Never fails the build, never runs `playwright install`.
set -u

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
if command -v fc-list >/dev/null 2>&1 && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  missing+=(fonts-wqy-microhei)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${missing[*]} for the browser tests…"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; then
    exit 0
  fi
  echo "Could not install ${missing[*]}." >&2
fi

case " ${missing[*]} " in
  *" chromium "*) echo "Chromium is not installed at $CHROMIUM: the browser tests will be skipped." \
                       "Install it with: sudo apt-get install -y chromium" >&2 ;;
  *) echo "No Chinese font installed: zh screenshots will show boxes." \
          "Install one with: sudo apt-get install -y fonts-wqy-microhei" >&2 ;;
esac
exit 0
