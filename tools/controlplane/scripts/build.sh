#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them by version:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet (k8s.io/kubernetes), etcd + etcdctl
#   (go.etcd.io/etcd), kwok (sigs.k8s.io/kwok) and kwok's stage definitions, traefik
#   (github.com/traefik/traefik/v3, the access path's reverse proxy) and Traefik's CRDs, and
#   containerd + containerd-shim-runc-v2 + ctr (github.com/containerd/containerd/v2, the real node's
#   container runtime; runc and the CNI plugins come from Debian packages, see tools/bootstrap), and
#   crictl (sigs.k8s.io/cri-tools: the node's teardown stops and removes pod sandboxes through CRI).
# Output: $VDI_CACHE/controlplane/<component>-<version>-<gosum-hash>/ ; a component is rebuilt only
# when its version (or its committed go.sum) changes. Prints package-count progress and timings.
#
# Usage: build.sh [kubernetes|etcd|kwok|traefik|traefik-crds|containerd|cri-tools]...   (default: all). Progress goes to stderr;
#        build.sh --print-dir COMPONENT prints where a component's output lives.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$here/versions.env"
cache="${VDI_CACHE:-$HOME/.cache/vdi-platform}/controlplane"
mkdir -p "$cache"
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

log() { printf '[controlplane build] %s\n' "$*" >&2; }

# Where a component's binaries live (also used by the TypeScript side through `build.sh --print-dir`).
component_dir() {
  local name="$1" version="$2" sum
  sum="$(sha256sum "$here/go/$name/go.sum" | cut -c1-12)"
  echo "$cache/$name-$version-$sum"
}

