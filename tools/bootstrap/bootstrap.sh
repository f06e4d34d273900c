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
# (Keycloak is fetched from Maven Central and runs on Java 17+), runc, the CNI plugins, iptables and
# ipset (the real node of tools/node: containerd runs containers with runc, pods get a CNI bridge,
# kube-router's NetworkPolicy controller enforces policies with iptables and ipsets),
# mmdebstrap (the desktop image's daemonless build) and bubblewrap (running that image as a plain
# sandboxed process: its own test and the benchmark's baseline).
APT_PACKAGES=(openssl iproute2 coturn chromium fonts-dejavu-core maven openjdk-17-jre-headless runc containernetworking-plugins iptables ipset mmdebstrap bubblewrap)

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

# The Node.js the platform is built and tested on: the current LTS line (the images use the same
# major). On a machine with an older Node it comes from the npm registry (node-linux-<arch>, the
# official binary) into ~/.cache, and every command below runs on it; npm ci still uses the
# machine's own npm.
NODE_LTS_VERSION=24.22.3
ensure_node_runtime() {
  local major arch dir tmp
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge "${NODE_LTS_VERSION%%.*}" ] && return
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) log "no Node.js $NODE_LTS_VERSION binary for $(uname -m); staying on $(node --version)"; return ;; esac
  dir="${VDI_CACHE:-$HOME/.cache/vdi-platform}/runtime/node-v$NODE_LTS_VERSION-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    log "fetching Node.js $NODE_LTS_VERSION (LTS) from the npm registry (node-linux-$arch); the machine has $(node --version)"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack "node-linux-$arch@$NODE_LTS_VERSION" --silent >/dev/null && tar xzf ./*.tgz)
    mkdir -p "$(dirname "$dir")"; rm -rf "$dir"; mv "$tmp/package" "$dir"; rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  log "running on Node.js $(node --version) from $dir"
}

ensure_go_builds() {
  command -v go >/dev/null || { log "Go >= 1.26 is required to build the local control plane (https://go.dev/dl)"; exit 1; }
  bash tools/controlplane/scripts/build.sh
  # The real node's NetworkPolicy enforcement (kube-router's controller, tools/node/go/netpol).
  bash tools/node/scripts/build-netpol.sh
}

node_version_ok() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    { log "Node.js >= 20.19 is required (found $(node --version))"; exit 1; }
}

cmd="${1:-deps}"; shift || true
node_version_ok
ensure_apt
ensure_node_modules
ensure_node_runtime
# A platform pointed at an existing cluster needs no local control plane.
if [ "$cmd" != "start" ] || [ -z "${KUBECONFIG:-}" ]; then ensure_go_builds; fi
log "prerequisites ready in $(( $(date +%s) - t0 ))s"

case "$cmd" in
  deps) ;;
  test) exec node --conditions=@vdi/source --import tsx tools/testing/src/run-all.ts "$@" ;;
  start) exec node --conditions=@vdi/source --import tsx tools/platform/src/start.ts "$@" ;;
  *) log "unknown command '$cmd' (test|start|deps)"; exit 2 ;;
esac
