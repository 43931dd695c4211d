#!/bin/sh
# Decide which accelerator QEMU should use here: kvm or tcg.
#
#   tools/probe-accel.sh QEMU-COMMAND...     prints "kvm" or "tcg"
#
# QEMU-COMMAND is the Makefile's full QEMU command line for the kernel,
# without -accel, booting the kernel's "probe" self-test (which prints
# "selftest: probe ok" and makes QEMU exit). KVM counts as usable only if
# that boot succeeds under it: /dev/kvm can exist and still fail, e.g.
# nested virtualization that rejects a CPU model or an MSR. Any failure
# falls back to TCG (plain emulation: slower, same results) with a one-line
# notice on stderr. The Makefile caches the answer in build/accel.

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
  echo "accel: /dev/kvm is missing or not accessible; using TCG (plain emulation, slower)" >&2
  echo tcg
  exit 0
fi

out=$(timeout 30 "$@" -accel kvm 2>&1 </dev/null)
if printf '%s\n' "$out" | grep -q "selftest: probe ok"; then
  echo kvm
else
  why=$(printf '%s\n' "$out" | grep -v '^$' | head -n 1)
  echo "accel: a test boot under KVM failed (${why:-no output}); using TCG (plain emulation, slower)" >&2
  echo tcg
fi
