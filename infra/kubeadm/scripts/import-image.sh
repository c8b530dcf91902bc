#!/usr/bin/env bash
# Import image: load a container image tarball, copied to this host by Pulumi, into containerd's k8s.io
# namespace, where the kubelet finds it without any registry (the Deployment uses imagePullPolicy
# IfNotPresent and a content-hash tag). The image is pinned, so the kubelet's image garbage collection
# never removes it while no pod on this node runs it (a later pod could not pull it back); older tags of
# the same repository are unpinned, so they can be collected once unused. The tarball is removed.
# Idempotent: an image already present under IMAGE_REF is not imported again.
#
# kubevps-params: IMAGE_TAR IMAGE_REF
#   IMAGE_TAR  absolute path of the docker-archive tarball on this host
#   IMAGE_REF  the reference the tarball carries, repository:tag (the Deployment's image)
set -euo pipefail

: "${KUBEVPS_IMAGE_TAR:?}" "${KUBEVPS_IMAGE_REF:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

readonly PINNED_LABEL=io.cri-containerd.pinned
readonly REPOSITORY=${KUBEVPS_IMAGE_REF%:*}

[[ $EUID -eq 0 ]] || die "import-image must run as root (containerd's socket belongs to root)"
[[ $KUBEVPS_IMAGE_TAR == /* ]] || die "IMAGE_TAR is '$KUBEVPS_IMAGE_TAR'; expected an absolute path"
[[ $KUBEVPS_IMAGE_REF == */*:* && $REPOSITORY != "$KUBEVPS_IMAGE_REF" ]] ||
  die "IMAGE_REF is '$KUBEVPS_IMAGE_REF'; expected registry/repository:tag"
command -v ctr >/dev/null || die "ctr is not installed; containerd comes with the prepare step, which has not run here"

ctr() { command ctr --namespace k8s.io "$@"; }
present() { [[ -n $(ctr images list --quiet "name==$KUBEVPS_IMAGE_REF") ]]; }

if present; then
  log "image $KUBEVPS_IMAGE_REF is already in containerd"
else
  [[ -f $KUBEVPS_IMAGE_TAR && ! -L $KUBEVPS_IMAGE_TAR ]] ||
    die "$KUBEVPS_IMAGE_TAR is missing (or not a regular file); re-run 'pulumi up' to copy the image again"
  log "importing $KUBEVPS_IMAGE_REF from $KUBEVPS_IMAGE_TAR"
  ctr images import "$KUBEVPS_IMAGE_TAR" >&2 ||
    die "ctr could not import $KUBEVPS_IMAGE_TAR (error above); was it built for this host's platform?"
  present || die "the tarball did not contain $KUBEVPS_IMAGE_REF; the image and its tag are out of step"
fi
rm -f -- "$KUBEVPS_IMAGE_TAR"

ctr images label "$KUBEVPS_IMAGE_REF" "$PINNED_LABEL=pinned" >/dev/null
while IFS= read -r older; do
  if [[ $older == "$REPOSITORY":* && $older != "$KUBEVPS_IMAGE_REF" ]]; then
    ctr images label "$older" "$PINNED_LABEL=" >/dev/null
    log "unpinned $older (the kubelet may collect it once no pod uses it)"
  fi
done < <(ctr images list --quiet)
log "image $KUBEVPS_IMAGE_REF is ready on this node"
