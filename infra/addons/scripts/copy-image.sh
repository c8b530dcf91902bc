#!/usr/bin/env bash
# Copy image: stream the scheduler image tarball, built on the machine running Pulumi, to one node over
# SSH. It runs there (pulumi_command.local), and only when the image tag or the node changes, so a later
# `pulumi up` from a fresh checkout with an unchanged image never needs the tarball.
#
# environment: KUBEVPS_HOST KUBEVPS_USER KUBEVPS_TARBALL KUBEVPS_REMOTE_PATH
#   KUBEVPS_HOST         the node's public address
#   KUBEVPS_USER         the SSH user
#   KUBEVPS_TARBALL      the docker-archive tarball, relative to the project
#   KUBEVPS_REMOTE_PATH  where to write it on the node (import-image.sh imports and removes it)
# stdin: the SSH private key (SECRET), kept in a 0600 file in a private temp dir removed on exit.
set -euo pipefail

: "${KUBEVPS_HOST:?}" "${KUBEVPS_USER:?}" "${KUBEVPS_TARBALL:?}" "${KUBEVPS_REMOTE_PATH:?}"

log() { printf 'kubevps: %s\n' "$*" >&2; }
die() { printf 'kubevps: error: %s\n' "$*" >&2; exit 1; }

command -v ssh >/dev/null || die "ssh is not installed on the machine running Pulumi"
[[ -f $KUBEVPS_TARBALL ]] ||
  die "$KUBEVPS_TARBALL is missing; it is written by the image build of this 'pulumi up': rebuild it with 'pulumi up --target-replace <URN of the scheduler image build>'"
[[ $KUBEVPS_REMOTE_PATH =~ ^/[A-Za-z0-9._/-]+$ ]] || die "REMOTE_PATH is '$KUBEVPS_REMOTE_PATH'; expected a plain absolute path"

umask 077
keydir=$(mktemp -d -t kubevps-copy-image.XXXXXX)
trap 'rm -rf -- "$keydir"' EXIT
cat >"$keydir/key"

log "copying $KUBEVPS_TARBALL to $KUBEVPS_HOST:$KUBEVPS_REMOTE_PATH"
# Host keys are not pinned, as with every other KubeVPS SSH connection (pulumi-command's default).
ssh -i "$keydir/key" -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=20 \
  -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile="$keydir/known_hosts" \
  "$KUBEVPS_USER@$KUBEVPS_HOST" "cat > $KUBEVPS_REMOTE_PATH" <"$KUBEVPS_TARBALL"
