#!/bin/sh
# Install the tools that building and running kestrel needs, if any are missing.
#
#   tools/setup.sh            check; install what is missing with apt-get
#   tools/setup.sh --check    only say what is missing (exit 1 if anything is)
#
# The Makefile runs this before the first build, so a fresh Debian or Ubuntu
# machine needs nothing but `make`. When everything is present it prints
# nothing, exits 0 and takes a few hundredths of a second: every check is a
# PATH lookup, a file test, or one tiny compile, and the Python version check
# runs in the background meanwhile.
#
# What is checked, and the Debian package that provides it:
#
#   make, sed, awk                        make, sed, gawk
#   gcc, and `gcc -m32 -ffreestanding -c` gcc; gcc-multilib if -m32 fails
#     (the boot loader is 32-bit code)
#   ld, objcopy, nm, objdump              binutils
#   qemu-system-x86_64                    qemu-system-x86
#   QEMU's firmware for -machine pc       seabios, ipxe-qemu
#   gdb, unifdef                          gdb, unifdef
#   python3 >= 3.8                        python3
#
# QEMU's firmware: the pc machine needs SeaBIOS (bios-256k.bin), its VGA BIOS
# (vgabios-stdvga.bin) and the default NIC's option ROM (efi-e1000.rom, from
# iPXE); a minimal QEMU install can lack them, and QEMU then refuses to start.
# The quick check looks for these files in QEMU's data directories, which
# sit beside the binary (PREFIX/share/qemu, PREFIX/share/seabios,
# PREFIX/lib/ipxe/qemu, as `qemu-system-x86_64 -L help` lists them). Only if
# a file is not found there does the check really start QEMU, with the
# Makefile's machine and default devices, and quit it at once from its monitor:
# if that works, the firmware is elsewhere and fine.
#
# If something is missing: one line says which packages will be installed,
# then `apt-get update` and `apt-get install --no-install-recommends` run
# (as root, or with sudo), their output going to build/setup.log. Then every
# check runs again; a second round installs what only the first round made
# testable (gcc-multilib, when gcc itself was missing). On failure: one line
# saying so, the log's last lines, exit 1.

usage="usage: tools/setup.sh [--check]"
mode=install
case "${1-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) echo "$usage"; exit 0 ;;
  *) echo "setup: unknown option '$1' ($usage)" >&2; exit 2 ;;
esac
if [ $# -gt 1 ]; then
  echo "setup: too many arguments ($usage)" >&2
  exit 2
fi

cd "$(dirname "$0")/.." || exit 1
LOG=build/setup.log
tmp=${TMPDIR:-/tmp}/kestrel-setup.$$
trap 'rm -f "$tmp".*' EXIT
trap 'exit 130' INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

# need WHAT PACKAGE...: record a missing piece and the packages that provide it.
need() {
  what=$1
  shift
  if [ $# -gt 1 ]; then word=packages; else word=package; fi
  missing="$missing$what: Debian $word $*
"
  for p in "$@"; do
    case " $pkgs " in
      *" $p "*) ;;
      *) pkgs="${pkgs:+$pkgs }$p" ;;
    esac
  done
}

# Is QEMU's firmware for -machine pc there? Quick file test first, then a
# real start of QEMU if the files are not where Debian puts them.
qemu_firmware_ok() {
  prefix=$(dirname "$(command -v qemu-system-x86_64)")/..
  for f in bios-256k.bin vgabios-stdvga.bin efi-e1000.rom; do
    found=no
    for d in share/qemu share/seabios lib/ipxe/qemu; do
      if [ -f "$prefix/$d/$f" ]; then found=yes; break; fi
    done
    [ $found = yes ] || break
  done
  [ "$found" = yes ] && return 0
  echo quit | timeout 20 qemu-system-x86_64 -machine pc -display none -S \
    -monitor stdio -serial none -parallel none >"$tmp.qemu" 2>&1
}

