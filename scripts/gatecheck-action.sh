#!/usr/bin/env bash
# The logic of the gatecheck GitHub Action (action.yml), kept here so it is tested directly
# (scripts/test-action.sh runs it under a simulated runner against an archive built by dist).
#
#   gatecheck-action.sh install   download the release archive for this runner, refuse it unless
#                                 its SHA-256 matches the pinned checksum, put gatecheck on PATH;
#                                 or, with INPUT_BUILD_FROM_SOURCE=true, build this checkout.
#   gatecheck-action.sh judge     run `gatecheck INPUT_COMMAND` with the inputs as flags; gatecheck
#                                 itself appends the Markdown verdict to GITHUB_STEP_SUMMARY; sets
#                                 the outputs outcome, exit-code and report-json; exits with
#                                 gatecheck's exit code (0 ship, 1 blocked, 2 could not evaluate).
#
# Inputs arrive as INPUT_* variables (action.yml maps them); the runner supplies GITHUB_OUTPUT,
# GITHUB_PATH, GITHUB_STEP_SUMMARY, RUNNER_TEMP, RUNNER_OS and RUNNER_ARCH.
set -euo pipefail

# Every way this script stops without a verdict is exit 2 with outcome=error: an input the action
# cannot use never reads as "blocked" (1), let alone "ship".
fail() {
  echo "::error title=gatecheck action::$(one_line "$*")" >&2
  if [ -n "${GITHUB_OUTPUT:-}" ] && [ -z "${stopping:-}" ]; then
    stopping=1
    output outcome error || true
    output exit-code 2 || true
  fi
  exit 2
}
need() { [ -n "${!1:-}" ] || fail "$1 is not set (the runner sets it; run this script from action.yml)"; }
# Text for a workflow command or the step summary: line breaks and carriage returns escaped as
# GitHub escapes them (%0A, %0D, with % first), so no input can start a line of its own.
# The runner also obeys its legacy `##[cmd]` form anywhere in a line: broken up as gatecheck
# breaks it (`##\[`).
# Every other character gatecheck's own `escape::line` shows as an escape (src/escape.rs
# `hidden`: controls, DEL, C1, format characters but the two joiners, the other
# Default_Ignorable code points, line and paragraph separators, U+FFFE/U+FFFF) is written as it
# writes it: a tab `\t`, the others `\u` and four hex digits, `\u{…}` beyond the BMP, so a bidi
# override or a zero-width character in an input (a branch name in `history`) neither reorders
# nor hides the rest of the line (finding round38-text/03). The list is gatecheck's table, by
# code point, so it does not depend on perl's Unicode version; a test runs `one_line` over every
# character against gatecheck's rule.
hidden_chars='\x{0}-\x{8}\x{a}-\x{1f}\x{7f}-\x{9f}\x{ad}\x{34f}\x{600}-\x{605}\x{61c}\x{6dd}\x{70f}\x{890}-\x{891}\x{8e2}\x{115f}-\x{1160}\x{17b4}-\x{17b5}\x{180b}-\x{180f}\x{200b}\x{200e}-\x{200f}\x{2028}-\x{202e}\x{2060}-\x{206f}\x{3164}\x{fe00}-\x{fe0f}\x{feff}\x{ffa0}\x{fff0}-\x{fffb}\x{fffe}-\x{ffff}\x{110bd}\x{110cd}\x{13430}-\x{1343f}\x{1bca0}-\x{1bca3}\x{1d173}-\x{1d17a}\x{e0000}-\x{e0fff}'
# One perl pass over the whole text (-0777): bash's `${t//…}` is quadratic, and 200 KB of `%`
# took 27 s (round 39 side note).
one_line() {
  # Bytes that are not UTF-8 are read as U+FFFD, as gatecheck reads them.
  printf '%s' "$1" | HIDDEN=$hidden_chars perl -X -0777 -MEncode -pe 's/%/%25/g; s/\r/%0D/g; s/\n/%0A/g; $_ = decode("utf8", $_); s/\t/\\t/g; s/([$ENV{HIDDEN}])/my $c = ord $1; $c > 0xffff ? sprintf("\\u{%x}", $c) : sprintf("\\u%04x", $c)/ge; s/##\[/##\\[/g; $_ = encode("utf8", $_)'
}
# Markdown text for the step summary: HTML and Markdown punctuation escaped, on one line.
# The rule of gatecheck's own Markdown (src/escape.rs `markdown`): every ASCII punctuation
# character backslash-escaped, so no HTML, link, autolink, emphasis or strikethrough forms, and a
# zero-width joiner after each `@`, so GFM's e-mail autolink finds no domain (finding text4/06).
zwj=$'\xe2\x80\x8d'
markdown_text() { one_line "$1" | LC_ALL=C sed -e 's/[[:punct:]]/\\&/g' -e "s/@/@$zwj/g"; }
# An output is one `name=value` line: a value holding a line break would write lines of its own
# (outcome=ship after a blocked run), so it is refused.
output() {
  case "$2" in *$'\n'* | *$'\r'*) fail "output $1: the value holds a line break (check the inputs it is made of)" ;; esac
  echo "$1=$2" >> "$GITHUB_OUTPUT"
}
# Inputs that name files or URLs are one line each: refused otherwise, naming the input.
single_line_inputs() {
  local name
  for name in "$@"; do
    case "${!name:-}" in *$'\n'* | *$'\r'*) fail "${name#INPUT_}: expected one line (a path or URL), got text with a line break" ;; esac
  done
}

