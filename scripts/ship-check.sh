#!/usr/bin/env bash
# The shipping checks (`make ship-check`, run by `make test`): every way gatecheck is shipped,
# tested here as far as one offline Linux machine allows.
#
#  1. dist plan: the release configuration is valid and .github/workflows/release.yml is what
#     `dist generate` writes from it.
#  2. dist build: the x86_64 static (musl) release archive and its .sha256, exactly as the release
#     workflow builds them; the binary has no interpreter and no shared library.
#  3. An empty root filesystem (chroot: the binary, the CA bundle, fixtures; no libc) runs
#     --version, judges a passing and a failing fixture, and queries a Prometheus API over https
#     signed by a test CA given with --prometheus-ca-file (refused without it).
#  4. The GitHub Action's script under a simulated runner against that archive served from a
#     loopback HTTP server: install, a passing and a failing verdict, history notices, a wrong
#     or missing checksum refused.
#  5. The shell installer dist generates, pointed at the same loopback server.
#  6. The container image (Containerfile, FROM scratch) built with buildah; its filesystem is
#     exported and the binary run from it as the image's user against a fixture.
#  7. cargo publish --dry-run; the .crate's size and contents; the binstall metadata resolves
#     to archives the release really has.
# Figures (archive, binary, image and .crate sizes, seconds) are printed as `ship-check:` lines.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
DISTRIB=target/distrib
ARCHIVE=gatecheck-$TARGET.tar.xz
VERSION=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["version"])')
LAG_ENV=(SCHEDULER_LAG_P95_SECONDS=12 SCHEDULER_LAG_MAX_SECONDS=45 QUEUE_LAG_P95_SECONDS=3 QUEUE_LAG_P99_SECONDS=8)
PASS_SUMMARY=fixtures/k6/1.1.0/pass/summary-export.json
# Another passing run (the same run in another shape would count once in the history).
PASS_SUMMARY_2=fixtures/k6/1.1.0/pass-trend-stats-p99/summary-export.json
FAIL_SUMMARY=fixtures/k6/1.1.0/fail-latency/summary-export.json

say() { echo "ship-check: $*"; }
fail() { echo "ship-check: FAILED: $*" >&2; exit 1; }
# expect CODE DESCRIPTION -- COMMAND...: runs COMMAND, fails unless it exits with CODE.
expect() {
  local want=$1 what=$2; shift 3
  local code=0
  "$@" > "$work/out.txt" 2>&1 || code=$?
  if [ "$code" != "$want" ]; then
    sed 's/^/  | /' "$work/out.txt" >&2
    fail "$what: exit code $code, expected $want"
  fi
  say "ok: $what (exit $code)"
}
contains() { grep -qF -- "$2" "$1" || { sed 's/^/  | /' "$1" >&2; fail "$1 lacks: $2"; }; }

# chroot and buildah need root: as root already (this project's CI), else through sudo (GitHub's
# runners have it without a password).
ROOT=()
if [ "$(id -u)" != 0 ]; then
  sudo -n true 2>/dev/null || fail "the chroot and buildah checks need root: run make ship-check as root or with passwordless sudo"
  ROOT=(sudo -n)
fi
for tool in dist musl-gcc buildah chroot openssl python3 curl xz; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing: run bash scripts/ensure-test-deps.sh"
done

CHROOT=$(command -v chroot)
work=$(mktemp -d /tmp/gatecheck-ship.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "${ctr:-}" ]; then "${ROOT[@]}" buildah "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  if [ -n "${BUILDAH_ROOT:-}" ]; then "${ROOT[@]}" buildah "${BUILDAH[@]}" rmi --all --force >/dev/null 2>&1 || true; fi
  "${ROOT[@]}" rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. dist plan --------------------------------------------------------------------------
start=$(date +%s)
dist plan > "$work/plan.txt" 2>&1 || { cat "$work/plan.txt" >&2; fail "dist plan (run dist generate after changing dist-workspace.toml)"; }
for artifact in gatecheck-x86_64-unknown-linux-musl.tar.xz gatecheck-aarch64-unknown-linux-musl.tar.xz \
  gatecheck-x86_64-apple-darwin.tar.xz gatecheck-aarch64-apple-darwin.tar.xz gatecheck-x86_64-pc-windows-msvc.zip \
  gatecheck-installer.sh gatecheck-installer.ps1 sha256.sum; do
  contains "$work/plan.txt" "$artifact"
