#!/bin/bash
# run-softroce.sh - run a command inside a QEMU (TCG) guest that has a real Soft-RoCE
# verbs device (rdma_rxe, "rxe0") up, print the command's output, exit with its status.
#
#   run-softroce.sh [options] [--] COMMAND [ARGS...]
#   run-softroce.sh --build-only          # just build/refresh the cached image
#
# Options:
#   -v HOST[:GUEST[:ro|rw|rwl]]  share a host directory into the guest over virtio-9p (repeatable; GUEST
#                            defaults to HOST, mode to rw; rwl = writable with the read cache of ro shares,
#                            much faster for class loading, for trees the guest mostly reads)
#   -a HOST:GUEST            copy a host directory into the guest's RAM root at GUEST (appended cpio;
#                            faster than 9p for read-mostly trees such as a jlink'd runtime; repeatable)
#   -C DIR                   working directory in the guest (default: $PWD, or /root with --no-cwd)
#   --no-cwd                 do not auto-share $PWD (rw, same path)
#   --jdk DIR                share DIR read-only at the same path, set JAVA_HOME and PATH in the guest
#                            (default: $SOFTROCE_JDK if set)
#   -e NAME=VALUE            export an environment variable in the guest (repeatable)
#   --net virtio|dummy       netdev under rxe0: virtio-net (user-mode, restricted) or a dummy (default virtio)
#   -m MEM                   guest memory (default 4G)
#   -c N                     guest vCPUs (default: host CPUs)
#   -t SECONDS               wall-clock limit for the whole VM run (default 3600)
#   --rebuild                rebuild the cached image
#   --build-only             build the image (if needed) and exit
#   --stdin                  connect this script's stdin to the command's stdin (virtio console; the
#                            guest never sees EOF, so only for protocols such as a Surefire fork)
#   --keep                   keep the per-run job directory (serial log, dmesg, timings)
#
# Environment: SOFTROCE_CACHE (image cache dir, default <repo>/.cache/softroce, git-ignored),
#              SOFTROCE_MIRROR (Debian mirror; default: the first one in this host's apt sources),
#              SOFTROCE_ACCEL (tcg|kvm|auto, default tcg; auto = kvm if /dev/kvm is usable),
#              SOFTROCE_CPU (TCG CPU model, default max), SOFTROCE_QEMU_EXTRA (extra QEMU args),
#              SOFTROCE_JDK (default for --jdk)
#
# Inside the guest: Debian 12 minbase + rdma-core, ibverbs-utils, ibverbs-providers, iproute2;
# kernel = Debian linux-image-amd64 (6.1); rxe0 on eth0 (10.0.2.15/24); everything runs as root in
# an initramfs (RAM, discarded at power-off).
#
# Host packages (qemu-system-x86, qemu-utils, debootstrap, cpio) are installed with apt-get when
# missing and we run as root; otherwise the script says what to install.
#
# Adapted for this project from the Soft-RoCE recipe measured in docs/verbs.md (section "Soft-RoCE").
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SOFTROCE_CACHE:-$REPO/.cache/softroce}
host_apt_uri() {  # first apt URI of this host whose path matches $1 (deb822 or one-line sources)
  local f uris=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && uris+=$(awk '/^URIs:/{for(i=2;i<=NF;i++)print $i}' "$f")$'\n'
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] && uris+=$(awk '/^deb /{print $2}' "$f")$'\n'
  done
  printf '%s' "$uris" | grep -E "$1" | head -1 || true
}
MIRROR=${SOFTROCE_MIRROR:-$(host_apt_uri '/debian/?$')}
SECURITY_MIRROR=${SOFTROCE_SECURITY_MIRROR:-$(host_apt_uri 'debian-security/?$')}
SUITE=bookworm
PKGS=rdma-core,ibverbs-utils,ibverbs-providers,libibverbs1,iproute2,kmod,procps
# modules (with dependencies) copied into the image
MODS="crc32_generic crc32_pclmul rdma_rxe rdma_ucm ib_umad ib_uverbs virtio_pci virtio_net virtio_console virtio_rng 9p 9pnet_virtio dummy sch_netem"
IMAGE_VERSION=te2   # bump when the build recipe changes (guest-init.sh changes are detected by hash)

MEM=4G; CPUS=$(nproc); TIMEOUT=3600; NET=virtio; WORKDIR=; SHARE_CWD=1
JDK=${SOFTROCE_JDK:-}; REBUILD=0; BUILD_ONLY=0; KEEP=0; STDIN=0
declare -a SHARES=() ENVS=() ADDS=()

