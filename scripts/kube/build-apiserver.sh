#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager (upstream v1.20.2, from Debian bookworm's source
# package, which carries vendor/) into a cache outside the repository, keyed by version. The test
# helper (test/helpers/envtest.ts) starts them with Debian's etcd. Nothing built lands in the repo.
#
# Idempotent: a second run only checks the cache (and that etcd, openssl and kubectl are installed) and exits.
# Prints the time and peak memory of each step. Needs root or sudo (apt-get).
# Environment:
#   TRICENTER_KUBE_CACHE  cache root (default $HOME/.cache/tricenter/kube)
#   TRICENTER_KUBE_WORK   scratch dir for the source tree and Go caches (default /var/tmp/tricenter-kube-build);
#                         removed after a successful build (about 2.6 GB)
#   TRICENTER_KUBE_KEEP_WORK=1  keep the scratch dir (debugging)
#   TRICENTER_KUBE_FORCE=1      rebuild even when the cache is complete
set -euo pipefail

# The one place the version is set; test/helpers/envtest.ts reads it too.
KUBE_VERSION="$(tr -d '[:space:]' <"$(dirname "${BASH_SOURCE[0]}")/VERSION")"
readonly KUBE_VERSION
readonly CACHE_ROOT="${TRICENTER_KUBE_CACHE:-$HOME/.cache/tricenter/kube}"
readonly BIN_DIR="$CACHE_ROOT/$KUBE_VERSION/bin"
readonly WORK_DIR="${TRICENTER_KUBE_WORK:-/var/tmp/tricenter-kube-build}"
readonly BINARIES=(kube-apiserver kube-controller-manager)
readonly DEB_SRC_LIST="/etc/apt/sources.list.d/tricenter-bookworm-src.list"
# Bump when the way the binaries are built changes (flags, tags): a cache of an older recipe is rebuilt.
readonly BUILD_RECIPE="2"

script_start=$(date +%s)
log() { printf '[build-apiserver %4ss] %s\n' "$(( $(date +%s) - script_start ))" "$*"; }
die() { printf '[build-apiserver] ERROR: %s\n' "$*" >&2; exit 1; }