done
grep -q 'actions/attest' .github/workflows/release.yml || fail "release.yml does not attest build provenance"
say "ok: dist plan lists every archive, both installers and sha256.sum; release.yml is current"

# ---- 2. the static release archive --------------------------------------------------------
rm -f "$DISTRIB/$ARCHIVE" "$DISTRIB/$ARCHIVE.sha256"
dist build --artifacts=local --target "$TARGET" > "$work/build.txt" 2>&1 || { tail -40 "$work/build.txt" >&2; fail "dist build --target $TARGET"; }
[ -f "$DISTRIB/$ARCHIVE" ] && [ -f "$DISTRIB/$ARCHIVE.sha256" ] || fail "dist build left no $DISTRIB/$ARCHIVE(.sha256)"
(cd "$DISTRIB" && sha256sum -c "$ARCHIVE.sha256" >/dev/null) || fail "$ARCHIVE does not match its .sha256"
mkdir -p "$work/unpacked"
tar -xJf "$DISTRIB/$ARCHIVE" -C "$work/unpacked"
BIN=$work/unpacked/gatecheck-$TARGET/gatecheck
[ -x "$BIN" ] || fail "$ARCHIVE has no gatecheck-$TARGET/gatecheck"
if readelf -l "$BIN" | grep -q INTERP || readelf -d "$BIN" | grep -q NEEDED; then
  fail "the musl binary is dynamically linked: $(readelf -d "$BIN" | grep NEEDED | tr -s ' ')"
fi
say "ok: $ARCHIVE is static (no interpreter, no shared library); $(( $(date +%s) - start )) s to plan and build"
say "figure: archive $ARCHIVE $(stat -c %s "$DISTRIB/$ARCHIVE") bytes; binary $(stat -c %s "$BIN") bytes"

# ---- 3. an empty root filesystem, and https with a test CA ---------------------------------
root=$work/root
mkdir -p "$root/etc/ssl/certs" "$root/fixtures" "$root/tmp"
cp "$BIN" "$root/gatecheck"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp "$PASS_SUMMARY" "$root/fixtures/pass.json"
cp "$FAIL_SUMMARY" "$root/fixtures/fail.json"
cp gates/release.toml fixtures/policies/one-query.toml "$root/fixtures/"
[ -z "$(find "$root" -name 'libc*' -o -name 'ld-*')" ] || fail "the chroot holds a libc"
in_root() { "${ROOT[@]}" env -i PATH=/ "${LAG_ENV[@]}" "$CHROOT" "$root" /gatecheck "$@"; }
expect 0 "chroot: --version" -- in_root --version
contains "$work/out.txt" "gatecheck $VERSION"
expect 0 "chroot: verify a passing k6 summary" -- in_root verify --policy /fixtures/release.toml --summary /fixtures/pass.json
expect 1 "chroot: verify a failing k6 summary" -- in_root verify --policy /fixtures/release.toml --summary /fixtures/fail.json

# A test CA and a server certificate for 127.0.0.1, made now; the server answers PromQL queries.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=gatecheck test CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$work/server.key" -out "$work/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > "$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/server.ext" -out "$work/server.pem" >/dev/null 2>&1
cp "$work/ca.pem" "$root/fixtures/test-ca.pem"
timeout 900 python3 scripts/tls-promql-server.py "$work/server.pem" "$work/server.key" "$work/tls-port" "$work/tls-queries" &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/tls-port" ] && break; sleep 0.1; done
[ -s "$work/tls-port" ] || fail "the test https server did not start"
tls_url="https://127.0.0.1:$(cat "$work/tls-port")"
expect 0 "chroot: https PromQL query trusted through --prometheus-ca-file" -- \
  in_root check --policy /fixtures/one-query.toml --prometheus-url "$tls_url" --prometheus-ca-file /fixtures/test-ca.pem --at 1767225600
