#!/bin/sh
# `make doctor`: check everything building, booting and debugging kestrel needs.
#
#   tools/doctor.sh
#
# Each check prints one line: "ok: ..." or "problem: what is wrong; fix: how".
# The last line is "doctor: N problems", and the exit status is 1 if there
# was any problem, else 0. Optional things (clang, KVM) are reported but
# never count as problems: without KVM, QEMU emulates the CPU (TCG), slower
# but with the same results.
#
# What is checked, in order: make; gcc (version, -m32 for the 32-bit boot
# loader, -Wall -Werror behaving); clang (optional, for make CC=clang);
# binutils (ld with the elf_i386 and elf_x86_64 emulations, objcopy, nm,
# objdump); QEMU >= 6.2; its firmware (QEMU really starts a -machine pc,
# the SeaBIOS version is read from the BIOS image); GDB (i386:x86-64, Python
# support, tools/gdbhelpers.py loads, and GDB really attaches to a QEMU
# started with -S -gdb and decodes the BIOS's first instruction with x16);
# unifdef; python3 >= 3.8; awk and sed; KVM (/dev/kvm usable by this user);
# build/accel (the Makefile's cached KVM-or-TCG decision); two free TCP ports
# from tools/freeport.py, and the port kept in .gdbport.
#
# Most fixes are "run tools/setup.sh" (which installs what is missing with
# apt-get) or the apt-get command itself.
#
# It takes a second or two: the QEMU and GDB checks start both programs.

cd "$(dirname "$0")/.." || exit 1
if [ $# -gt 0 ]; then
  echo "usage: tools/doctor.sh (no arguments)" >&2
  exit 2
fi

problems=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kestrel-doctor.XXXXXX") || exit 1
qemu_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok: $*"; }
problem() {
  echo "problem: $*"
  problems=$((problems + 1))
}
have() { command -v "$1" >/dev/null 2>&1; }
first_line() { sed -n '/./{p;q;}'; }
# version_ge A B: is dotted version A >= B?
version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" = "$2" ]
}
install_hint() { echo "fix: run tools/setup.sh (or: sudo apt-get install $*)"; }

## make
if have make; then
  ok "make: $(make --version 2>/dev/null | first_line)"
else
  problem "make not found; $(install_hint make)"
fi

## gcc
cat >"$tmp/clean.c" <<'EOF'
int kestrel_doctor(int x) { return x + 1; }
EOF
cat >"$tmp/warn.c" <<'EOF'
int kestrel_doctor(int x) { int unused; return x + 1; }
EOF
if have gcc; then
  ok "gcc $(gcc -dumpfullversion 2>/dev/null || gcc -dumpversion)"
  if gcc -m32 -ffreestanding -c -o "$tmp/m32.o" "$tmp/clean.c" 2>"$tmp/err"; then
    ok "gcc -m32 builds 32-bit code (the boot loader)"
  else
    problem "gcc -m32 fails ($(first_line <"$tmp/err")); $(install_hint gcc-multilib)"
  fi
  if ! gcc -Wall -Werror -m64 -ffreestanding -c -o "$tmp/clean.o" "$tmp/clean.c" 2>"$tmp/err"; then
    problem "gcc -Wall -Werror rejects warning-free code ($(first_line <"$tmp/err")); fix: check CFLAGS/CPATH and the gcc on PATH ($(command -v gcc))"
  elif gcc -Wall -Werror -m64 -ffreestanding -c -o "$tmp/warn.o" "$tmp/warn.c" 2>/dev/null; then
    problem "gcc -Wall -Werror accepts code with a warning (unused variable); fix: use a real gcc, not $(command -v gcc)"
  else
    ok "gcc -Wall -Werror turns warnings into errors"
  fi
else
  problem "gcc not found; $(install_hint gcc)"
fi

## clang: optional
if have clang; then
  if clang -m32 -ffreestanding -c -o "$tmp/clang.o" "$tmp/clean.c" 2>/dev/null; then
    ok "clang $(clang -dumpversion 2>/dev/null) (optional: make CC=clang builds with it)"
  else
    ok "clang $(clang -dumpversion 2>/dev/null) is installed but clang -m32 fails: make CC=clang would fail (optional; gcc is the default)"
  fi
else
  ok "clang not installed (optional: only for make CC=clang)"
fi

## binutils
missing=
for t in ld objcopy nm objdump; do
  have $t || missing="$missing $t"
done
if [ -n "$missing" ]; then
  problem "binutils:$missing not found; $(install_hint binutils)"