binaries_cached() {
  local name
  [[ "${TRICENTER_KUBE_FORCE:-0}" != 1 ]] || return 1
  [[ "$(cat "$BIN_DIR/.recipe" 2>/dev/null)" == "$BUILD_RECIPE" ]] || return 1
  for name in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$name" ]] || return 1; done
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_update_once() {
  [[ $apt_updated -eq 1 ]] && return 0
  # An unreachable third-party source must not stop us: Debian's own lists are what we need.
  as_root apt-get update -qq || log "apt-get update reported errors (continuing; Debian sources are what matter)"
  apt_updated=1
}

# Installs the Debian packages whose commands are missing; "command:package" pairs.
ensure_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What the tests need beside the binaries, whether or not those are cached.
ensure_commands etcd:etcd-server openssl:openssl kubectl:kubernetes-client

if binaries_cached; then
  log "cached: $BIN_DIR ($("$BIN_DIR/kube-apiserver" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

# One build at a time per cache (two engineers or CI and a developer on one machine).
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/.build.lock; waiting for it"
  flock 9
  if TRICENTER_KUBE_FORCE=0 binaries_cached; then log "built by the other run: $BIN_DIR"; exit 0; fi
fi

if [[ ! -f "$DEB_SRC_LIST" ]]; then
  log "adding deb-src entries for bookworm main ($DEB_SRC_LIST)"
  as_root tee "$DEB_SRC_LIST" >/dev/null <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
  apt_updated=0
fi
apt_update_once
ensure_commands go:golang-go rsync:rsync make:build-essential gcc:build-essential dpkg-source:dpkg-dev /usr/bin/time:time

log "go: $(go version)"
step_start=$(date +%s)
rm -rf "$WORK_DIR"
mkdir -p "$WORK_DIR/src"
(cd "$WORK_DIR/src" && apt-get source -qq kubernetes >"$WORK_DIR/apt-source.log" 2>&1) \
  || { cat "$WORK_DIR/apt-source.log" >&2; die "apt-get source kubernetes failed (is the deb-src entry reachable?)"; }
tree=$(find "$WORK_DIR/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
[[ -n "$tree" && -d "$tree/vendor" ]] || die "no kubernetes-* tree with vendor/ under $WORK_DIR/src"
# Debian versions it 1.20.5+really1.20.2: the upstream tree is what follows "really".
upstream="v${tree##*really}"
upstream="${upstream%%-*}"
[[ "$upstream" == "$KUBE_VERSION" ]] || die "source tree $tree is upstream $upstream, expected $KUBE_VERSION (update scripts/kube/VERSION)"
log "source fetched: $tree in $(( $(date +%s) - step_start ))s"

# GOPATH mode: the tree's vendor/ is used as is, no module download.
export GOPATH="$WORK_DIR/gopath" GOCACHE="$WORK_DIR/gocache" GO111MODULE=off GOFLAGS=""
mkdir -p "$GOPATH/src/k8s.io"
ln -sfn "$tree" "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

step_start=$(date +%s)
log "make generated_files"
/usr/bin/time -f 'generated_files: %e s wall, %M KB peak RSS' \
  nice -n 5 make generated_files >"$WORK_DIR/generated.log" 2>&1 \
  || { tail -n 60 "$WORK_DIR/generated.log" >&2; die "make generated_files failed (full log: $WORK_DIR/generated.log)"; }
tail -n 1 "$WORK_DIR/generated.log"
[[ -d pkg/generated/openapi ]] || die "make generated_files did not create pkg/generated/openapi"
log "generated files in $(( $(date +%s) - step_start ))s"

# As upstream's hack/lib/version.sh: both packages carry the version (`--version` reads one, /version the other).
minor="${KUBE_VERSION#v*.}"
minor="${minor%%.*}"
ldflags="-s -w"
for version_pkg in k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version k8s.io/kubernetes/vendor/k8s.io/component-base/version; do
  ldflags+=" -X $version_pkg.gitVersion=$KUBE_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor"
  ldflags+=" -X $version_pkg.gitTreeState=clean -X $version_pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done
staging="$WORK_DIR/out"
mkdir -p "$staging"
step_start=$(date +%s)
log "go build ${BINARIES[*]}"
/usr/bin/time -f 'go build: %e s wall, %M KB peak RSS (largest single process)' \
  nice -n 5 go build -p 2 -ldflags "$ldflags" -o "$staging/" \
  ./cmd/kube-apiserver ./cmd/kube-controller-manager >"$WORK_DIR/build.log" 2>&1 \
  || { tail -n 60 "$WORK_DIR/build.log" >&2; die "go build failed (full log: $WORK_DIR/build.log)"; }
tail -n 1 "$WORK_DIR/build.log"
log "compiled in $(( $(date +%s) - step_start ))s"

for name in "${BINARIES[@]}"; do
  "$staging/$name" --version >/dev/null || die "$name does not run"
done
echo "$BUILD_RECIPE" >"$staging/.recipe"
# Install atomically: a half-copied binary must never look cached.
mkdir -p "$CACHE_ROOT/$KUBE_VERSION"
rm -rf "$BIN_DIR.partial"
mv "$staging" "$BIN_DIR.partial"
rm -rf "$BIN_DIR"
mv "$BIN_DIR.partial" "$BIN_DIR"
ls -l "$BIN_DIR"
"$BIN_DIR/kube-apiserver" --version

cd /
if [[ "${TRICENTER_KUBE_KEEP_WORK:-0}" != 1 ]]; then
  chmod -R u+w "$WORK_DIR" 2>/dev/null || true
  rm -rf "$WORK_DIR"
  log "removed work dir $WORK_DIR"
fi
log "done in $(( $(date +%s) - script_start ))s: $BIN_DIR"
