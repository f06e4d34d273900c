#!/bin/sh
# The desktop image's entrypoint: checks the writable places a read-only root filesystem needs,
# gives a new home its skeleton, then runs Selkies' session launcher (Xvfb, PulseAudio, XFCE,
# Selkies), configured by the SELKIES_* environment. Exit 78 (EX_CONFIG) names what is missing.
set -eu
fail() {
  echo "vdi-desktop: $*" >&2
  exit 78
}
[ "$(id -u)" != 0 ] || fail "runs as root; run it as uid 1000 (the image's USER)"
export HOME="${HOME:-/home/ubuntu}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
export TMPDIR=/tmp
for dir in "$HOME" /tmp /dev/shm "$XDG_RUNTIME_DIR"; do
  if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
    fail "$dir is not a writable directory: mount a writable volume there (an emptyDir; the home a persistent one)"
  fi
done
chmod 0700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
# A home volume starts empty: give it the skeleton once, never overwrite what the user has.
if [ ! -e "$HOME/.config" ]; then
  cp -R -n /etc/skel/. "$HOME/" 2>/dev/null || true
  mkdir -p "$HOME/.config" "$HOME/.cache"
fi
cd "$HOME"
exec /opt/selkies/bin/selkies-session "$@"
