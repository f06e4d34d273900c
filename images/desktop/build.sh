#!/usr/bin/env bash
# Builds the platform's desktop image without a container daemon: mmdebstrap installs the Debian
# packages of packages.txt into a root filesystem and runs setup.sh in it (Selkies from PyPI), and
# the result is written as an OCI image archive (an OCI image layout in a tar, one gzip layer whose
# diff_id is the digest of the uncompressed tar), importable with `ctr -n k8s.io images import`.
#
# Output: $VDI_CACHE/images/desktop-<hash>.oci.tar, image reference vdi.local/desktop:<hash>, where
# <hash> covers every input (this script, the package list, setup.sh, entrypoint.sh, launcher.py,
# versions.env):
# a changed input gives a new image, an unchanged one is not rebuilt. Downloaded .debs and pip's
# cache are kept under $VDI_CACHE/images/ so a rebuild fetches nothing it already has.
#
# Usage: build.sh              build when missing (progress on stderr), print the archive's path
#        build.sh --print-ref  the image reference, without building
#        build.sh --print-path the archive's path, without building
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${VDI_CACHE:-$HOME/.cache/vdi-platform}/images"
hash="$(cd "$here" && cat build.sh packages.txt setup.sh entrypoint.sh launcher.py versions.env | sha256sum | cut -c1-12)"
ref="vdi.local/desktop:$hash"
out="$cache/desktop-$hash.oci.tar"
log() { printf '[desktop image] %s\n' "$*" >&2; }

case "${1:-}" in
  --print-ref) echo "$ref"; exit 0 ;;
  --print-path) echo "$out"; exit 0 ;;
  "") ;;
  *) echo "usage: build.sh [--print-ref|--print-path]" >&2; exit 2 ;;
esac
if [ -f "$out" ]; then
  log "cached: $out ($ref)"
  echo "$out"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { log "building the image needs root (mmdebstrap's root mode); run as root or build it elsewhere"; exit 1; }
for tool in mmdebstrap python3 sha256sum tar gzip; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run \`npm run setup\` (tools/bootstrap installs it)"; exit 1; }
done

t0=$(date +%s)
mkdir -p "$cache/debs" "$cache/pip"
work="$(mktemp -d "$cache/build-$hash.XXXXXX")"
trap 'rm -rf "$work"' EXIT
packages="$(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' | paste -sd, -)"
mirror="${VDI_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# pip inside the root filesystem trusts what this machine trusts (e.g. a proxy's CA) for the build
# only: the bundle is removed again, the image keeps Debian's own CA certificates.
ca_bundle="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
[ -f "$ca_bundle" ] || { log "no CA bundle at $ca_bundle (set PIP_CERT)"; exit 1; }

log "root filesystem: Debian $DEBIAN_SUITE + $(echo "$packages" | tr , '\n' | wc -l) packages from $mirror, Selkies $SELKIES_VERSION from PyPI (a cold build takes 2–4 min)"
set +e
mmdebstrap --mode=root --variant=minbase --format=tar --skip=output/dev,download/empty,cleanup/reproducible \
  --aptopt='APT::Install-Recommends "false"' \
  --include="$packages" \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in '$cache/debs' /var/cache/apt/archives" \
  --customize-hook="sync-out /var/cache/apt/archives '$cache/debs'" \
  --customize-hook='mkdir -p "$1/var/cache/vdi-pip"' \
  --customize-hook="sync-in '$cache/pip' /var/cache/vdi-pip" \
  --customize-hook="upload '$here/setup.sh' /tmp/vdi-setup.sh" \
  --customize-hook="upload '$ca_bundle' /tmp/vdi-build-ca.crt" \
  --customize-hook="chroot \"\$1\" env -u PIP_FIND_LINKS -u SSL_CERT_DIR SELKIES_VERSION=$SELKIES_VERSION PIP_CACHE_DIR=/var/cache/vdi-pip PIP_CERT=/tmp/vdi-build-ca.crt SSL_CERT_FILE=/tmp/vdi-build-ca.crt REQUESTS_CA_BUNDLE=/tmp/vdi-build-ca.crt CURL_CA_BUNDLE=/tmp/vdi-build-ca.crt bash /tmp/vdi-setup.sh" \
  --customize-hook="sync-out /var/cache/vdi-pip '$cache/pip'" \
  --customize-hook='rm -rf "$1/var/cache/vdi-pip" "$1/tmp/vdi-setup.sh" "$1/tmp/vdi-build-ca.crt"' \
  --customize-hook="upload '$here/entrypoint.sh' /usr/local/bin/vdi-desktop-entrypoint" \
  --customize-hook='chmod 0755 "$1/usr/local/bin/vdi-desktop-entrypoint"' \
  --customize-hook='mkdir -p "$1/usr/local/lib/vdi-desktop"' \
  --customize-hook="upload '$here/launcher.py' /usr/local/lib/vdi-desktop/launcher.py" \
  --customize-hook='chmod 0644 "$1/usr/local/lib/vdi-desktop/launcher.py"' \
  "$DEBIAN_SUITE" "$work/layer.tar" "$mirror" 2>&1 | tee "$cache/build-$hash.log" |
  while IFS= read -r line; do
    case "$line" in
      I:*|*"Successfully installed"*|*ERROR*|*Error*|E:*) log "$line" ;;
    esac
  done
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || {
  tail -n 25 "$cache/build-$hash.log" | sed 's/^/[desktop image]   /' >&2
  log "mmdebstrap failed; every line is in $cache/build-$hash.log"
  exit 1
}
log "root filesystem ready in $(( $(date +%s) - t0 ))s ($(du -m "$work/layer.tar" | cut -f1) MiB uncompressed); compressing the layer"
# The layer blob is the gzip of the tar (-n: no name or time stamp, so equal inputs give equal
# blobs); the config's diff_id is the digest of the uncompressed tar, which containerd checks.
diff_id="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
gzip -n -c "$work/layer.tar" >"$work/layer.tar.gz"
rm -f "$work/layer.tar"
log "layer compressed in $(( $(date +%s) - t0 ))s ($(du -m "$work/layer.tar.gz" | cut -f1) MiB); writing the OCI layout"

python3 - "$work" "$ref" "$hash" "$diff_id" <<'PY'
import hashlib, json, os, shutil, sys
work, ref, tag, diff_id = sys.argv[1:5]
layout = os.path.join(work, "oci")
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs)
def digest_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
def put(data: bytes):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d, len(data)
layer = os.path.join(work, "layer.tar.gz")
layer_digest = digest_of(layer)
layer_size = os.path.getsize(layer)
shutil.move(layer, os.path.join(blobs, layer_digest))
config = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "1000:1000",
        "Entrypoint": ["/usr/local/bin/vdi-desktop-entrypoint"],
        "Env": [
            "PATH=/opt/selkies/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "HOME=/home/ubuntu",
        ],
        "WorkingDir": "/home/ubuntu",
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.title": "vdi-desktop", "org.opencontainers.image.version": tag},
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
}
cdigest, csize = put(json.dumps(config, sort_keys=True).encode())
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cdigest, "size": csize},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer_digest, "size": layer_size}],
}
mdigest, msize = put(json.dumps(manifest, sort_keys=True).encode())
index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + mdigest,
        "size": msize,
        "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag},
    }],
}
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
PY
tar -C "$work/oci" -cf "$work/image.oci.tar" .
mv "$work/image.oci.tar" "$out"
log "built $ref in $(( $(date +%s) - t0 ))s: $out ($(du -m "$out" | cut -f1) MiB)"
echo "$out"