# The release archive dist builds for this runner: the Linux ones are static (musl).
archive_name() {
  local arch
  case "${RUNNER_ARCH:-X64}" in
    X64) arch=x86_64 ;;
    ARM64) arch=aarch64 ;;
    *) fail "RUNNER_ARCH=${RUNNER_ARCH}: gatecheck ships for X64 and ARM64 runners" ;;
  esac
  case "$RUNNER_OS" in
    Linux) echo "gatecheck-$arch-unknown-linux-musl.tar.xz" ;;
    macOS) echo "gatecheck-$arch-apple-darwin.tar.xz" ;;
    Windows)
      [ "$arch" = x86_64 ] || fail "RUNNER_OS=Windows RUNNER_ARCH=${RUNNER_ARCH}: gatecheck ships for x86_64 Windows only"
      echo "gatecheck-x86_64-pc-windows-msvc.zip" ;;
    *) fail "RUNNER_OS=$RUNNER_OS: expected Linux, macOS or Windows" ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi
}

# INPUT_SHA256 is the archive's checksum, or several `<sha256>  <archive>` lines (dist's
# sha256.sum as published with the release) from which this runner's line is taken.
expected_sha256() {
  local archive=$1 pinned="" single="" hash name
  while read -r hash name _; do
    [ -n "${hash:-}" ] || continue
    if [ -z "${name:-}" ]; then
      single=$hash
    elif [ "${name#\*}" = "$archive" ]; then
      pinned=$hash
    fi
  done <<< "${INPUT_SHA256:-}"
  pinned=${pinned:-$single}
  [ -n "$pinned" ] || fail "sha256: no checksum pinned for $archive (give the archive's SHA-256, or the release's sha256.sum lines); an unpinned download is refused"
  [[ "$pinned" =~ ^[0-9A-Fa-f]{64}$ ]] || fail "sha256: expected 64 hex digits for $archive, got ${pinned:0:80}"
  echo "$pinned" | tr 'A-F' 'a-f'
}

