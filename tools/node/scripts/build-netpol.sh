#!/usr/bin/env bash
# Builds the real node's NetworkPolicy enforcement, vdi-node-netpol (tools/node/go/netpol: kube-router's
# network-policy controller, github.com/cloudnativelabs/kube-router/v2, from the Go module proxy), and
# caches it by its inputs: $VDI_CACHE/node/netpol-<kube-router version>-<hash of go.mod, go.sum, *.go>/.
# Only the controller's packages are compiled (no BGP routing, service proxy or cloud SDKs): about
# 700 packages. Prints package-count progress and the time taken to stderr.
#
# Usage: build-netpol.sh              build when missing
#        build-netpol.sh --print-dir  where the binary lives (built or not)
#        build-netpol.sh --gen        regenerate go.mod's requirements and go.sum after changing
#                                     KUBE_ROUTER_VERSION below (needs the Go module proxy)
set -euo pipefail
KUBE_ROUTER_VERSION=v2.1.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="$here/go/netpol"
cache="${VDI_CACHE:-$HOME/.cache/vdi-platform}/node"
log() { printf '[node build] %s\n' "$*" >&2; }

out_dir() {
  local sum
  sum="$(cat "$mod/go.mod" "$mod/go.sum" "$mod"/*.go | sha256sum | cut -c1-12)"
  echo "$cache/netpol-$KUBE_ROUTER_VERSION-$sum"
}

case "${1:-}" in
  --print-dir) out_dir; exit 0 ;;
  --gen)
    (cd "$mod" && GOFLAGS=-mod=mod go get "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION" && GOFLAGS=-mod=mod go mod tidy)
    log "go.mod and go.sum regenerated for kube-router $KUBE_ROUTER_VERSION"
    exit 0 ;;
  "") ;;
  *) log "unknown argument '$1' (--print-dir | --gen)"; exit 2 ;;
esac

dir="$(out_dir)"
[ -x "$dir/vdi-node-netpol" ] && { log "vdi-node-netpol (kube-router $KUBE_ROUTER_VERSION): cached at $dir"; exit 0; }
command -v go >/dev/null || { log "Go is not installed; install Go >= 1.26 (the Go module proxy must be reachable)"; exit 1; }
export GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
start=$(date +%s)
log "vdi-node-netpol (kube-router $KUBE_ROUTER_VERSION network-policy controller): resolving packages (the first run downloads modules from the proxy) ..."
total="$(cd "$mod" && go list -deps . | wc -l)"
log "vdi-node-netpol: compiling up to $total packages (cached packages are skipped) ..."
mkdir -p "$dir.tmp"
ld="-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION"
set +e
(cd "$mod" && go build -v -trimpath -pgo=off -ldflags "$ld" -o "$dir.tmp/vdi-node-netpol" . 2>&1) |
  awk -v total="$total" -v start="$start" '
    /^(go: |#|.*\.go:[0-9]+)/ { print > "/dev/stderr"; next }
    { n++; if (n % 100 == 0) { printf("[node build] vdi-node-netpol: %d/%d packages, %ds\n", n, total, systime()-start) > "/dev/stderr" } }'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { log "vdi-node-netpol: go build failed (exit $rc)"; rm -rf "$dir.tmp"; exit "$rc"; }
rm -rf "$dir"; mv "$dir.tmp" "$dir"
log "vdi-node-netpol: built in $(( $(date +%s) - start ))s at $dir"