# go build -v prints each package as it is compiled; count them against the dependency total.
build_with_progress() {
  local label="$1" moddir="$2" outdir="$3" ldflags="$4"; shift 4
  local total start
  log "$label: resolving packages (the first run downloads modules from the proxy) ..."
  total="$(cd "$moddir" && go list -deps "$@" | wc -l)"
  start=$(date +%s)
  log "$label: compiling up to $total packages (cached packages are skipped) ..."
  (cd "$moddir" && go build -v -trimpath -pgo=off -ldflags "$ldflags" -o "$outdir/" "$@" 2>&1) |
    awk -v label="$label" -v total="$total" -v start="$start" '
      /^(go: |#|.*\.go:[0-9]+)/ { print > "/dev/stderr"; next }
      { n++; if (n % 100 == 0) { printf("[controlplane build] %s: %d/%d packages, %ds\n", label, n, total, systime()-start) > "/dev/stderr" } }'
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { log "$label: go build failed (exit $rc)"; return "$rc"; }
  log "$label: done in $(( $(date +%s) - start ))s"
}

build_kubernetes() {
  local dir; dir="$(component_dir kubernetes "$KUBERNETES_VERSION")"
  [ -f "$dir/.complete" ] && [ -x "$dir/kubelet" ] && { log "kubernetes $KUBERNETES_VERSION: cached at $dir"; return; }
  local v="$KUBERNETES_VERSION" minor major date
  major="$(echo "${v#v}" | cut -d. -f1)"; minor="$(echo "${v#v}" | cut -d. -f2)"
  date="$(cd "$here/go/kubernetes" && go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"Info": "\(.*\)".*/\1/p' | xargs sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')"
  local ld="-s -w"
  # The same variables hack/lib/version.sh sets, so `kube-apiserver --version` and /version are real.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  mkdir -p "$dir.tmp"
  build_with_progress "kubernetes $v" "$here/go/kubernetes" "$dir.tmp" "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubelet
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_etcd() {
  local dir; dir="$(component_dir etcd "$ETCD_VERSION")"
  [ -f "$dir/.complete" ] && { log "etcd $ETCD_VERSION: cached at $dir"; return; }
  mkdir -p "$dir.tmp"
  # etcd's version string is a constant of go.etcd.io/etcd/api/v3/version, so it is already real.
  build_with_progress "etcd $ETCD_VERSION" "$here/go/etcd" "$dir.tmp" "-s -w" \
    go.etcd.io/etcd/server/v3

  [ -x "$dir.tmp/etcd" ] || { mv "$dir.tmp/server" "$dir.tmp/etcd" 2>/dev/null || true; }
  [ -x "$dir.tmp/etcd" ] || { log "etcd binary not produced"; ls -la "$dir.tmp" >&2; return 1; }
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_kwok() {
  local dir; dir="$(component_dir kwok "$KWOK_VERSION")"
  [ -f "$dir/.complete" ] && { log "kwok $KWOK_VERSION: cached at $dir"; return; }
  mkdir -p "$dir.tmp"
  local ld="-s -w"  # kwok's version is a constant of its module
  build_with_progress "kwok $KWOK_VERSION" "$here/go/kwok" "$dir.tmp" "$ld" sigs.k8s.io/kwok/cmd/kwok
  # Stage definitions (pod/node lifecycles) come from kwok's own module, never retyped.
  local src; src="$(cd "$here/go/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  mkdir -p "$dir.tmp/stages"
  cp -r "$src/kustomize/stage/." "$dir.tmp/stages/"
  chmod -R u+w "$dir.tmp/stages"
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_traefik() {
  local dir; dir="$(component_dir traefik "$TRAEFIK_VERSION")"
  [ -f "$dir/.complete" ] && { log "traefik $TRAEFIK_VERSION: cached at $dir"; return; }
  local v="$TRAEFIK_VERSION" src date codename
  src="$(cd "$here/go/traefik" && go list -m -f '{{.Dir}}' github.com/traefik/traefik/v3)"
  date="$(cd "$here/go/traefik" && go list -m -f '{{.Time}}' github.com/traefik/traefik/v3 | cut -d' ' -f1-2 | tr ' ' '_')"
  # The release workflow names the line's codename (v3.6: "ramequin"); read it rather than retype it.
  codename="$(sed -n 's/^ *CODENAME: *\([a-z]*\).*/\1/p' "$src/.github/workflows/release.yaml" | head -1)"
  # The variables Traefik's Makefile and goreleaser set, so `traefik version` and /api/version are real.
  local ld="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$v"
  ld+=" -X github.com/traefik/traefik/v3/pkg/version.Codename=${codename:-cheddar}"
  ld+=" -X github.com/traefik/traefik/v3/pkg/version.BuildDate=$date"
  mkdir -p "$dir.tmp"
  build_with_progress "traefik $v" "$here/go/traefik" "$dir.tmp" "$ld" github.com/traefik/traefik/v3/cmd/traefik
  [ -x "$dir.tmp/traefik" ] || { log "traefik binary not produced"; ls -la "$dir.tmp" >&2; return 1; }
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

# containerd for the real node (tools/node). Static build: the btrfs/devmapper/zfs snapshotters need cgo
# and are not used (the node runs the overlayfs snapshotter).
build_containerd() {
  local dir; dir="$(component_dir containerd "$CONTAINERD_VERSION")"
  [ -f "$dir/.complete" ] && { log "containerd $CONTAINERD_VERSION: cached at $dir"; return; }
  local v="$CONTAINERD_VERSION"
  local ld="-s -w -X github.com/containerd/containerd/v2/version.Version=$v"
  ld+=" -X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2"
  mkdir -p "$dir.tmp"
  build_with_progress "containerd $v" "$here/go/containerd" "$dir.tmp" "$ld" -tags "no_btrfs no_devmapper no_zfs" \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
    github.com/containerd/containerd/v2/cmd/ctr
  for b in containerd containerd-shim-runc-v2 ctr; do
    [ -x "$dir.tmp/$b" ] || { log "containerd: $b not produced"; ls -la "$dir.tmp" >&2; return 1; }
  done
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_cri_tools() {
  local dir; dir="$(component_dir cri-tools "$CRI_TOOLS_VERSION")"
  [ -f "$dir/.complete" ] && { log "cri-tools $CRI_TOOLS_VERSION: cached at $dir"; return; }
  local ld="-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION"
  mkdir -p "$dir.tmp"
  build_with_progress "cri-tools $CRI_TOOLS_VERSION" "$here/go/cri-tools" "$dir.tmp" "$ld" sigs.k8s.io/cri-tools/cmd/crictl
  [ -x "$dir.tmp/crictl" ] || { log "crictl not produced"; ls -la "$dir.tmp" >&2; return 1; }
  touch "$dir.tmp/.complete"; rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

# Traefik's CRDs, taken from its own module (docs/content/reference/dynamic-configuration).
build_traefik_crds() {
  local dir="$cache/traefik-crds-$TRAEFIK_VERSION"
  [ -f "$dir/.complete" ] && { log "traefik CRDs $TRAEFIK_VERSION: cached at $dir"; return; }
  local src
  src="$(GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  [ -n "$src" ] || { log "could not download github.com/traefik/traefik/v3@$TRAEFIK_VERSION from the Go module proxy"; return 1; }
  mkdir -p "$dir"
  cp "$src/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$dir/crds.yaml"
  chmod u+w "$dir/crds.yaml"
  touch "$dir/.complete"
  log "traefik CRDs $TRAEFIK_VERSION: copied from the module"
}

if [ "${1:-}" = "--print-dir" ]; then
  case "$2" in
    kubernetes) component_dir kubernetes "$KUBERNETES_VERSION" ;;
    etcd) component_dir etcd "$ETCD_VERSION" ;;
    kwok) component_dir kwok "$KWOK_VERSION" ;;
    traefik) component_dir traefik "$TRAEFIK_VERSION" ;;
    traefik-crds) echo "$cache/traefik-crds-$TRAEFIK_VERSION" ;;
    containerd) component_dir containerd "$CONTAINERD_VERSION" ;;
    cri-tools) component_dir cri-tools "$CRI_TOOLS_VERSION" ;;
  esac
  exit 0
fi

command -v go >/dev/null || { log "Go is not installed; install Go >= 1.26 (the Go module proxy must be reachable)"; exit 1; }
overall=$(date +%s)
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(traefik-crds etcd kwok kubernetes traefik containerd cri-tools)
for t in "${targets[@]}"; do
  case "$t" in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    traefik) build_traefik ;;
    traefik-crds) build_traefik_crds ;;
    containerd) build_containerd ;;
    cri-tools) build_cri_tools ;;
    *) log "unknown component '$t' (kubernetes|etcd|kwok|traefik|traefik-crds|containerd|cri-tools)"; exit 2 ;;
  esac
done
log "all done in $(( $(date +%s) - overall ))s"