die() { echo "run-softroce: $*" >&2; exit 125; }
note() { echo "run-softroce: $*" >&2; }

# Installs the host tools this script needs when one is missing (CI machines start bare).
ensure_host_tools() {
  local missing=""
  command -v qemu-system-x86_64 >/dev/null || missing+=" qemu-system-x86 qemu-utils"
  command -v debootstrap >/dev/null || missing+=" debootstrap"
  command -v cpio >/dev/null || missing+=" cpio"
  [ -n "$missing" ] || return 0
  [ "$(id -u)" = 0 ] || die "missing host packages:$missing (install them, or run as root so this script can)"
  note "installing host packages:$missing ..."
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends)
  # shellcheck disable=SC2086
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" $missing > "$CACHE/apt-host.log" 2>&1; then
    apt-get -q -o DPkg::Lock::Timeout=600 update >> "$CACHE/apt-host.log" 2>&1 || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" $missing >> "$CACHE/apt-host.log" 2>&1 \
      || { tail -20 "$CACHE/apt-host.log" >&2; die "apt-get install$missing failed"; }
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    -v) SHARES+=("$2"); shift 2;;
    -a) ADDS+=("$2"); shift 2;;
    -C) WORKDIR=$2; shift 2;;
    --no-cwd) SHARE_CWD=0; shift;;
    --jdk) JDK=$2; shift 2;;
    -e) ENVS+=("$2"); shift 2;;
    --net) NET=$2; shift 2;;
    -m) MEM=$2; shift 2;;
    -c) CPUS=$2; shift 2;;
    -t) TIMEOUT=$2; shift 2;;
    --rebuild) REBUILD=1; shift;;
    --build-only) BUILD_ONLY=1; shift;;
    --keep) KEEP=1; shift;;
    --stdin) STDIN=1; shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    --) shift; break;;
    -*) die "unknown option $1";;
    *) break;;
  esac
done

KVER_FILE=$CACHE/kernel-version
ROOTFS=$CACHE/rootfs
INIT_HASH=$(sha256sum < "$HERE/guest-init.sh" | cut -c1-16)

