# shellcheck shell=bash
# Sourced by ./te (and anything else that builds or runs the project): finds a JDK >= 22, makes sure
# the Debian packages the build and the native providers need are installed, and finds Maven.
#
#   source scripts/env.sh && te_setup       # all of it; exits the shell with a clear message on failure
#
# Everything here must be cheap when the machine is already set up: one dpkg-query, no apt, no JVM start.

TE_MIN_JAVA=22

# What a fresh Debian 12 box of this project's kind lacks: libfabric (tcp/shm providers and headers),
# libibverbs (verbs provider and headers), and gcc for the native-headers probes and the C baseline.
TE_DEBIAN_PACKAGES=(libfabric1 libfabric-dev libfabric-bin libibverbs-dev rdma-core ibverbs-providers gcc)

te_die() {
  echo "te: error: $*" >&2
  exit 1
}

te_info() {
  echo "te: $*" >&2
}

# Prints the feature release (e.g. 25) of the JDK at $1, or nothing if $1 is not a JDK. Reads the
# `release` file every JDK >= 9 ships instead of starting a JVM.
te_jdk_major() {
  local home=$1 version=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -r "$home/release" ]; then
    version=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$version" ]; then
    version=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  version=${version#1.}      # 1.8.0_x -> 8.0_x
  echo "${version%%[.+_-]*}"
}

# Sets JAVA_HOME to a JDK >= TE_MIN_JAVA: the caller's JAVA_HOME when it qualifies, else the newest
# one under /usr/lib/jvm (override the search root with TE_JVM_ROOT).
te_find_jdk() {
  local major best="" best_major=0 candidate
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(te_jdk_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$TE_MIN_JAVA" ]; then
      return 0
    fi
    te_info "JAVA_HOME=$JAVA_HOME is not a JDK >= $TE_MIN_JAVA (found '${major:-none}'); searching ${TE_JVM_ROOT:-/usr/lib/jvm}"
  fi
  for candidate in "${TE_JVM_ROOT:-/usr/lib/jvm}"/*; do
    [ -d "$candidate" ] || continue
    major=$(te_jdk_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$TE_MIN_JAVA" ] && [ "$major" -gt "$best_major" ]; then
      best=$candidate
      best_major=$major
    fi
  done
  [ -n "$best" ] || te_die "no JDK >= $TE_MIN_JAVA found (JAVA_HOME unset or too old, nothing suitable in ${TE_JVM_ROOT:-/usr/lib/jvm}).
  Install one, e.g. Eclipse Temurin 25 (https://adoptium.net/installation/linux/: apt-get install temurin-25-jdk),
  or point JAVA_HOME at a JDK 22 or newer."
  export JAVA_HOME=$best
}

# Prints the packages of "$@" that are not installed.
te_missing_packages() {
  local pkg status
  command -v dpkg-query >/dev/null 2>&1 || te_die "dpkg-query not found: this script supports Debian/Ubuntu only.
  Install by hand the equivalents of: $*"
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || echo "$pkg"
  done
}

# Installs the packages of "$@" that are missing: with apt-get as root, otherwise fails with the
# exact command to run (and, with `--hint TEXT` first, TEXT as another way out).
te_ensure_packages() {
  local missing hint=""
  if [ "${1:-}" = "--hint" ]; then
    hint="
  $2"
    shift 2
  fi
  missing=$(te_missing_packages "$@" | tr '\n' ' ')
  missing=${missing% }
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    te_die "missing Debian packages: $missing
  Run as root:  apt-get update && apt-get install -y --no-install-recommends $missing$hint"
  fi
  te_info "installing missing Debian packages: $missing"
  # Quiet apt, but show its output if it fails: a broken mirror must be visible.
  local log
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q \
         && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    te_die "apt-get failed to install: $missing"
  fi
  rm -f "$log"
  missing=$(te_missing_packages "$@" | tr '\n' ' ')
  [ -z "${missing% }" ] || te_die "still missing after apt-get install: $missing"
}

# Finds mvn on PATH; as root, installs Debian's maven package when it is missing.
te_find_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
      te_ensure_packages maven
    else
      te_die "Maven (mvn) not found on PATH. Install it (as root: apt-get update && apt-get install -y maven)
  or put Apache Maven >= 3.8 on PATH."
    fi
  fi
  command -v mvn >/dev/null 2>&1 || te_die "mvn still not on PATH after installing maven"
}

# Everything the build and the bench need. Safe to call more than once.
te_setup() {
  te_find_jdk
  export PATH="$JAVA_HOME/bin:$PATH"
  # libfabric's psm/psm2 providers install a SIGSEGV backtrace handler when the library loads, which
  # replaces the JVM's own handler (the JVM uses SIGSEGV for null checks and safepoints). This stops it.
  export IPATH_NO_BACKTRACE=1
  te_ensure_packages "${TE_DEBIAN_PACKAGES[@]}"
  te_find_maven
}
