#!/bin/sh
# Decide how QEMU should run here: the accelerator (kvm or tcg) and the CPU model.
#
#   tools/probe-accel.sh MODEL QEMU-COMMAND...    prints "kvm MODEL'" or "tcg MODEL"
#
# QEMU-COMMAND is the Makefile's full QEMU command line for the kernel, with
# -cpu MODEL and without -accel, booting the kernel's "probe" self-test
# (which prints "selftest: probe ok" and makes QEMU exit). KVM counts as
# usable only if that boot succeeds under it: /dev/kvm can exist and still
# fail, e.g. nested virtualization that rejects a CPU model or an MSR. Any
# failure falls back to TCG (plain emulation: slower, same results) with a
# one-line notice on stderr.
#
# Under KVM the guest gets only the CPU features the host's KVM offers, and
# QEMU warns at every boot about each feature of MODEL it had to drop
# ("host doesn't support requested feature: CPUID.07H:EBX.smep [bit 7]").
# MODEL' is MODEL with those features turned off explicitly, which silences
# the warnings and says in the command line what the guest really has. The
# Makefile caches the answer in build/accel.

if [ $# -lt 2 ]; then
  echo "usage: tools/probe-accel.sh MODEL QEMU-COMMAND..." >&2
  exit 2
fi
model=$1 asked=$1
shift

# kvm_boot QEMU-COMMAND... [-cpu MODEL']: boot the probe under KVM (a later
# -cpu overrides the command's own); its output in $out. -snapshot: the
# probe never writes the disk, nor needs its write lock (a make qemu
# elsewhere may hold it).
kvm_boot() {
  out=$(timeout 30 "$@" -accel kvm -snapshot 2>&1 </dev/null)
}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  echo "accel: /dev/kvm is missing or not accessible; using TCG (plain emulation, slower)" >&2
  echo "tcg $model"
  exit 0
fi

kvm_boot "$@"
if ! printf '%s\n' "$out" | grep -q "selftest: probe ok"; then
  why=$(printf '%s\n' "$out" | grep -v "^$\|requested feature" | head -n 1)
  echo "accel: a test boot under KVM failed (${why:-no output}); using TCG (plain emulation, slower)" >&2
  echo "tcg $model"
  exit 0
fi

dropped=$(printf '%s\n' "$out" |
  sed -n 's/.*requested feature: CPUID[^ ]*\.\([A-Za-z0-9_-]*\) \[bit.*/\1/p' | sort -u)
for f in $dropped; do
  case ",$model," in
    *",+$f,"*) model=$(echo ",$model," | sed "s/,+$f,/,/; s/^,//; s/,\$//") ;;
    *) model="$model,-$f" ;;
  esac
done
# Check that the trimmed model boots too, and without warnings.
kvm_boot "$@" -cpu "$model"
if printf '%s\n' "$out" | grep -q "selftest: probe ok"; then
  echo "kvm $model"
else
  echo "accel: KVM boots only with CPU features this host lacks; using TCG (plain emulation, slower)" >&2
  echo "tcg $asked"
fi
