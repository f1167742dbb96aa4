# Shared set-up for the Scripts: installs the system packages LienThong needs when they are missing.
# Sourced, not run.

lt_need_packages() {
  local missing=()
  for pkg in libsodium-dev libsqlite3-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then return 0; fi
  echo "==> installing system packages: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: ${missing[*]} missing and not running as root; install them with apt-get" >&2
      return 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

lt_need_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then export PATH=/opt/swift/usr/bin:$PATH
    elif [[ -x /opt/swift/bin/swift ]]; then export PATH=/opt/swift/bin:$PATH
    else echo "error: the Swift toolchain (swift) is not on PATH" >&2; return 1; fi
  fi
}

# promtool (Debian's prometheus package), for the metrics test's format check.
lt_need_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  echo "==> installing prometheus (for promtool)"
  local sudo=""; [[ $(id -u) != 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
}
