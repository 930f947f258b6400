#!/usr/bin/env bash
# Installs the Debian packages the publisher needs, when it can, and says what is missing when
# it cannot. Usage: scripts/system-deps.sh run|test
#   run  needs: fonts-noto-cjk (slides are set in Noto Sans CJK JP), fonts-noto-core and
#        fonts-symbola (symbols and emoji the CJK font lacks: ♿ ✉ ✔ ⛔ ≒ 😀)
#        and libpango-1.0-0, libpangoft2-1.0-0 (WeasyPrint lays out posters and bulletins)
#        and the speech packages (emergency announcements on screens with a speaker):
#        open-jtalk, open-jtalk-mecab-naist-jdic, an HTS voice, espeak-ng
#   test needs: the same, chromium (browser tests drive Debian's Chromium) and poppler-utils
#        (pdftotext, pdftoppm, pdfinfo: the tests read the PDFs as a person would)
# Without the speech packages the publisher still runs: emergencies show on every screen but
# are not spoken (the log says why). The HTS voice (hts-voice-nitech-jp-atr503-m001) is in
# Debian's non-free section; where that is missing, scripts/fetch-voice.py installs the Mei voice
# from a pinned package on PyPI. Any .htsvoice under /usr/share/hts-voice/ or
# PUBLISHER_JTALK_VOICE will do instead.
set -u
need=(fonts-noto-cjk fonts-noto-core fonts-symbola libpango-1.0-0 libpangoft2-1.0-0)
speech=(open-jtalk open-jtalk-mecab-naist-jdic espeak-ng)
[ "${1:-run}" = test ] && need+=(chromium poppler-utils)

have() {
  case "$1" in
    fonts-noto-cjk) ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 ;;
    fonts-noto-core) [ -e /usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf ] ;;
    fonts-symbola) [ -e /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] ;;
    chromium) command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] ;;
    poppler-utils) command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 ;;
    open-jtalk) command -v open_jtalk >/dev/null 2>&1 ;;
    open-jtalk-mecab-naist-jdic) [ -e /var/lib/mecab/dic/open-jtalk/naist-jdic/sys.dic ] ;;
    espeak-ng) command -v espeak-ng >/dev/null 2>&1 ;;
    hts-voice)
      [ -n "${PUBLISHER_JTALK_VOICE:-}" ] && [ -f "${PUBLISHER_JTALK_VOICE}" ] && return 0
      for f in /usr/share/hts-voice/*/*.htsvoice /usr/share/hts-voice/*.htsvoice; do
        [ -f "$f" ] && head -c 8 "$f" | grep -q '^\[GLOBAL\]' && return 0
      done
      return 1 ;;
    *) dpkg -s "$1" >/dev/null 2>&1 ;;
  esac
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
fi
can_install() { command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; }
updated=""
install() {  # install() PACKAGE...: 0 when apt-get installed them all
  can_install || return 1
  if [ -z "$updated" ]; then $sudo apt-get update -qq >/dev/null 2>&1 || true; updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
    >>/tmp/publisher-apt.log 2>&1
}

missing=()
for p in "${need[@]}"; do have "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  if ! install "${missing[@]}"; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Speech: wanted, not required. Say exactly what is missing and what that means.
quiet=()
for p in "${speech[@]}"; do have "$p" || quiet+=("$p"); done
[ ${#quiet[@]} -gt 0 ] && { echo "Installing speech packages: ${quiet[*]}"; install "${quiet[@]}"; }
have hts-voice || install hts-voice-nitech-jp-atr503-m001
if ! have hts-voice && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
  # Not in every Debian mirror: the same kind of voice from a pinned package on PyPI.
  $sudo python3 "$(dirname "$0")/fetch-voice.py" /usr/share/hts-voice/mei || true
fi
still=()
for p in "${speech[@]}" hts-voice; do have "$p" || still+=("$p"); done
if [ ${#still[@]} -gt 0 ]; then
  echo "WARNING: emergency announcements will not be spoken in every language; missing: ${still[*]}" >&2
  echo "  Install:  sudo apt-get install open-jtalk open-jtalk-mecab-naist-jdic espeak-ng" >&2
  echo "  Japanese voice: sudo apt-get install hts-voice-nitech-jp-atr503-m001 (Debian non-free)," >&2
  echo "  or: sudo python3 scripts/fetch-voice.py /usr/share/hts-voice/mei (from PyPI)," >&2
  echo "  or put a .htsvoice file under /usr/share/hts-voice/ or in PUBLISHER_JTALK_VOICE." >&2
fi
exit 0
