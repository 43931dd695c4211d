#!/usr/bin/env python3
"""Choose how QEMU runs here, by measurement. Prints the line the Makefile
keeps in build/accel:

    ACCEL MODEL tcg=SECONDS kvm=SECONDS-or-why

    tools/probe-accel.py MODEL QEMU-COMMAND...

QEMU-COMMAND boots the kernel's probe self-test (test=probe in
kern/test/selftest.c: stac/clac where SMAP is on, timer interrupts, and from lab
4 a user process making a system call) with -cpu MODEL. A probe boot passes
when the kernel says "selftest: probe ok" and powers QEMU off with status 0
(QEMU's exit status 1). The probe boots under TCG, then under KVM, twice
each, and keeps each one's faster time. KVM is chosen only if its boot
passes and is faster than TCG's: on a nested host /dev/kvm can exist, pass
a boot and still be slower (SeaBIOS taking 10-20 s), or stop the machine
with an "emulation failure" at the first clac. Otherwise TCG, and one line
on stderr says why, with both times.

Under KVM the guest gets only the CPU features the host's KVM has: QEMU
warns about each one it drops ("host doesn't support requested feature:
CPUID.07H:EBX.smap [bit 20]"), and the kernel's vm: line says whether SMEP
and SMAP are on. The model kept names each feature once, as the guest gets
it: a dropped "+smap" is removed, never followed by "-smap"; a guest that
reports SMEP or SMAP against what the model says fails the probe.
"""

import re
import subprocess
import sys
import time

TCG_LIMIT = 60          # seconds a TCG probe boot may take (a loaded machine)
KVM_SLACK = 10          # KVM may take this much longer than TCG before it is cut off
FEATURE = re.compile(r"requested feature: CPUID\S*\.([a-z0-9_-]+) \[bit")


def boot(argv, accel, limit):
    """(seconds, output, why): why is "" when the probe boot passed."""
    start = time.monotonic()
    try:
        p = subprocess.run(argv + ["-accel", accel, "-snapshot"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=limit)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode(errors="replace")
        stop = re.findall(r"KVM internal error.*|emulation failure", out)
        return limit, out, ("QEMU stopped the machine: " + ", ".join(stop) if stop
                            else f"no power-off in {limit:.0f} s")
    seconds = time.monotonic() - start
    out = p.stdout.decode(errors="replace")
    if "selftest: probe ok" in out and p.returncode == 1:
        return seconds, out, ""
    lines = [l for l in out.splitlines() if l.strip() and "requested feature" not in l]
    last = lines[-1] if lines else "nothing printed"
    return seconds, out, f"QEMU status {p.returncode}: {last}"


def best_of_two(argv, accel, limit):
    first = boot(argv, accel, limit)
    if first[2]:
        return first
    second = boot(argv, accel, limit)
    return second if not second[2] and second[0] < first[0] else first


def guest_model(model, out):
    """model as a KVM guest gets it; (model, why the guest disagrees or "")."""
    dropped = set(FEATURE.findall(out))
    parts = model.split(",")
    kept = [p for p in parts if not (p.startswith("+") and p[1:] in dropped)]
    kept += [f"-{f}" for f in sorted(dropped) if f"+{f}" not in parts and f"-{f}" not in parts]
    m = re.search(r"SMEP (on|absent), SMAP (on|absent)", out)
    for name, seen in zip(("smep", "smap"), m.groups() if m else ()):
        asked = f"+{name}" in kept
        if (seen == "on") != asked:
            return ",".join(kept), (f"the guest has {name.upper()} {seen} where the CPU "
                                    f"model {'asks for it' if asked else 'leaves it out'}")
    return ",".join(kept), ""


def main(args):
    if len(args) < 2:
        print("usage: tools/probe-accel.py MODEL QEMU-COMMAND...", file=sys.stderr)
        return 2
    model, argv = args[0], args[1:]
    tcg, _, tcg_why = best_of_two(argv, "tcg", TCG_LIMIT)
    if tcg_why:
        # The kernel itself does not pass its probe: nothing to compare KVM with.
        print(f"accel: the probe boot fails under TCG too ({tcg_why}); using TCG",
              file=sys.stderr)
        print(f"tcg {model} tcg=failed kvm=untried")
        return 0
    kvm, out, why = best_of_two(argv, "kvm", tcg + KVM_SLACK)
    kvm_model = model
    if not why:
        kvm_model, why = guest_model(model, out)
    absent = "Could not access KVM" in out or "failed to initialize kvm" in out
    times = f"tcg={tcg:.2f}s kvm=" + ("unavailable" if absent else "failed" if why
                                      else f"{kvm:.2f}s")
    if not why and kvm < tcg:
        print(f"kvm {kvm_model} {times}")
        return 0
    if not why:
        why = f"its probe boot took {kvm:.2f} s, TCG's {tcg:.2f} s"
    elif absent:
        why = "no usable /dev/kvm"
    print(f"accel: using TCG (plain emulation), not KVM: {why}", file=sys.stderr)
    print(f"tcg {model} {times}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
