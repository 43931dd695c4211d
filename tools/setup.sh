#!/bin/sh
# Check the tools that building, running, debugging and grading kestrel need.
#
#   tools/setup.sh           say what is missing, then apt-get it (with sudo
#                            when not root); silent when nothing is
#   tools/setup.sh --check   `make doctor`: "ok: ..." lines, "problem: ...;
#                            fix: ..." lines, "setup: N problems" (exit 1 if
#                            any); adds GDB on QEMU, bwrap, KVM, ports, ...
#
# Each check does what the build does and names the Debian packages that make
# it pass: installed without recommends, a minimal Debian (debootstrap
# --variant=minbase) gets gcc without libc6-dev, python3-minimal without most
# of the standard library, QEMU without firmware. They run side by side.

cd "$(dirname "$0")/.." || exit 1
case "$*" in
  "") mode=install ;;
  --check) mode=check ;;
  *) echo "setup: usage: tools/setup.sh [--check]" >&2; exit 2 ;;
esac

# The checks take a second: skip them when they passed before and since then
# no package came or went (dpkg's status), nor PATH or the files read changed.
LOG=build/setup.log STAMP=build/.setup-ok
state() {
  { echo "$PATH ${TOOLPREFIX-}"; ls -l --full-time /var/lib/dpkg/status
    cat tools/*.* mkfs/*.c grade/*.py; } 2>/dev/null | cksum
}
[ $mode = install ] && [ "$(state)" = "$(cat $STAMP 2>/dev/null)" ] && exit 0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kestrel-setup.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

P=${TOOLPREFIX-}   # the Makefile's cross-toolchain prefix (TOOLPREFIX=x86_64-elf-), if any
GDB=$(command -v "${P}gdb" || echo gdb)

# have COMMAND...: prints where they are, or (on stderr) which one is missing.
have() { for c; do command -v "$c" || { echo "$c not found" >&2; return 1; }; done; }

# need PACKAGES|"fix: HOW" WHAT COMMAND...: run COMMAND in the background.
# The first line it prints details WHAT's ok line, or says what went wrong.
n=0
need() {
  n=$((n + 1))
  printf '%s\n%s\n' "$1" "$2" >"$tmp/$n.what"
  shift 2
  { "$@"; echo $? >"$tmp/$n.rc"; } >"$tmp/$n.out" 2>&1 </dev/null &
}

gcc_ok() { have cc >/dev/null && "${P}gcc" --version; }
host_c() {
  { grep -h '^#include <' mkfs/*.c; echo 'int main(void) { return 0; }'; } >"$tmp/host.c"
  cc -Wall -Werror -o "$tmp/host" "$tmp/host.c" && "$tmp/host"
}
boot_c() {   # (without gcc, the gcc check speaks: this one runs after the install)
  ! command -v "${P}gcc" >/dev/null || echo 'int f(void) { return 0; }' |
    "${P}gcc" -m32 -march=i686 -ffreestanding -nostdinc -c -o "$tmp/boot.o" -x c -
}
binutils_ok() {   # (x16 in GDB uses the host's objdump)
  have "${P}objcopy" "${P}nm" objdump >/dev/null && "${P}ld" -V | grep -q elf_i386 &&
    "${P}ld" -V | grep -q elf_x86_64 && "${P}ld" --version
}
qemu_version() {
  have qemu-system-x86_64 >/dev/null && qemu-system-x86_64 --version |
    awk 'NR == 1 { print; split($4, v, "."); exit !(v[1] > 6 || v[1] == 6 && v[2] >= 2) }'
}
qemu_firmware() {   # QEMU refuses to start when a ROM of the pc machine is missing
  echo quit | timeout 20 qemu-system-x86_64 -machine pc -display none -S \
    -monitor stdio -serial none -parallel none >"$tmp/fw" 2>&1 ||
    { grep -v '^QEMU\|^(qemu)' "$tmp/fw"; return 1; }
}
gdb_ok() {
  py='gdb.execute("set architecture i386:x86-64"); gdb.execute("source tools/gdbhelpers.py")'
  "$GDB" -q -nx -batch -ex "python $py; print('GDB', gdb.VERSION, 'with Python')" | grep GDB
}
python_ok() {   # every module our Python files import, but their own
  files="grade/*.py tools/*.py"
#if INSTRUCTOR
  files="$files instructor/*.py"
#endif
  # shellcheck disable=SC2086 # a list of file patterns
  python3 -I -S - $files <<'EOF'
import importlib, os, re, sys
if sys.version_info < (3, 8):
    sys.exit("python3 %s is older than 3.8" % sys.version.split()[0])
files = sys.argv[1:]
ours = {"gdb"} | {os.path.basename(p)[:-3] for p in files}
for p in files:
    for m in re.findall(r"^ *(?:from ([\w.]+) import|import ([\w.]+))", open(p).read(), re.M):
        if (m[0] + m[1]).split(".")[0] not in ours:
            importlib.import_module(m[0] + m[1])
print("Python", sys.version.split()[0])
EOF
}

gdb_attach() {   # the whole debugging path: QEMU waits, GDB attaches, x16 decodes
  port=$(python3 tools/freeport.py) || return 1
  timeout 30 qemu-system-x86_64 -machine pc -display none -nodefaults -S \
    -gdb "tcp:127.0.0.1:$port" >"$tmp/qemu" 2>&1 &
  timeout 20 "$GDB" -q -nx -batch -iex 'set tcp connect-timeout 10' \
    -ex 'set architecture i386:x86-64' -ex "target remote 127.0.0.1:$port" \
    -ex 'source tools/gdbhelpers.py' -ex 'x16 1' -ex kill >"$tmp/gdb" 2>&1
  kill $! 2>/dev/null
  grep '=> f000:fff0 .*jmp' "$tmp/gdb" || { grep -ih 'error\|refused\|x16' "$tmp/gdb" "$tmp/qemu"; false; }
}
clang_info() { clang --version 2>/dev/null || echo "not installed (optional: for make CC=clang)"; }
kvm_info() {
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo "/dev/kvm usable (KVM is chosen if its timed probe boot passes and beats TCG)"
  elif [ -e /dev/kvm ]; then echo "$(id -un) may not use /dev/kvm (fix: sudo usermod -aG kvm $(id -un))"
  else echo "no /dev/kvm: tests run under TCG, plain emulation: slower, same results"
  fi
}
accel_ok() {   # the Makefile's choice, from timed probe boots (tools/probe-accel.py)
  [ -f build/accel ] || { echo "not made yet (the first make qemu makes it)"; return; }
  read -r accel model times <build/accel
  echo "$accel chosen; probe boot times: $times; CPU model $model"
  [ "$accel" = tcg ] || { [ "$accel" = kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }
}
ports_ok() {
  p1=$(python3 tools/freeport.py) && p2=$(python3 tools/freeport.py) || return 1
  echo "the OS offers $p1 and $p2$([ -f .gdbport ] && echo "; .gdbport keeps $(cat .gdbport)")"
}

checks() {
  n=0
  need make make have make
  need gcc "gcc and cc" gcc_ok
  need libc6-dev "host C programs with mkfs/'s headers" host_c
  need gcc-multilib "gcc -m32 (the boot loader is 32-bit code)" boot_c
  need binutils "binutils with elf_i386 and elf_x86_64" binutils_ok
  need qemu-system-x86 "QEMU 6.2 or later" qemu_version
  need "seabios ipxe-qemu" "QEMU's firmware for -machine pc" qemu_firmware
  need gdb "GDB with i386:x86-64, Python and tools/gdbhelpers.py" gdb_ok
  need python3 "python3 >= 3.8 and the modules the grader imports" python_ok
  need unifdef unifdef have unifdef
  need gawk awk have awk
  need sed sed have sed
  need coreutils timeout have timeout
  need bubblewrap "bwrap, the batch grader's sandbox" have bwrap
#if INSTRUCTOR
  need clang "clang (make test builds the kernel with it too)" have clang
#endif
  [ $mode = check ] || return 0
  # (Each of these only where its tools are, lest one problem count twice;
  # GDB's once the kernel is built: its helpers read build/consts.)
  have "$GDB" qemu-system-x86_64 python3 >/dev/null 2>&1 && [ -f build/consts ] &&
    need "fix: check that nothing blocks connections to 127.0.0.1" \
      "GDB attaches to QEMU; x16 shows the BIOS's first instruction" gdb_attach
  have bwrap >/dev/null 2>&1 &&
    need "fix: allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), outside a chroot" \
      "bwrap runs a sandbox" bwrap --ro-bind / / true
  need "" clang clang_info
  need "" KVM kvm_info
  need "fix: rm build/accel (the next make qemu probes again)" "accelerator (build/accel)" accel_ok
  need "fix: check the loopback interface (ip link set lo up)" "free TCP ports on 127.0.0.1" ports_ok
}

# report: wait for the checks; sets $pkgs, and $problems (one line each). In
# check mode, prints the ok lines, then the problems.
report() {
  wait
  pkgs='' problems='' i=0
  while [ $i -lt $n ]; do
    i=$((i + 1))
    { read -r fix; read -r what; } <"$tmp/$i.what"
    detail=$(sed -n '/./{p;q;}' "$tmp/$i.out")
    if [ "$(cat "$tmp/$i.rc")" = 0 ]; then
      [ $mode = install ] || echo "ok: $what${detail:+: $detail}"
      continue
    fi
    case $fix in
      "fix: "*) ;;
      *) pkgs="$pkgs $fix" fix="fix: run tools/setup.sh (or: sudo apt-get install $fix)" ;;
    esac
    problems="${problems}problem: $what${detail:+ ($detail)}; $fix
"
  done
  [ $mode = install ] || printf '%s' "$problems"
}

# apt_install PACKAGES: apt-get them, having said so; the details go to $LOG.
apt_install() {
  sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! have apt-get $sudo >/dev/null; then
    printf '%ssetup: no %s here: install with your package manager (Debian names):%s\n' \
      "$problems" "${sudo:+sudo or }apt-get" "$1" >&2
    exit 1
  fi
  echo "setup: installing$1 with ${sudo:+sudo }apt-get (needed to build and run the kernel)"
  mkdir -p build
  # A failed update (one mirror down) need not be fatal: the install says.
  $sudo apt-get update -qq >>"$LOG" 2>&1 </dev/null
  # shellcheck disable=SC2086 # a list of packages
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=120 $1 >>"$LOG" 2>&1 </dev/null && return
  echo "setup: apt-get install$1 failed; the end of $LOG:" >&2
  tail -n 12 "$LOG" | sed 's/^/  /' >&2
  exit 1
}

checks
report
if [ $mode = check ]; then
  echo "setup: $(printf '%s' "$problems" | grep -c .) problems"
  [ -z "$problems" ]
  exit
fi
# A second round: gcc-multilib is only checked once gcc is there.
tried=
while [ -n "$pkgs" ]; do
  for p in $pkgs; do
    case "$tried " in *" $p "*)
      printf 'setup: still missing after installing%s (see %s):\n%s' "$tried" "$LOG" "$problems" >&2
      exit 1 ;;
    esac
  done
  apt_install "$pkgs"
  tried="$tried$pkgs"
  checks
  report
done
[ -z "$tried" ] || echo "setup: done:$tried installed"
mkdir -p build && state >$STAMP
