#!/bin/sh
# The desktop image's entrypoint: checks the writable places a read-only root filesystem needs,
# gives a new home its skeleton, then execs the image's launcher (launcher.py: Xvfb, PulseAudio,
# Selkies and XFCE), configured by the SELKIES_* environment; its arguments go to the launcher
# (`--session NAME`) and Selkies. Exit 78 (EX_CONFIG) names what is missing.
# A WebRTC desktop first waits for the platform's TURN REST endpoint: Selkies reads it once at
# start, and without it would stream with no relay (exit 75, EX_TEMPFAIL, lets the kubelet retry).
set -eu
fail() {
  echo "vdi-desktop: $*" >&2
  exit 78
}
[ "$(id -u)" != 0 ] || fail "runs as root; run it as uid 1000 (the image's USER)"
export HOME="${HOME:-/home/ubuntu}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
export TMPDIR=/tmp
# The web client from the image (read-only) instead of an 11 MB copy in /tmp at every start.
export SELKIES_WEB_ROOT="${SELKIES_WEB_ROOT:-/opt/selkies/web}"
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
if [ "${SELKIES_MODE:-}" = webrtc ] && [ -n "${SELKIES_TURN_REST_URI:-}" ]; then
  /usr/bin/python3 - <<'PY' || exit $?
import os, sys, time, urllib.error, urllib.parse, urllib.request

uri = os.environ["SELKIES_TURN_REST_URI"]
query = urllib.parse.urlencode({"service": "turn", "key": os.environ.get("SELKIES_TURN_REST_API_KEY", "")})
deadline = time.monotonic() + float(os.environ.get("VDI_TURN_REST_WAIT_SECONDS", "30"))
last = ""
while True:
    try:
        with urllib.request.urlopen(f"{uri}?{query}", timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
            last = f"HTTP {r.status}"
    except urllib.error.HTTPError as e:
        if e.code in (401, 403):
            print(f"vdi-desktop: the TURN REST endpoint {uri} refused this desktop's key (HTTP {e.code}): "
                  "the session may be gone, or the operator's VDI_SESSION_KEY changed", file=sys.stderr)
            sys.exit(78)
        last = f"HTTP {e.code}"
    except OSError as e:
        last = str(e)
    if time.monotonic() > deadline:
        print(f"vdi-desktop: the TURN REST endpoint {uri} did not answer ({last}); check the operator "
              "and the desktop's NetworkPolicy egress to it", file=sys.stderr)
        sys.exit(75)
    time.sleep(0.5)
PY
fi
cd "$HOME"
# Debian's Python, isolated (-I: no PYTHON* variables, no user site); the launcher is stdlib only.
exec /usr/bin/python3 -I /usr/local/lib/vdi-desktop/launcher.py "$@"