contains "$work/out.txt" "PASS"
grep -q 'waxwatch_scheduler_lag_max_seconds' "$work/tls-queries" || fail "the https server saw no PromQL query"
expect 2 "chroot: the same server refused without the test CA (system bundle only)" -- \
  in_root check --policy /fixtures/one-query.toml --prometheus-url "$tls_url" --prometheus-retries 0 --at 1767225600
grep -qi 'certificate\|UnknownIssuer' "$work/out.txt" || { cat "$work/out.txt" >&2; fail "the refusal does not name the certificate"; }

# ---- 4. the GitHub Action's script under a simulated runner --------------------------------
# Laid out as GitHub serves releases, so the action and dist's installer both fetch from it.
serve=$work/www/gatecheck-dev/gatecheck/releases/download/v$VERSION
mkdir -p "$serve"
cp "$DISTRIB/$ARCHIVE" "$serve/"
sum=$(cut -d' ' -f1 "$DISTRIB/$ARCHIVE.sha256")
timeout 900 python3 -u -m http.server --bind 127.0.0.1 0 --directory "$work/www" > "$work/http.log" 2>&1 &
pids+=($!)
http_port=
for _ in $(seq 1 300); do
  http_port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -n 1)
  [ -n "$http_port" ] && break
  sleep 0.1
done
[ -n "$http_port" ] || fail "the loopback release server did not start"
www="http://127.0.0.1:$http_port"
release_url="$www/gatecheck-dev/gatecheck/releases/download"

# One simulated runner: a fresh RUNNER_TEMP and GITHUB_* files, PATH without any gatecheck.
runner() {
  local name=$1; shift
  local dir=$work/runner-$name
  mkdir -p "$dir/temp"
  : > "$dir/output"; : > "$dir/path"; touch "$dir/summary"
  env -i HOME="$dir" PATH="$(dirname "$(command -v curl)"):/usr/bin:/bin" \
    RUNNER_TEMP="$dir/temp" RUNNER_OS=Linux RUNNER_ARCH=X64 GITHUB_ACTIONS=true \
    GITHUB_OUTPUT="$dir/output" GITHUB_PATH="$dir/path" GITHUB_STEP_SUMMARY="$dir/summary" \
    INPUT_RELEASE_URL="$release_url" INPUT_VERSION="$VERSION" "$@"
}
action=$PWD/scripts/gatecheck-action.sh
install_start=$(date +%s%N)
expect 0 "action: install with the pinned checksum" -- runner ok INPUT_SHA256="$sum" bash "$action" install
say "figure: the action's install (download from loopback, SHA-256, unpack, --version) took $(( ($(date +%s%N) - install_start) / 1000000 )) ms"
contains "$work/out.txt" "matches the pinned checksum"
installed=$(cat "$work/runner-ok/path")
[ -x "$installed/gatecheck" ] || fail "the action put no gatecheck in the directory it added to GITHUB_PATH ($installed)"
cmp -s "$installed/gatecheck" "$BIN" || fail "the installed gatecheck is not the archive's"
contains "$work/runner-ok/output" "path=$installed"
# The judge step sees what GITHUB_PATH added, as a runner's later steps do.
judge() {
  local name=$1; shift
  (cd "$work/runner-ok" && runner ok PATH="$installed:/usr/bin:/bin" "${LAG_ENV[@]}" INPUT_COMMAND=verify \
    INPUT_POLICY="$OLDPWD/gates/release.toml" INPUT_REPORTS_DIR="$work/runner-ok/reports-$name" \
    INPUT_HISTORY="$work/runner-ok/history" "$@" bash "$action" judge)
}
# A first run on a branch: nothing restored into the history directory. It says so, and
# consecutive_passes (2 runs in gates/release.toml) blocks a release that otherwise passes.
: > "$work/runner-ok/output"
expect 1 "action: the first run with an empty history is blocked, and says why" -- judge first INPUT_SUMMARY="$PWD/$PASS_SUMMARY"
contains "$work/runner-ok/output" "outcome=blocked"
contains "$work/runner-ok/output" "history-runs=0"
# The step summary is Markdown with every punctuation character escaped (gatecheck's rule).
markdown() { printf '%s' "$1" | LC_ALL=C sed -e 's/[[:punct:]]/\\&/g'; }
contains "$work/runner-ok/summary" "$(markdown "no earlier verdicts in $work/runner-ok/history: the first run")"
contains "$work/out.txt" "only 1 run(s) recorded, 2 needed"
# The next run, other evidence that passes: two passing runs in a row, the release ships.
: > "$work/runner-ok/output"
expect 0 "action: a passing verdict (second passing run in the history)" -- judge pass INPUT_SUMMARY="$PWD/$PASS_SUMMARY_2"
contains "$work/runner-ok/output" "outcome=ship"
contains "$work/runner-ok/output" "exit-code=0"
contains "$work/runner-ok/output" "history-runs=1"
contains "$work/runner-ok/output" "report-json=$work/runner-ok/reports-pass/verdict.json"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["exit_code"] == 0, v["exit_code"]' \
  "$work/runner-ok/reports-pass/verdict.json" || fail "report-json does not hold the passing verdict"
