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
#
# With -v header=1 it writes build/consts.h instead: a #define for each
# "@offset" marker only (struct offsets and sizes, for the assembly), since
# the other constants have their #defines in the headers already.

BEGIN {
  if (header)
    print "// Struct offsets for the assembly, from kern/genconsts.c: generated, do not edit."
  else
    print "# The kernel's constants for this build, from kern/genconsts.c: generated, do not edit."
}

split($0, quoted, "\"") == 3 && quoted[2] ~ /^@(const|offset|string) / {
  split(quoted[2], f, " ")
  if (header && f[1] != "@offset")
    next
  if (f[1] == "@string") {
    print f[2], f[3]
    next
  }
  hex = sprintf("%04x%04x%04x%04x", f[3], f[4], f[5], f[6])
  sub(/^0+/, "", hex)
  print (header ? "#define " : "") f[2], "0x" (hex == "" ? "0" : hex)
}
