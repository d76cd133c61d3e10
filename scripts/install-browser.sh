#!/usr/bin/env bash
# Installs Debian's chromium, its language packs (a zh-CN browser: date pickers read 年/月/日)
# and CJK fonts for the console browser tests; pango, which WeasyPrint renders the weekly store
# report's PDF with (the fonts give it its Chinese glyphs); and poppler-utils (pdftotext,
# pdffonts), which the report's tests read the PDF with.
# Under CI=true they are required; elsewhere a missing package only skips the tests needing it.
set -euo pipefail
PACKAGES="chromium chromium-l10n fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils"
# (grep reads all of its input: with -q, pipefail would count the writer's broken pipe)
if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null \
  && [ -f /usr/lib/chromium/locales/zh-CN.pak ] && command -v pdftotext >/dev/null 2>&1 \
  && ldconfig -p | grep libpangoft2-1.0.so.0 >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing $PACKAGES (Debian packages)"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PACKAGES >/dev/null
elif [ "${CI:-}" = "true" ]; then
  echo "CI=true needs $PACKAGES; run as root or install them" >&2
  exit 1
else
  echo "$PACKAGES not all installed and not root: browser and PDF tests will be skipped" >&2
fi