contains "$work/runner-ok/summary" "| Gate |"
: > "$work/runner-ok/output"
expect 1 "action: a failing verdict" -- judge fail INPUT_SUMMARY="$PWD/$FAIL_SUMMARY"
contains "$work/runner-ok/output" "outcome=blocked"
contains "$work/runner-ok/output" "exit-code=1"
contains "$work/runner-ok/output" "history-runs=2"
contains "$work/out.txt" "::error"
: > "$work/runner-ok/output"
expect 2 "action: evidence that cannot be read" -- judge broken INPUT_SUMMARY="$work/no-such-summary.json"
contains "$work/runner-ok/output" "outcome=error"
contains "$work/runner-ok/summary" "gatecheck could not evaluate (exit code 2)"
expect 2 "action: a wrong checksum is refused" -- runner bad INPUT_SHA256="$(printf '%064d' 0)" bash "$action" install
contains "$work/out.txt" "checksum mismatch"
[ ! -s "$work/runner-bad/path" ] && [ -z "$(find "$work/runner-bad/temp" -name gatecheck)" ] \
  || fail "a refused download still installed something"
expect 2 "action: no pinned checksum is refused" -- runner none INPUT_SHA256= bash "$action" install
contains "$work/out.txt" "an unpinned download is refused"
# The release's sha256.sum lines work as the pin too (the runner's line is picked).
printf '%s  gatecheck-aarch64-apple-darwin.tar.xz\n%s  %s\n' "$(printf '%064d' 1)" "$sum" "$ARCHIVE" > "$work/sha256.sum"
expect 0 "action: install pinned by sha256.sum lines" -- runner sums INPUT_SHA256="$(cat "$work/sha256.sum")" bash "$action" install
actionlint .github/workflows/*.yml || fail "actionlint on the workflows that use the action"
grep -q 'uses: ./$' .github/workflows/release-gates.yml || fail "release-gates.yml does not install gatecheck through the action"
grep -q 'uses: ./$' .github/workflows/smoke.yml || fail "smoke.yml does not install gatecheck through the action"

# ---- 5. the shell installer, against the same loopback server -------------------------------
dist build --artifacts=global > "$work/global.txt" 2>&1 || { tail -20 "$work/global.txt" >&2; fail "dist build --artifacts=global"; }
[ -f "$DISTRIB/gatecheck-installer.sh" ] && [ -f "$DISTRIB/gatecheck-installer.ps1" ] || fail "dist built no installers"
mkdir -p "$work/home"
expect 0 "installer: gatecheck-installer.sh from the loopback release" -- env -i HOME="$work/home" PATH=/usr/bin:/bin \
  GATECHECK_INSTALLER_GITHUB_BASE_URL="$www" GATECHECK_NO_MODIFY_PATH=1 CARGO_HOME="$work/home/.cargo" \
  sh "$DISTRIB/gatecheck-installer.sh" --no-modify-path
"$work/home/.cargo/bin/gatecheck" --version | grep -q "gatecheck $VERSION" || fail "the installer's gatecheck does not run"

# ---- 6. the container image ----------------------------------------------------------------
BUILDAH_ROOT=$work/buildah
BUILDAH=(--root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs)
context=$work/context
mkdir -p "$context"
cp "$BIN" "$context/gatecheck"
cp /etc/ssl/certs/ca-certificates.crt "$context/"
start=$(date +%s)
"${ROOT[@]}" buildah "${BUILDAH[@]}" build --isolation chroot -f Containerfile -t localhost/gatecheck:ship-check "$context" > "$work/image.txt" 2>&1 \
  || { tail -20 "$work/image.txt" >&2; fail "buildah build"; }
ctr=$("${ROOT[@]}" buildah "${BUILDAH[@]}" from localhost/gatecheck:ship-check)
"${ROOT[@]}" buildah "${BUILDAH[@]}" inspect --type image localhost/gatecheck:ship-check > "$work/image.json"
python3 - "$work/image.json" <<'PY' || fail "the image's config is not non-root with ENTRYPOINT [\"/gatecheck\"]"
import json, sys
c = json.load(open(sys.argv[1]))["OCIv1"]["config"]
assert c.get("Entrypoint") == ["/gatecheck"], c.get("Entrypoint")
assert c.get("User") == "65532:65532", c.get("User")
PY
image=$work/image-fs
mkdir -p "$image"
mnt=$("${ROOT[@]}" buildah "${BUILDAH[@]}" mount "$ctr")
"${ROOT[@]}" cp -a "$mnt/." "$image/"
"${ROOT[@]}" buildah "${BUILDAH[@]}" umount "$ctr" >/dev/null
files=$(cd "$image" && find . -type f | sort | tr '\n' ' ')
[ "$files" = "./etc/ssl/certs/ca-certificates.crt ./gatecheck " ] || fail "the image holds more than the binary and the CA bundle: $files"
mkdir -p "$image/work"
cp "$PASS_SUMMARY" "$image/work/summary.json"
cp gates/release.toml "$image/work/release.toml"
expect 0 "image: the exported filesystem judges a fixture as the image's user" -- "${ROOT[@]}" env -i "${LAG_ENV[@]}" \
  "$CHROOT" --userspec=65532:65532 "$image" /gatecheck verify --policy /work/release.toml --summary /work/summary.json
image_bytes=$(du -sb "$image" | cut -f1)
say "figure: image localhost/gatecheck (FROM scratch) $("${ROOT[@]}" buildah "${BUILDAH[@]}" images --format '{{.Size}}' localhost/gatecheck:ship-check) ($image_bytes bytes of filesystem with the test fixture); built in $(( $(date +%s) - start )) s"

# ---- 7. crates.io and cargo binstall -------------------------------------------------------
start=$(date +%s)
rm -f "target/package/gatecheck-$VERSION.crate" "target/package/tmp-crate/gatecheck-$VERSION.crate"
cargo publish --dry-run --locked --allow-dirty > "$work/publish.txt" 2>&1 || { tail -30 "$work/publish.txt" >&2; fail "cargo publish --dry-run"; }
contains "$work/publish.txt" "aborting upload due to dry run"
# cargo publish leaves the .crate in target/package/tmp-crate (cargo package: target/package).
crate=$(find target/package -maxdepth 2 -name "gatecheck-$VERSION.crate" | head -n 1)
[ -n "$crate" ] || fail "cargo publish --dry-run left no gatecheck-$VERSION.crate under target/package"
cargo package --list --allow-dirty > "$work/crate-files.txt" 2>/dev/null
if grep -E '^(fixtures|tests|docs|deploy|fuzz|benches|\.github)/' "$work/crate-files.txt" >/dev/null; then
  fail "the .crate carries test or CI files: $(grep -E '^(fixtures|tests|docs|deploy|fuzz|benches|\.github)/' "$work/crate-files.txt" | head -3 | tr '\n' ' ')"
fi
say "ok: cargo publish --dry-run in $(( $(date +%s) - start )) s"
say "figure: $crate $(stat -c %s "$crate") bytes, $(wc -l < "$work/crate-files.txt") files"
dist manifest --artifacts=all --output-format=json --no-local-paths > "$work/manifest.json" 2>/dev/null
cargo metadata --no-deps --format-version 1 > "$work/metadata.json"
python3 scripts/check-binstall.py "$work/metadata.json" "$work/manifest.json" "$DISTRIB/$ARCHIVE" \
  || fail "[package.metadata.binstall] does not resolve to the release's archives"
say "ok: every dist target's binstall URL and bin-dir name a real archive and its binary"
say "all shipping checks passed"
