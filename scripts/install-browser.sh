#!/usr/bin/env bash
# Installs Debian's chromium, its language packs (a zh-CN browser: date pickers read 年/月/日)
# and CJK fonts for the console browser tests.
# Under CI=true they are required; elsewhere a missing browser only skips those tests.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
  && [ -f /usr/lib/chromium/locales/zh-CN.pak ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium, chromium-l10n and fonts-noto-cjk (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n fonts-noto-cjk >/dev/null
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true needs chromium, chromium-l10n and fonts-noto-cjk; run as root or install them" >&2
  exit 1
else
  echo "chromium not installed and not root: console browser tests will be skipped" >&2
fi
