# Turn the assembly of kern/genconsts.c (the compiler's -S output) into
# build/consts: one "NAME VALUE" line for each marker, as genconsts.c
# describes them. Input lines look like
#
#     .ascii "@const KERNBASE 65535 65535 32768 0"       (gcc; clang puts a tab)
#     .ascii "@string CMDLINE_FWCFG_NAME opt/kestrel/cmdline"
#
# and become "KERNBASE 0xffffffff80000000" and the string as it is. A
# number arrives as four 16-bit pieces, high first, so that no awk has to
# hold a 64-bit value: each piece is printed as four hex digits.

BEGIN {
  print "# The kernel's constants for this build, from kern/genconsts.c: generated, do not edit."
}

split($0, quoted, "\"") == 3 && quoted[2] ~ /^@(const|string) / {
  split(quoted[2], f, " ")
  if (f[1] == "@string") {
    print f[2], f[3]
    next
  }
  hex = sprintf("%04x%04x%04x%04x", f[3], f[4], f[5], f[6])
  sub(/^0+/, "", hex)
  print f[2], "0x" (hex == "" ? "0" : hex)
}
