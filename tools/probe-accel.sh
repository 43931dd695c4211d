#!/bin/sh
# Decide how QEMU runs here: prints "kvm MODEL'" or "tcg MODEL" (the Makefile
# keeps it in build/accel).
#
#   tools/probe-accel.sh MODEL QEMU-COMMAND...
#
# QEMU-COMMAND boots the kernel's "probe" self-test with -cpu MODEL (it prints
# "selftest: probe ok" and makes QEMU exit). KVM counts only if that boot works
# under it: /dev/kvm can exist and still fail (nested virtualization may reject
# the model or an MSR). Otherwise TCG: plain emulation, slower, same results.
#
# Under KVM the guest gets only the CPU features the host's KVM has, and QEMU
# warns at every boot about each one it drops ("host doesn't support requested
# feature: CPUID.07H:EBX.smep [bit 7]"). MODEL' turns those off (",-smep"
# overrides "+smep"): no warnings, and the command line says what the guest has.

if [ $# -lt 2 ]; then
  echo "usage: tools/probe-accel.sh MODEL QEMU-COMMAND..." >&2
  exit 2
fi
model=$1
shift
# -snapshot: the probe never writes the disk, nor needs its lock (a make qemu
# elsewhere may hold it).
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  why="/dev/kvm is missing or not accessible"
elif out=$(timeout 30 "$@" -accel kvm -snapshot 2>&1 </dev/null);
     ! printf '%s\n' "$out" | grep -q "selftest: probe ok"; then
  why="a test boot under KVM failed: $(printf '%s\n' "$out" | grep -v '^$\|requested feature' | head -n 1)"
else
  for f in $(printf '%s\n' "$out" | sed -n 's/.*requested feature: CPUID[^ ]*\.\([a-z0-9_-]*\) \[bit.*/\1/p' | sort -u); do
    model="$model,-$f"
  done
  echo "kvm $model"
  exit 0
fi
echo "accel: $why; using TCG (plain emulation, slower)" >&2
echo "tcg $model"
