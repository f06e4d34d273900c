#!/usr/bin/env bash
# Installs what the platform and its tests need on a fresh machine, then runs the given command.
# It is what `npm start` and `npm test` call first, so those two commands work on a fresh clone:
#   - Debian packages (openssl, iproute2, coturn, chromium, a JDK for Keycloak) when missing;
#   - node_modules via `npm ci` when package-lock.json changed since the last install;
#   - the control plane's Go builds (cached by version under ~/.cache/vdi-platform).
# Each step is skipped when already done, so a warm run costs a second or two.
#
# Usage: bootstrap.sh <test|start|deps> [args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
t0=$(date +%s)

# Debian packages the tiers use: openssl (cluster PKI), iproute2 (network namespace for the
# desktop stand-ins), coturn (real TURN server), chromium (browser tests), maven and a JRE
# (Keycloak is fetched from Maven Central and runs on Java 17+).
APT_PACKAGES=(openssl iproute2 coturn chromium fonts-dejavu-core maven openjdk-17-jre-headless)

ensure_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "missing Debian packages: ${missing[*]} — install them as root (apt-get install ${missing[*]})"; exit 1; }
    sudo="sudo"
  fi
  log "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts coturn as a system service on install; the platform runs its own instances.
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now coturn >/dev/null 2>&1 || true; fi
}

ensure_node_modules() {
  local want have=""
  want="$(sha256sum package-lock.json | cut -c1-16)"
  [ -f node_modules/.vdi-lock-hash ] && have="$(cat node_modules/.vdi-lock-hash)"
  if [ "$want" != "$have" ] || [ ! -x node_modules/.bin/tsx ]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > node_modules/.vdi-lock-hash
  fi
}

ensure_go_builds() {
  command -v go >/dev/null || { log "Go >= 1.26 is required to build the local control plane (https://go.dev/dl)"; exit 1; }
  bash tools/controlplane/scripts/build.sh
}

node_version_ok() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    { log "Node.js >= 20.19 is required (found $(node --version))"; exit 1; }
}

cmd="${1:-deps}"; shift || true
node_version_ok
ensure_apt
ensure_node_modules
# A platform pointed at an existing cluster needs no local control plane.
if [ "$cmd" != "start" ] || [ -z "${KUBECONFIG:-}" ]; then ensure_go_builds; fi
log "prerequisites ready in $(( $(date +%s) - t0 ))s"

case "$cmd" in
  deps) ;;
  test) exec node --conditions=@vdi/source --import tsx tools/testing/src/run-all.ts "$@" ;;
  start) exec node --conditions=@vdi/source --import tsx tools/platform/src/start.ts "$@" ;;
  *) log "unknown command '$cmd' (test|start|deps)"; exit 2 ;;
esac