# Run every check; fills $missing (one line each) and $pkgs.
check() {
  missing=
  pkgs=

  # Python's start-up can be slow (a pyenv shim takes ~0.3 s): start it first
  # and collect its answer at the end.
  pypid=
  if have python3; then
    python3 -I -S -c 'import sys; sys.exit(sys.version_info < (3, 8))' \
      >/dev/null 2>&1 </dev/null &
    pypid=$!
  fi

  have make || need make make
  if have gcc; then
    echo 'int kestrel_setup_probe(void) { return 0; }' >"$tmp.c"
    gcc -m32 -ffreestanding -c -o "$tmp.o" "$tmp.c" >/dev/null 2>&1 ||
      need "gcc -m32 (the boot loader is 32-bit code)" gcc-multilib
  else
    need gcc gcc
  fi
  for t in ld objcopy nm objdump; do
    have $t || need $t binutils
  done
  if have qemu-system-x86_64; then
    qemu_firmware_ok ||
      need "QEMU's firmware for -machine pc, SeaBIOS and iPXE ROMs" seabios ipxe-qemu
  else
    need qemu-system-x86_64 qemu-system-x86
  fi
  have gdb || need gdb gdb
  have unifdef || need unifdef unifdef
  have awk || need awk gawk
  have sed || need sed sed

  if [ -n "$pypid" ]; then
    wait "$pypid" || need "python3 >= 3.8 (the python3 on PATH is older or does not run)" python3
  else
    need python3 python3
  fi
}

check
[ -z "$pkgs" ] && exit 0

if [ $mode = check ]; then
  printf '%s' "$missing" | sed 's/^/setup: missing /'
  echo "setup: tools/setup.sh installs them: apt-get install $pkgs"
  exit 1
fi

if ! have apt-get; then
  printf '%s' "$missing" | sed 's/^/setup: missing /' >&2
  echo "setup: no apt-get here: install these with your package manager (Debian names: $pkgs)" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=
elif have sudo; then
  SUDO=sudo
else
  echo "setup: missing tools and not root, no sudo: as root, run: apt-get install --no-install-recommends $pkgs" >&2
  exit 1
fi

if ! { mkdir -p build && (: >"$LOG"); } 2>/dev/null; then
  echo "setup: cannot write $LOG here (to install: apt-get install --no-install-recommends $pkgs)" >&2
  exit 1
fi
tried=
for _ in 1 2; do
  echo "setup: installing $pkgs with ${SUDO:+sudo }apt-get (needed to build and run the kernel)"
  {
    echo "== $(date): missing:"
    printf '%s' "$missing"
    echo "== apt-get update"
  } >>"$LOG"
  # A failed update (one unreachable mirror, say) need not be fatal: the
  # install below says whether the package lists were good enough.
  $SUDO apt-get update -qq >>"$LOG" 2>&1 </dev/null ||
    echo "== apt-get update failed; trying the install anyway" >>"$LOG"
  echo "== apt-get install $pkgs" >>"$LOG"
  # shellcheck disable=SC2086 # $pkgs is a list of words
  if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends -o DPkg::Lock::Timeout=120 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      $pkgs >>"$LOG" 2>&1 </dev/null; then
    echo "setup: apt-get install $pkgs failed; the end of $LOG:" >&2
    tail -n 12 "$LOG" | sed 's/^/  /' >&2
    exit 1
  fi
  tried="$tried $pkgs "

  check
  [ -z "$pkgs" ] && { echo "setup: done:$tried installed"; exit 0; }
  again=
  for p in $pkgs; do
    case "$tried" in *" $p "*) again="$again $p" ;; esac
  done
  if [ -n "$again" ]; then
    echo "setup: still missing after installing$again:" >&2
    printf '%s' "$missing" | sed 's/^/  /' >&2
    [ -s "$tmp.qemu" ] && sed -n '1,3s/^/  qemu: /p' "$tmp.qemu" >&2
    echo "  (see $LOG)" >&2
    exit 1
  fi
done
echo "setup: still missing: $pkgs (see $LOG)" >&2
exit 1
