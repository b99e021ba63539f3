#!/usr/bin/env bash
# Installs Debian's Chromium (the browser the e2e tests drive) when it is missing.
# Playwright's own browser download does not work on these machines.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
  echo "install-chromium: /usr/bin/chromium is missing and apt-get is not usable here;" \
       "the browser tests will be skipped. Install Debian's 'chromium' package to run them." >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