else
  emus=$(ld -V 2>/dev/null)
  case "$emus" in
    *elf_i386*elf_x86_64*|*elf_x86_64*elf_i386*)
      ok "binutils: $(ld --version | first_line), with elf_i386 and elf_x86_64" ;;
    *)
      problem "ld lacks the elf_i386 or elf_x86_64 emulation ($(ld --version | first_line)); fix: use an x86-64 host's binutils (sudo apt-get install binutils)" ;;
  esac
fi

## QEMU and its firmware
if have qemu-system-x86_64; then
  qver=$(qemu-system-x86_64 --version 2>/dev/null | first_line |
         sed -n 's/.*version \([0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p')
  if [ -z "$qver" ]; then
    problem "qemu-system-x86_64 --version says nothing usable; fix: reinstall QEMU (sudo apt-get install --reinstall qemu-system-x86)"
  elif version_ge "$qver" 6.2; then
    ok "QEMU $qver (6.2 or later needed)"
  else
    problem "QEMU $qver is too old (6.2 or later needed); fix: a newer distribution's qemu-system-x86 (Debian 12, Ubuntu 22.04 or later)"
  fi

  # The firmware: start the Makefile's machine with its default devices, then
  # quit from the monitor. Fails if the BIOS, VGA BIOS or NIC ROM is missing.
  if echo quit | timeout 20 qemu-system-x86_64 -machine pc -display none -S \
       -monitor stdio -serial none -parallel none >"$tmp/qemu" 2>&1; then
    bios=
    for d in $(qemu-system-x86_64 -L help 2>/dev/null); do
      if [ -f "$d/bios-256k.bin" ]; then bios="$d/bios-256k.bin"; break; fi
    done
    sver=
    [ -n "$bios" ] &&
      sver=$(LC_ALL=C grep -a -o -m 1 -E '1\.[0-9]+\.[0-9]+[A-Za-z0-9.+~-]*' "$bios" 2>/dev/null | head -n 1)
    if [ -n "$bios" ]; then
      ok "SeaBIOS ${sver:+$sver }($(readlink -f "$bios")); QEMU starts a pc machine"
    else
      ok "QEMU starts a pc machine (its BIOS is not in a data directory that -L help lists, but it works)"
    fi
  else
    why=$(grep -v '^QEMU .*monitor\|^(qemu)' "$tmp/qemu" | first_line)
    problem "QEMU cannot start a pc machine (${why:-no message}); $(install_hint seabios ipxe-qemu)"
  fi
else
  problem "qemu-system-x86_64 not found; $(install_hint qemu-system-x86)"
fi

## GDB
if have gdb; then
  gver=$(gdb --version 2>/dev/null | first_line)
  if ! gdb -q -nx -batch -ex 'set architecture i386:x86-64' >"$tmp/gdb" 2>&1 ||
     grep -qi 'undefined\|invalid\|error' "$tmp/gdb"; then
    problem "GDB ($gver) does not know i386:x86-64 ($(first_line <"$tmp/gdb")); fix: sudo apt-get install gdb (not an ARM-only gdb)"
  elif [ "$(gdb -q -nx -batch -ex 'python print(6*7)' 2>/dev/null)" != 42 ]; then
    problem "GDB ($gver) has no Python support, which tools/gdbhelpers.py needs; fix: sudo apt-get install gdb (Debian's gdb has Python)"
  elif ! gdb -q -nx -batch -ex 'source tools/gdbhelpers.py' >"$tmp/gdb" 2>&1 || [ -s "$tmp/gdb" ]; then
    problem "GDB cannot load tools/gdbhelpers.py: $(first_line <"$tmp/gdb")"
  else
    ok "GDB: $gver, with i386:x86-64 and Python; tools/gdbhelpers.py loads"

    # The whole debugging path: QEMU waits on a free port, GDB attaches and
    # decodes the BIOS's first instruction (a far jump) with x16.
    port=
    have qemu-system-x86_64 && have python3 && port=$(python3 tools/freeport.py 2>/dev/null)
    if [ -n "$port" ]; then
      timeout 30 qemu-system-x86_64 -machine pc -display none -nodefaults \
        -monitor none -S -gdb "tcp:127.0.0.1:$port" >"$tmp/qemu-gdb" 2>&1 &
      qemu_pid=$!
      timeout 20 gdb -q -nx -batch -ex 'set architecture i386:x86-64' \
        -ex 'set tcp connect-timeout 5' -ex "target remote 127.0.0.1:$port" \
        -ex 'source tools/gdbhelpers.py' -ex 'x16 1' -ex 'kill' \
        >"$tmp/attach" 2>&1 </dev/null
      kill "$qemu_pid" 2>/dev/null
      wait "$qemu_pid" 2>/dev/null
      qemu_pid=
      if grep -q '=> f000:fff0 .*\(ljmp\|jmp\)' "$tmp/attach"; then
        ok "GDB attaches to QEMU (port $port) and x16 decodes the BIOS's first instruction"
      else
        why=$(grep -i 'error\|refused\|timed out\|x16' "$tmp/attach" "$tmp/qemu-gdb" | sed 's/^[^:]*://' | first_line)
        problem "GDB could not attach to QEMU's gdbstub on port $port (${why:-no message}); fix: check that nothing blocks connections to 127.0.0.1"
      fi
    fi
  fi