build_rootfs() {   # slow part (~2 min): debootstrap + Debian kernel + module subset
  [ "$(id -u)" = 0 ] || die "building the image needs root (debootstrap, chroot)"
  command -v debootstrap >/dev/null || die "install debootstrap"
  local t0=$SECONDS b=$CACHE/build
  rm -rf "$b" "$ROOTFS" "$CACHE/rootfs.stamp"; mkdir -p "$b"
  local root=$b/rootfs
  note "debootstrap $SUITE minbase (+$PKGS) ..."
  debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$root" "$MIRROR" > "$b/debootstrap.log" 2>&1 \
    || { tail -20 "$b/debootstrap.log" >&2; die "debootstrap failed (log: $b/debootstrap.log)"; }

  note "fetching the Debian kernel package (through the rootfs' apt, independent of the host distro) ..."
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SECURITY_MIRROR" "$SUITE" > "$root/etc/apt/sources.list"
  chroot "$root" apt-get -q update > "$b/apt.log" 2>&1 || { tail "$b/apt.log" >&2; die "apt-get update in rootfs failed"; }
  local kpkg
  kpkg=$(chroot "$root" apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$kpkg" ] || die "cannot resolve linux-image-amd64"
  chroot "$root" sh -c "cd /tmp && apt-get -q download $kpkg" >> "$b/apt.log" 2>&1 \
    || { tail "$b/apt.log" >&2; die "kernel download failed"; }
  mkdir -p "$b/kernel"
  dpkg-deb -x "$root"/tmp/"$kpkg"_*.deb "$b/kernel"
  rm -f "$root"/tmp/*.deb
  local kver
  kver=$(ls "$b/kernel/lib/modules")
  cp "$b/kernel/boot/vmlinuz-$kver" "$CACHE/vmlinuz"

  note "selecting modules for $kver ..."
  mkdir -p "$root/lib/modules"
  cp -a "$b/kernel/lib/modules/$kver" "$root/lib/modules/"
  chroot "$root" depmod "$kver"
  local m list=$b/modlist
  : > "$list"
  for m in $MODS; do
    chroot "$root" modprobe -S "$kver" --show-depends "$m" | awk '$1=="insmod"{print $2}' >> "$list" \
      || die "module $m missing from $kver"
  done
  sort -u -o "$list" "$list"
  rm -rf "$root/lib/modules/$kver"
  mkdir -p "$root/lib/modules/$kver"
  cp "$b/kernel/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
  while read -r m; do
    local rel=${m#/lib/modules/$kver/}
    mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
    cp "$b/kernel/lib/modules/$kver/$rel" "$root/lib/modules/$kver/$rel"
  done < "$list"
  chroot "$root" depmod "$kver"

  rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
         "$root"/var/cache/debconf/*-old "$root"/var/log/*
  printf '127.0.0.1\tlocalhost softroce\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
  echo softroce > "$root/etc/hostname"
  : > "$root/etc/resolv.conf"
  mv "$root" "$ROOTFS"
  echo "$kver" > "$KVER_FILE"
  echo "$IMAGE_VERSION" > "$CACHE/rootfs.stamp"
  rm -rf "$b"
  note "rootfs built in $((SECONDS - t0)) s (kernel $kver)"
}

pack_initrd() {    # fast part (~2 s): guest-init.sh + rootfs -> uncompressed initramfs
  command -v cpio >/dev/null || die "install cpio"
  install -m 0755 "$HERE/guest-init.sh" "$ROOTFS/init"
  (cd "$ROOTFS" && find . -print0 | cpio --null -o -H newc --quiet) > "$CACHE/initrd.cpio.tmp"
  mv "$CACHE/initrd.cpio.tmp" "$CACHE/initrd.cpio"
  echo "$IMAGE_VERSION $INIT_HASH" > "$CACHE/initrd.stamp"
  note "initramfs packed: $(du -h "$CACHE/initrd.cpio" | cut -f1)"
}

mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"; flock 9
ensure_host_tools
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=http://deb.debian.org/debian-security
if [ "$REBUILD" = 1 ] || [ "$(cat "$CACHE/rootfs.stamp" 2>/dev/null)" != "$IMAGE_VERSION" ]; then build_rootfs; fi
if [ "$(cat "$CACHE/initrd.stamp" 2>/dev/null)" != "$IMAGE_VERSION $INIT_HASH" ] || [ ! -f "$CACHE/initrd.cpio" ]; then pack_initrd; fi
flock -u 9
[ "$BUILD_ONLY" = 1 ] && exit 0
[ $# -gt 0 ] || die "no command given (see --help)"
command -v qemu-system-x86_64 >/dev/null || die "install qemu-system-x86"

JOB=$(mktemp -d /tmp/softroce-job.XXXXXX)
QPID= OUTCAT= ERRCAT= INPID=
cleanup() {
  local p
  for p in $QPID $INPID $OUTCAT $ERRCAT; do kill "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then note "job dir kept: $JOB"; else rm -rf "$JOB"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- shares --------------------------------------------------------------------------
declare -a VIRTFS=()
: > "$JOB/mounts"
n=0
add_share() {  # host guest mode
  local h g m cache ro=""
  h=$(cd "$1" && pwd) || die "no such directory: $1"; g=$2; m=$3
  n=$((n + 1))
  case "$m" in
    ro) cache=loose; ro=",readonly=on" ;;
    rwl) cache=loose; m=rw ;;   # writable, but cached like a read-only share: the guest only reads it, mostly
    *) cache=mmap ;;
  esac
  VIRTFS+=(-virtfs "local,path=$h,mount_tag=s$n,security_model=none$ro")
  echo "s$n $g $cache $m" >> "$JOB/mounts"
}
if [ -n "$JDK" ]; then add_share "$JDK" "$(cd "$JDK" && pwd)" ro; fi
for s in "${SHARES[@]}"; do
  IFS=: read -r h g m <<< "$s"
  [ -n "$g" ] || g=$(cd "$h" && pwd)
  add_share "$h" "$g" "${m:-rw}"
done
if [ "$SHARE_CWD" = 1 ]; then add_share "$PWD" "$PWD" rw; fi
[ -n "$WORKDIR" ] || { if [ "$SHARE_CWD" = 1 ]; then WORKDIR=$PWD; else WORKDIR=/root; fi; }

# --- command -------------------------------------------------------------------------
{
  echo '#!/bin/bash'
  echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8'
  if [ -n "$JDK" ]; then
    j=$(cd "$JDK" && pwd); printf 'export JAVA_HOME=%q PATH=%q:$PATH\n' "$j" "$j/bin"
  fi
  for e in "${ENVS[@]}"; do printf 'export %q=%q\n' "${e%%=*}" "${e#*=}"; done
  printf 'cd %q || exit 126\n' "$WORKDIR"
  printf 'exec'; printf ' %q' "$@"; echo
} > "$JOB/cmd.sh"
echo "$NET" > "$JOB/net"
[ "$STDIN" = 1 ] && : > "$JOB/stdin"
# Guest stdio runs over two virtio consoles backed by FIFO pairs (QEMU "pipe" chardev reads X.in,
# writes X.out): hvc0 -> our stdout (and our stdin -> hvc0 with --stdin), hvc1 -> our stderr.
mkfifo "$JOB/out.in" "$JOB/out.out" "$JOB/err.in" "$JOB/err.out"
cat "$JOB/out.out" &
OUTCAT=$!
cat "$JOB/err.out" >&2 &
ERRCAT=$!
exec {OUTW}<>"$JOB/out.out" {ERRW}<>"$JOB/err.out"  # hold writers until QEMU is gone (cat neither blocks nor ends early)
if [ "$STDIN" = 1 ]; then
  # forward stdin only once the guest has switched hvc0 to raw/-echo (else early bytes get echoed)
  # (explicit <&0: a background job in a non-interactive shell would otherwise get /dev/null)
  ( while [ ! -e "$JOB/ready" ]; do [ -e "$JOB/rc" ] && exit 0; sleep 0.05; done
    exec cat > "$JOB/out.in" ) <&0 &
  INPID=$!
fi

INITRD=$CACHE/initrd.cpio
if [ ${#ADDS[@]} -gt 0 ]; then   # Linux accepts concatenated cpio archives as one initramfs
  mkdir -p "$JOB/stage"
  for a in "${ADDS[@]}"; do
    h=${a%%:*}; g=${a#*:}; [ "$g" != "$a" ] || g=$(cd "$h" && pwd)
    mkdir -p "$JOB/stage/$(dirname "$g")"
    cp -al "$h" "$JOB/stage/$g" 2>/dev/null || cp -a "$h" "$JOB/stage/$g"
  done
  (cd "$JOB/stage" && find . -print0 | cpio --null -o -H newc --quiet) | cat "$CACHE/initrd.cpio" - > "$JOB/initrd.cpio"
  rm -rf "$JOB/stage"
  INITRD=$JOB/initrd.cpio
fi

NETARGS=(-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0)
[ "$NET" = dummy ] && NETARGS=()

# TCG by default: on this project's machines /dev/kvm exists, but a KVM guest hung before its first
# console line (nested virtualisation); opt in with SOFTROCE_ACCEL=kvm or auto where KVM is known good.
ACCEL=${SOFTROCE_ACCEL:-tcg}
if [ "$ACCEL" = auto ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then ACCEL_ARGS=(-accel kvm -cpu host)
else ACCEL_ARGS=(-accel tcg,thread=multi -cpu "${SOFTROCE_CPU:-max}"); fi

T0=$(date +%s.%N)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
  "${ACCEL_ARGS[@]}" -m "$MEM" -smp "$CPUS" ${SOFTROCE_QEMU_EXTRA:-} \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$CACHE/vmlinuz" -initrd "$INITRD" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -serial "file:$JOB/serial.log" \
  -device virtio-serial-pci \
  -chardev "pipe,id=hvc0,path=$JOB/out" -device virtconsole,chardev=hvc0 \
  -chardev "pipe,id=hvc1,path=$JOB/err" -device virtconsole,chardev=hvc1 \
  -device virtio-rng-pci \
  "${NETARGS[@]}" \
  -virtfs "local,path=$JOB,mount_tag=job,security_model=none" \
  "${VIRTFS[@]}" < /dev/null &
QPID=$!
set +e
wait $QPID; qrc=$?
exec {OUTW}>&- {ERRW}>&-
wait $OUTCAT $ERRCAT 2>/dev/null
set -e
QPID= OUTCAT= ERRCAT=
T1=$(date +%s.%N)

if [ -f "$JOB/rc" ]; then
  rc=$(cat "$JOB/rc")
  note "guest: $(tr '\n' ' ' 2>/dev/null < "$JOB/timings.txt")| wall $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s | rc=$rc"
  exit "$rc"
fi
note "no exit status from the guest (qemu rc=$qrc; 124 = timeout). Serial log tail:"
tail -30 "$JOB/serial.log" >&2 || true
KEEP=1
exit 125
