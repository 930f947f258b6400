#!/usr/bin/env bash
# Installs the Debian packages the publisher needs, when it can, and says what is missing when
# it cannot. Usage: scripts/system-deps.sh run|test
#   run  needs: fonts-noto-cjk (slides are set in Noto Sans CJK JP)
#   test needs: fonts-noto-cjk, chromium (browser tests drive Debian's Chromium)
set -u
need=(fonts-noto-cjk)
[ "${1:-run}" = test ] && need+=(chromium)

have() {
  case "$1" in
    fonts-noto-cjk) ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 ;;
    chromium) command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for p in "${need[@]}"; do have "$p" || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/publisher-apt.log 2>&1; then
    exit 0
  fi
  echo "apt-get install ${missing[*]} failed; see /tmp/publisher-apt.log" >&2
fi

echo "Missing system packages: ${missing[*]}" >&2
echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
exit 1
