#!/usr/bin/env bash
# Creates the kind cluster of cluster.yaml and installs the platform with the dev overlay, for
# people with Docker, kind, kubectl and helm. Not run in this repository's CI (no Docker there).
#   deploy/kind/up.sh            # create (or reuse) the cluster, build + load images, apply
#   deploy/kind/up.sh --no-build # use images already loaded
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
name=vdi
tag=dev

for bin in docker kind kubectl helm; do
  command -v "$bin" >/dev/null || { echo "missing: $bin" >&2; exit 1; }
done

if ! kind get clusters | grep -qx "$name"; then
  kind create cluster --config "$here/cluster.yaml"
fi
kubectl config use-context "kind-$name"
# The platform runs on the control-plane node (the worker is "the GPU node"), so it must
# accept ordinary pods.
kubectl taint nodes "$name-control-plane" node-role.kubernetes.io/control-plane:NoSchedule- 2>/dev/null || true

# Traefik v3 as K3s ships it (kube-system, label app.kubernetes.io/name=traefik), http on a NodePort.
helm repo add traefik https://traefik.github.io/charts >/dev/null
helm upgrade --install traefik traefik/traefik --namespace kube-system --wait \
  --set ports.web.nodePort=30080 --set service.type=NodePort \
  --set nodeSelector."kubernetes\.io/hostname"="$name-control-plane"

if [ "${1:-}" != "--no-build" ]; then
  for app in operator api web; do
    docker build -f "$root/apps/$app/Dockerfile" -t "ghcr.io/vdi-platform/vdi-$app:$tag" "$root"
    kind load docker-image --name "$name" "ghcr.io/vdi-platform/vdi-$app:$tag"
  done
fi

# TURN: coturn runs with host networking on the control-plane node; use that node's address.
node_ip="$(kubectl get node "$name-control-plane" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')"
# Namespaces and CRDs first, so the objects that need them are accepted.
kubectl apply --server-side -k "$root/deploy/kustomize/base/crds"
kubectl apply --server-side -f "$root/deploy/kustomize/base/platform/namespaces.yaml"
kubectl create namespace vdi-turn --dry-run=client -o yaml | kubectl apply --server-side -f -
# coturn's shared secret: random, created once (the kind overlay does not carry it).
kubectl -n vdi-turn get secret vdi-turn >/dev/null 2>&1 ||
  kubectl -n vdi-turn create secret generic vdi-turn --from-literal=static-auth-secret="$(openssl rand -hex 32)"
# The session key (desktop passwords), shared by the operator and the API: random, created once.
kubectl -n vdi-system get secret vdi-session-key >/dev/null 2>&1 ||
  kubectl -n vdi-system create secret generic vdi-session-key --from-literal=session-key="$(openssl rand -hex 32)"
kubectl wait --for condition=Established crd/vditemplates.vdi.kasm.io crd/vdisessions.vdi.kasm.io
kubectl apply --server-side -k "$here"
kubectl -n vdi-system patch configmap vdi-config --type merge \
  -p "{\"data\":{\"VDI_TURN_HOST\":\"$node_ip\",\"VDI_TURN_RELAY_CIDRS\":\"$node_ip/32\"}}"
kubectl -n vdi-system rollout restart deployment/vdi-operator deployment/vdi-api
for d in vdi-operator vdi-api vdi-web; do
  kubectl -n vdi-system rollout status "deployment/$d" --timeout=300s
done
echo "portal: http://vdi.localhost/  (set VDI_OIDC_ISSUER in deploy/kustomize/overlays/dev/config.yaml to your Keycloak)"