# gatecheck's rule for a URL parameter named as a credential's (src/input.rs
# CREDENTIAL_PARAMETER_WORDS, held anywhere in the name, and CREDENTIAL_PARAMETER_NAMES, the whole
# name; tests/integration/action_script.rs keeps the lists equal): its value would be printed
# with the URL, so such a URL is refused naming the word, never quoting it (finding round12-text/03).
credential_words=(token key secret pass pw auth sig cred session sid jwt bearer code otp)
credential_names=(p ak sk)
# `%XX` decoded (a name may hide `token` as `%74oken`), other text kept as written.
percent_decoded() { local t=${1//\\/\\\\}; printf '%b' "$(printf '%s' "$t" | sed -E 's/%([0-9A-Fa-f]{2})/\\x\1/g')"; }
# The word of the first parameter of URL $1 named as a credential's, or nothing: the query's
# names, then `name=value` pairs of the fragment and of path segments' `;` parameters.
credential_parameter() {
  local url=$1 before fragment="" query="" path pair seg name decoded whole word
  local -a names=() pairs=() segs=()
  before=${url%%#*}
  [ "$before" = "$url" ] || fragment=${url#*#}
  case "$before" in *\?*) query=${before#*\?} ;; esac
  path=${before%%\?*}
  IFS='&;' read -ra pairs <<< "$query" || true
  for pair in "${pairs[@]}"; do names+=("${pair%%=*}"); done
  IFS='&;' read -ra pairs <<< "$fragment" || true
  for pair in "${pairs[@]}"; do [[ $pair != *=* ]] || names+=("${pair%%=*}"); done
  IFS='/' read -ra segs <<< "$path" || true
  for seg in "${segs[@]}"; do
    IFS=';' read -ra pairs <<< "$seg" || true
    for pair in "${pairs[@]:1}"; do [[ $pair != *=* ]] || names+=("${pair%%=*}"); done
  done
  for name in "${names[@]}"; do
    decoded=$(percent_decoded "$name" | LC_ALL=C tr 'A-Z' 'a-z')
    # `p[]=` is PHP's spelling of a list named `p`.
    whole=${decoded%%\[*}
    whole=$(printf '%s' "$whole" | sed -E 's/^[[:space:]]+|[[:space:]]+$//g')
    for word in "${credential_names[@]}"; do [ "$whole" != "$word" ] || { printf '%s' "$word"; return; }; done
    for word in "${credential_words[@]}"; do [[ $decoded != *"$word"* ]] || { printf '%s' "$word"; return; }; done
  done
}

install_release() {
  local version=${INPUT_VERSION:-} base=${INPUT_RELEASE_URL:-https://github.com/gatecheck-dev/gatecheck/releases/download}
  [[ "$version" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] \
    || fail "version: expected a released version such as 0.1.0 (got '${version}'); to test an unreleased commit set build-from-source: true"
  version=${version#v}
  local archive expected url dir got
  archive=$(archive_name)
  expected=$(expected_sha256 "$archive")
  url="${base%/}/v$version/$archive"
  dir="$RUNNER_TEMP/gatecheck-$version"
  mkdir -p "$dir"
  # A second use in the same job (install, then judge) checks the archive already fetched.
  # A mirror URL may carry user:password: the log and annotations show it without them.
  local shown word
  # Checked on the URL as given, before any masking: a `@` in the value would hide the name.
  word=$(credential_parameter "$url")
  [ -z "$word" ] || fail "release-url: a query parameter is named as a credential's (\"$word\" in its name), and credentials do not belong in the URL, which is printed in the log; expected the release base URL without credentials"
  # Everything up to the last `@`, with or without a scheme (curl reads `user:pass@host/...`
  # as http with basic auth, finding round8-text/01), as gatecheck masks its own URLs.
  shown=$(printf '%s' "$url" | sed -E 's#^(([A-Za-z][A-Za-z0-9+.-]*:)?//)?.*@#\1***@#')
  case "$url" in http://* | https://*) ;; *) fail "release-url: expected an http:// or https:// URL, got $shown" ;; esac
  if [ ! -f "$dir/$archive" ]; then
    echo "gatecheck action: downloading $(one_line "$shown")"
    curl --proto '=https,http' -fsSL --retry 3 --retry-delay 2 -o "$dir/$archive.part" "$url" \
      || fail "could not download $shown (is $version released for $archive?)"
    mv "$dir/$archive.part" "$dir/$archive"
  fi
  got=$(sha256_of "$dir/$archive")
  if [ "$got" != "$expected" ]; then
    rm -f "$dir/$archive"
    fail "checksum mismatch for $archive: expected $expected, got $got; the download is refused and nothing was installed"
  fi
  echo "gatecheck action: $archive sha256 $got matches the pinned checksum"
  case "$archive" in
    *.zip) unzip -q -o "$dir/$archive" -d "$dir" ;;
    *) tar -xJf "$dir/$archive" -C "$dir" ;;
  esac
  local bin
  bin=$(find "$dir" -type f \( -name gatecheck -o -name gatecheck.exe \) | head -n 1)
  [ -n "$bin" ] || fail "$archive holds no gatecheck binary"
  chmod +x "$bin"
  install_path "$(dirname "$bin")"
}

install_from_source() {
  # Only for testing an unreleased commit of gatecheck itself: the checkout is the source.
  command -v cargo >/dev/null 2>&1 || fail "build-from-source: true needs a Rust toolchain (cargo) on the runner"
  echo "gatecheck action: building this checkout (cargo build --release --locked)"
  cargo build --release --locked
  install_path "$(pwd)/target/release"
}

install_path() {
  echo "$1" >> "${GITHUB_PATH:-/dev/null}"
  export PATH="$1:$PATH"
  output path "$1"
  echo "gatecheck action: installed $("$1/gatecheck" --version)"
}

cmd_install() {
  need GITHUB_OUTPUT; need RUNNER_TEMP; need RUNNER_OS
  # As judge's inputs: one line each, or a line break in them would print lines of their own.
  # (INPUT_SHA256 may hold several checksum lines; it is never printed.)
  single_line_inputs INPUT_VERSION INPUT_RELEASE_URL INPUT_BUILD_FROM_SOURCE
  case "${INPUT_BUILD_FROM_SOURCE:-false}" in
    true) install_from_source ;;
    false | "") install_release ;;
    *) fail "build-from-source: expected true or false, got ${INPUT_BUILD_FROM_SOURCE}" ;;
  esac
}

# Says how much history the consecutive_passes gates will see, so a first run on a branch (or
# an evicted cache) is named as such rather than read as a mysterious failure.
history_notice() {
  local dir=$1 count=0
  [ -d "$dir" ] && count=$(find "$dir" -maxdepth 1 -type f -name '*.json' | wc -l | tr -d ' ')
  if [ "$count" = 0 ]; then
    local text="no earlier verdicts in $dir: the first run on this branch and policy, or its cache was evicted; consecutive_passes gates count this run alone until enough runs are recorded"
    echo "::notice title=gatecheck history::$(one_line "$text")"
    [ -n "${GITHUB_STEP_SUMMARY:-}" ] && printf '> gatecheck history: %s\n\n' "$(markdown_text "$text")" >> "$GITHUB_STEP_SUMMARY"
  else
    echo "gatecheck action: $count earlier verdict(s) in $(one_line "$dir")"
  fi
  output history-runs "$count"
}

cmd_judge() {
  need GITHUB_OUTPUT
  local command=${INPUT_COMMAND:-verify}
  case "$command" in verify | check | run) ;; *) fail "command: expected verify, check or run, got '$command'" ;; esac
  command -v gatecheck >/dev/null 2>&1 || fail "gatecheck is not on PATH: run the install step first"
  single_line_inputs INPUT_REPORTS_DIR INPUT_HISTORY INPUT_POLICY INPUT_SUMMARY INPUT_PROMETHEUS_URL
  local reports=${INPUT_REPORTS_DIR:-gatecheck-reports}
  mkdir -p "$reports" 2>/dev/null || fail "reports-dir: cannot create the folder $reports"
  # Reports of an earlier use in this job (or a kept self-hosted workspace) are never passed
  # off as this run's: a run that writes no verdict leaves none behind.
  rm -f "$reports/verdict.json" "$reports/verdict.junit.xml" "$reports/verdict.md" "$reports/verdict.html"
  local -a args=("$command")
  [ -n "${INPUT_POLICY:-}" ] && args+=(--policy "$INPUT_POLICY")
  if [ -n "${INPUT_SUMMARY:-}" ]; then
    [ "$command" = run ] && fail "summary: \`gatecheck run\` makes its own load; give summary only to verify or check"
    args+=(--summary "$INPUT_SUMMARY")
  fi
  [ -n "${INPUT_PROMETHEUS_URL:-}" ] && args+=(--prometheus-url "$INPUT_PROMETHEUS_URL")
  if [ -n "${INPUT_HISTORY:-}" ]; then
    history_notice "$INPUT_HISTORY"
    mkdir -p "$INPUT_HISTORY" 2>/dev/null || fail "history: cannot create the folder $INPUT_HISTORY"
    args+=(--history "$INPUT_HISTORY")
  fi
  args+=(--report "json=$reports/verdict.json" --report "junit=$reports/verdict.junit.xml"
    --report "markdown=$reports/verdict.md" --report "html=$reports/verdict.html")
  if [ -n "${INPUT_ARGS:-}" ]; then
    # Extra flags, split on whitespace and line breaks alike (an `args: |` block gives one flag
    # per line; every line counts), with no shell evaluation of the input.
    local -a extra
    read -r -d '' -a extra <<< "$INPUT_ARGS" || true
    args+=("${extra[@]}")
  fi
  local code=0
  GITHUB_ACTIONS=${GITHUB_ACTIONS:-true} gatecheck "${args[@]}" || code=$?
  local outcome
  case "$code" in 0) outcome=ship ;; 1) outcome=blocked ;; *) outcome=error ;; esac
  # Exit 0 or 1 without a verdict written (e.g. `args: --help`) judged nothing: never a ship.
  if [ "$outcome" != error ] && [ ! -f "$reports/verdict.json" ]; then
    echo "gatecheck action: gatecheck exited $code but wrote no verdict to $(one_line "$reports")/verdict.json: nothing was judged" >&2
    outcome=error
    code=2
  fi
  output outcome "$outcome"
  output exit-code "$code"
  if [ "$outcome" != error ]; then output report-json "$reports/verdict.json"; else output report-json ""; fi
  if [ "$outcome" = error ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    # No verdict to append: say so, so an empty summary is never read as a pass.
    printf '> gatecheck could not evaluate (exit code %s): the step log names the input at fault; the release does not ship.\n\n' "$code" >> "$GITHUB_STEP_SUMMARY"
  fi
  echo "gatecheck action: outcome $outcome (exit code $code)"
  exit "$code"
}

# Sourced (by the tests of `one_line`), it only defines its functions.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
  install) cmd_install ;;
  judge) cmd_judge ;;
  *) echo "usage: $0 install|judge (inputs as INPUT_* variables)" >&2; exit 2 ;;
esac