else
  problem "gdb not found; $(install_hint gdb)"
fi

## unifdef
if have unifdef; then
  ok "unifdef ($(command -v unifdef))"
else
  problem "unifdef not found (make handout and make test need it); $(install_hint unifdef)"
fi

## python3
if have python3; then
  pver=$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)
  if [ -z "$pver" ]; then
    problem "python3 ($(command -v python3)) does not run; $(install_hint python3)"
  elif version_ge "$pver" 3.8; then
    ok "python3 $pver (3.8 or later needed)"
  else
    problem "python3 $pver is too old (3.8 or later needed); fix: put a newer python3 first on PATH (sudo apt-get install python3)"
  fi
else
  problem "python3 not found; $(install_hint python3)"
fi

## awk, sed
missing=
have awk || missing="$missing awk (gawk)"
have sed || missing="$missing sed (sed)"
if [ -n "$missing" ]; then
  problem "not found:$missing; fix: run tools/setup.sh"
else
  ok "awk and sed"
fi

## KVM
if [ -e /dev/kvm ]; then
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    ok "KVM: /dev/kvm is usable by $(id -un) (the first make qemu checks that a test boot under KVM works)"
  else
    ok "KVM: /dev/kvm exists but $(id -un) cannot use it, so tests run under TCG: slower but fine (to use KVM: sudo usermod -aG kvm $(id -un), then log in again)"
  fi
else
  ok "KVM: no /dev/kvm here, so tests run under TCG (plain emulation): slower but fine"
fi

## build/accel: the Makefile's cached decision
if [ -f build/accel ]; then
  accel=$(cut -d' ' -f1 build/accel)
  model=$(cut -s -d' ' -f2 build/accel)
  kvm_usable=no
  [ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm_usable=yes
  case "$accel/$kvm_usable" in
    kvm/yes) ok "build/accel says kvm: QEMU runs with KVM, CPU model $model (what this host's KVM offers)" ;;
    kvm/no) problem "build/accel says kvm, but /dev/kvm is not usable now; fix: rm build/accel (the next make qemu tests again)" ;;
    tcg/yes) ok "build/accel says tcg although /dev/kvm is usable: a test boot under KVM failed before (rm build/accel to test again)" ;;
    tcg/no) ok "build/accel says tcg: QEMU emulates the CPU" ;;
    *) problem "build/accel holds '$(cat build/accel)', not 'kvm MODEL' or 'tcg MODEL'; fix: rm build/accel" ;;
  esac
else
  ok "build/accel not made yet: the first make qemu or make grade tests KVM and writes it"
fi

## TCP ports (asked through python3, so only if it runs)
if [ -n "${pver-}" ]; then
  p1=$(python3 tools/freeport.py 2>"$tmp/err")
  p2=$(python3 tools/freeport.py 2>>"$tmp/err")
  case "$p1$p2" in
    ''|*[!0-9]*) problem "cannot get a free TCP port on 127.0.0.1 ($(first_line <"$tmp/err")); fix: check the loopback interface (ip link set lo up)" ;;
    *) ok "free TCP ports on 127.0.0.1: the OS offers $p1 and $p2" ;;
  esac
  if [ -f .gdbport ]; then
    gp=$(cat .gdbport)
    if python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$gp" 2>/dev/null; then
      ok "GDB port $gp (from .gdbport) is free"
    else
      ok "GDB port $gp (from .gdbport) is in use now: a make qemu-gdb running? If not: rm .gdbport, or make qemu-gdb GDBPORT=another"
    fi
  fi
fi

if [ $problems -gt 0 ]; then
  echo "doctor: $problems problems"
  exit 1
fi
echo "doctor: 0 problems"
exit 0
