# Kestrel: build, run, debug and grade the kernel.
#
#   make              build build/kernel and the boot disk build/disk.img
#   make qemu         boot it, serial console in this terminal (Ctrl-A X quits)
#   make qemu-gdb     the same, but QEMU waits for GDB on GDBPORT
#   make gdb          attach GDB (in another terminal) with the kernel's symbols
#   make grade        grade this lab and every earlier one (TEST=name: one
#                     test; SEED=n: with the seed a failed test's report gave)
#   make handin       the files you hand in, as handin-labN.tar.gz
#   make doctor       check the tools, QEMU, GDB, KVM and ports
#if LAB >= 4
#   make bench        time system calls, fork and exec (user/bench.c)
#endif
#   make clean        remove what the build made
#
# Variables (make qemu CPUS=4 MEM=256M ...):
#   CPUS    virtual CPUs (1..64, default 2)
#   MEM     memory size as QEMU takes it (default 128M)
#   ACCEL   kvm or tcg; by default kvm if its timed probe boot passes and beats TCG
#   CPU_MODEL  QEMU's -cpu (default qemu64,+smep,+smap,+pdpe1gb,+xsave,+xsaveopt,+avx)
#   KARGS   kernel command line, e.g. KARGS="test=backtrace"
#if LAB >= 4
#   INIT    the first user process and its arguments (default init)
#endif
#   GDBPORT GDB port; by default a port that was free when first chosen,
#           remembered in .gdbport so that make qemu-gdb and make gdb agree
#   CC      gcc (default) or clang
#   TOOLPREFIX  prefix of a cross toolchain (x86_64-elf- when one is on PATH)
#   V=1     show the full commands
#
# The tools (QEMU, GDB, unifdef, a 32-bit capable gcc) are installed by
# tools/setup.sh on first use, with apt-get.

# The lab this tree is: labs before LAB finished, LAB's own code solved if
# SOL >= LAB, else its stubs.
#if INSTRUCTOR
# The instructors' tree holds every lab, solved; the handout generator
# (instructor/handout.py) sets both numbers for a handout.
#endif
LAB ?= 8
SOL ?= $(LAB)

B := build

# A cross toolchain (Homebrew's x86_64-elf-gcc on macOS, say) is used when
# one is on PATH; TOOLPREFIX= (empty) forces the host's own tools.
TOOLPREFIX ?= $(if $(shell command -v x86_64-elf-gcc 2>/dev/null),x86_64-elf-)
ifeq ($(origin CC),default)
CC := $(TOOLPREFIX)gcc
endif
LD      := $(TOOLPREFIX)ld
OBJCOPY := $(TOOLPREFIX)objcopy
NM      := $(TOOLPREFIX)nm
OBJDUMP := $(TOOLPREFIX)objdump
GDB     := $(or $(shell command -v $(TOOLPREFIX)gdb 2>/dev/null),gdb)
HOSTCC  := cc
QEMU    := qemu-system-x86_64

# Short build lines ("CC kern/main.c"); V=1 shows the commands themselves.
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

CPUS ?= 2
MEM  ?= 128M
KARGS ?=
BOOTARGS = $(KARGS)
#if LAB >= 4
# (A build of an earlier lab in the instructors' tree leaves out lab 4's parts.)
ifeq ($(filter 1 2 3,$(LAB)),)
# The first user process, with its arguments: make qemu INIT="echo hi there"
# boots with init=echo:hi:there on the kernel's command line (make qemu
# and make qemu-gdb only; the grader names the program each test needs).
INIT ?= init
space := $(subst ,, )
BOOTARGS = $(if $(strip $(INIT)),init=$(subst $(space),:,$(strip $(INIT)))) $(KARGS)
endif
#endif

# One home for each fact: the kernel's headers, whose constants the build
# writes to build/consts (see kern/genconsts.c). Read when a recipe runs,
# so every rule that uses them depends on $(B)/consts.
const = $(shell awk '$$1 == "$(1)" { print $$2 }' $(B)/consts)
FWCFG_NAME = $(call const,CMDLINE_FWCFG_NAME)
DEBUG_EXIT_PORT = $(call const,DEBUG_EXIT_PORT)

## Checking the variables ###################################################

comma := ,
ifneq ($(filter-out kvm tcg,$(ACCEL)),)
$(error ACCEL=$(ACCEL) is not kvm or tcg)
endif
ifeq ($(shell echo '$(CPUS)' | grep -Ex '[1-9]|[1-5][0-9]|6[0-4]'),)
$(error CPUS=$(CPUS) is not a number of CPUs from 1 to 64)
endif
ifeq ($(shell echo '$(MEM)' | grep -Ex '[1-9][0-9]*[MG]?'),)
$(error MEM=$(MEM) is not a memory size such as 128M or 1G)
endif
ifneq ($(findstring $(comma),$(BOOTARGS))$(findstring ',$(BOOTARGS)),)
#if LAB >= 4
$(error KARGS and INIT must not contain commas or quotes)
#else
$(error KARGS must not contain commas or quotes)
#endif
endif
ifeq ($(shell echo '$(LAB) $(SOL)' | grep -Ex '[1-8] [0-8]'),)
$(error LAB=$(LAB) SOL=$(SOL): LAB must be 1..8 and SOL 0..8)
endif

## Compiling #################################################################

WARN := -Wall -Werror
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -MD -DLAB=$(LAB) -DSOL=$(SOL) -Ikern -I$(B) \
	-m64 -ffreestanding -nostdinc -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
# The red zone would let interrupts clobber a leaf function's locals; SSE
# registers are user state the kernel must not touch; frame pointers and no
# tail calls keep every frame visible to backtrace() and GDB.
KLDFLAGS := -m elf_x86_64 -nostdlib -z max-page-size=4096 -z noexecstack

BOOTCFLAGS := -std=gnu11 -Os -g $(WARN) -MD -m32 -march=i686 -ffreestanding \
	-nostdinc -fno-pic -fno-pie -fno-stack-protector -mno-mmx -mno-sse \
	-fno-asynchronous-unwind-tables -fno-unwind-tables

HOSTCFLAGS := -std=gnu11 -O2 $(WARN) -MD

# The kernel's sources: every kern/*.c and kern/*.S, and the self-tests in
# kern/test/, but those that labs/manifest says arrive with a lab after
# LAB, and genconsts.c, which only makes build/consts. entry.S comes first.
LATER := $(shell awk -v lab=$(LAB) '$$1 == "new" && $$2 > lab { for (i = 3; i <= NF; i++) print $$i }' labs/manifest)
KSRCS := kern/entry.S $(filter-out kern/entry.S kern/genconsts.c $(LATER),$(sort $(wildcard kern/*.c kern/*.S kern/test/*.c)))
KOBJS := $(patsubst %,$(B)/%.o,$(basename $(KSRCS)))
#if LAB >= 4
ifeq ($(filter 1 2 3,$(LAB)),)
KOBJS += $(B)/uprogs.o
endif
#endif
BOOTOBJS := $(B)/kern/boot/boot.o $(B)/kern/boot/bootmain.o

all: $(B)/kernel $(B)/disk.img $(B)/consts compile_commands.json

$(B)/.tools-ok: tools/setup.sh
	@TOOLPREFIX=$(TOOLPREFIX) tools/setup.sh
	@mkdir -p $(B) && touch $@

# Every object depends on this stamp of the flags, which changes only when
# they do: "make LAB=1 SOL=0" after "make" rebuilds everything.
$(B)/flags: always | $(B)/.tools-ok
	@echo '$(CC) $(KCFLAGS) $(BOOTCFLAGS) $(LD) $(KSRCS)' >$@.$$$$; \
	 cmp -s $@.$$$$ $@ && rm -f $@.$$$$ || mv -f $@.$$$$ $@

$(B)/kern/boot/%.o: kern/boot/%.c $(B)/flags
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(BOOTCFLAGS) -c -o $@ $<
$(B)/kern/boot/%.o: kern/boot/%.S $(B)/flags
	@mkdir -p $(@D)
	$(call say,AS,$<)$(CC) $(BOOTCFLAGS) -c -o $@ $<
$(B)/kern/%.o: kern/%.c $(B)/flags
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(KCFLAGS) -c -o $@ $<
$(B)/kern/%.o: kern/%.S $(B)/flags
	@mkdir -p $(@D)
	$(call say,AS,$<)$(CC) $(KCFLAGS) -c -o $@ $<

# build/consts: the headers' constants as the compiler works them out for
# this LAB, one "NAME VALUE" line each, for the grader, the GDB helpers and
# this Makefile. kern/genconsts.c says which and how; its .d file names the
# headers, so a change to one makes it again. The same run writes
# build/consts.h, the struct offsets that kern/trapasm.S includes.
$(B)/consts: kern/genconsts.c tools/consts.awk $(B)/flags
	@mkdir -p $(@D)
	$(call say,GEN,$@)$(CC) $(KCFLAGS) -MT $@ -MF $@.d -S -o $@.$$$$.s $< && \
	awk -v header=1 -f tools/consts.awk $@.$$$$.s >$@.h.$$$$ && mv $@.h.$$$$ $@.h && \
	awk -f tools/consts.awk $@.$$$$.s >$@.$$$$ && mv $@.$$$$ $@; st=$$?; rm -f $@.$$$$.s $@.$$$$ $@.h.$$$$; exit $$st
$(B)/consts.h: $(B)/consts ;
$(B)/kern/trapasm.o: $(B)/consts.h

# Linker scripts go through the C preprocessor for memlayout.h's constants.
$(B)/%.ld: %.ld kern/memlayout.h $(B)/flags
	@mkdir -p $(@D)
	$(call say,CPP,$<)$(CC) -E -P -x c -D__ASSEMBLER__ -DLAB=$(LAB) -I. -o $@ $<

# The boot loader: stage 1 and stage 2 linked together at 0x7c00 (kept as
# bootblock.elf for GDB's symbols), then turned into raw sectors.
$(B)/bootblock: $(BOOTOBJS) $(B)/kern/boot/boot.ld
	$(call say,LD,$@)$(LD) -m elf_i386 -nostdlib -z noexecstack -T $(B)/kern/boot/boot.ld -o $@.elf $(BOOTOBJS)
	$(Q)$(OBJCOPY) -O binary $@.elf $@

# The kernel is linked twice. The first link has an empty symbol table;
# nm lists its functions, tools/ksyms.awk turns the list into ksyms.S, and
# the second link embeds that table for backtrace() (build/ksyms.S is
# kept, to be read). The table sits after
# all code (kernel.ld), so no function moves between the links: the check
# below compares the two links' code symbols to prove it. Temporary files
# carry the shell's PID ($$$$), so two builds at once cannot trip each other.
$(B)/kernel: $(KOBJS) $(B)/kernel.ld tools/ksyms.awk
	$(call say,LD,$@)set -e; t=$@.$$$$; \
	awk -f tools/ksyms.awk </dev/null >$$t.ksyms0.S; \
	$(CC) $(KCFLAGS) -MF /dev/null -c -o $$t.ksyms0.o $$t.ksyms0.S; \
	$(LD) $(KLDFLAGS) -T $(B)/kernel.ld -o $$t.pass1 $(KOBJS) $$t.ksyms0.o; \
	$(NM) -n $$t.pass1 | awk -f tools/ksyms.awk >$$t.ksyms.S; \
	$(CC) $(KCFLAGS) -MF /dev/null -c -o $$t.ksyms.o $$t.ksyms.S; \
	$(LD) $(KLDFLAGS) -T $(B)/kernel.ld -o $$t $(KOBJS) $$t.ksyms.o; \
	$(NM) -n $$t.pass1 | grep ' [tT] ' >$$t.syms1; $(NM) -n $$t | grep ' [tT] ' >$$t.syms2; \
	cmp -s $$t.syms1 $$t.syms2 || { echo "kernel: functions moved between the two links (see kernel.ld)"; exit 1; }; \
	mv $$t.ksyms.S $(B)/ksyms.S; rm -f $$t.*; mv $$t $@

# compile_commands.json, at the top of the tree: each source file and the
# command that compiles it, so that clangd (and the editors that use it)
# finds every header and macro as the build does, with no setup. Written
# from the variables here on every build, replaced only when it changes.
# $(call compile_command,source,command): one entry, as a shell word.
compile_command = '{"directory": "$(CURDIR)", "file": "$(1)", "command": "$(2)"}'
COMPILE_COMMANDS = \
	$(foreach f,$(KSRCS),$(call compile_command,$(f),$(CC) $(KCFLAGS) -c -o $(B)/$(basename $(f)).o $(f))) \
	$(call compile_command,kern/genconsts.c,$(CC) $(KCFLAGS) -MT $(B)/consts -MF $(B)/consts.d -S -o $(B)/consts.s kern/genconsts.c) \
	$(foreach f,$(wildcard kern/boot/*.c kern/boot/*.S),$(call compile_command,$(f),$(CC) $(BOOTCFLAGS) -c -o $(B)/$(basename $(f)).o $(f))) \
	$(call compile_command,mkfs/mkdisk.c,$(HOSTCC) $(HOSTCFLAGS) -o $(B)/mkdisk mkfs/mkdisk.c) \
	$(if $(DATA_DRIVE),$(call compile_command,mkfs/mkdata.c,$(HOSTCC) $(HOSTCFLAGS) -o $(B)/mkdata mkfs/mkdata.c))

compile_commands.json: always
	@{ echo '['; printf '  %s,\n' $(COMPILE_COMMANDS) | sed '$$s/,$$//'; echo ']'; } >$@.$$$$; \
	 cmp -s $@.$$$$ $@ && rm -f $@.$$$$ || mv -f $@.$$$$ $@

#if LAB >= 4
ifeq ($(filter 1 2 3,$(LAB)),)
## User programs (lab 4) ######################################################

# Every user/NAME.c that defines main is program NAME, with no list to
# edit (but those of a later lab: labs/manifest); the other user/*.c and
# user/*.S files are the library each program
# links with. Until lab 8's file system, the programs travel inside the
# kernel: build/uprogs.S holds each one's ELF file (symbols stripped) and
# a table of names that exec looks them up in. build/user/NAME keeps its
# symbols, for GDB (make gdb loads them with "uprog NAME").
UCFLAGS := -std=gnu11 -O2 -g $(WARN) -MD -DLAB=$(LAB) -m64 -ffreestanding -nostdinc -fno-pic -fno-pie \
	-fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -I.
MAIN_RE := ^(int[[:space:]]+)?main[[:space:]]*[(]
UMAINS := $(shell grep -lE '$(MAIN_RE)' user/*.c)
UPROGS := $(sort $(basename $(notdir $(filter-out $(LATER),$(UMAINS)))))
ULIBOBJS := $(patsubst %,$(B)/%.o,$(basename $(filter-out $(UMAINS),$(wildcard user/*.c user/*.S))))

COMPILE_COMMANDS += $(foreach f,$(wildcard user/*.c user/*.S),$(call compile_command,$(f),$(CC) $(UCFLAGS) -c -o $(B)/$(basename $(f)).o $(f)))

$(B)/user/%.o: user/%.c $(B)/flags
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(UCFLAGS) -c -o $@ $<
$(B)/user/%.o: user/%.S $(B)/flags
	@mkdir -p $(@D)
	$(call say,AS,$<)$(CC) $(UCFLAGS) -c -o $@ $<
$(B)/user/%: $(B)/user/%.o $(ULIBOBJS) $(B)/user/user.ld
	$(call say,LD,$@)$(LD) -m elf_x86_64 -nostdlib -z noexecstack -T $(B)/user/user.ld -o $@ $< $(ULIBOBJS)

# The list of programs, a stamp that changes only when it does: a program
# deleted from user/ leaves the kernel too.
$(B)/uprogs.list: always | $(B)/.tools-ok
	@echo '$(UPROGS)' >$@.$$$$; cmp -s $@.$$$$ $@ && rm -f $@.$$$$ || mv -f $@.$$$$ $@

$(B)/uprogs.S: $(UPROGS:%=$(B)/user/%) $(B)/uprogs.list | $(B)/flags
	$(call say,GEN,$@)set -e; t=$@.$$$$; \
	for p in $(UPROGS); do $(OBJCOPY) --strip-all $(B)/user/$$p $(B)/user/$$p.elf; done; \
	{ echo '// The user programs, made by the Makefile: see exec.c.'; \
	  echo '.section .rodata'; \
	  for p in $(UPROGS); do printf '.p2align 4\nelf_%s:\n.incbin "$(B)/user/%s.elf"\nelf_%s_end:\nname_%s: .asciz "%s"\n' $$p $$p $$p $$p $$p; done; \
	  echo '.p2align 3'; echo '.globl uprogs'; echo 'uprogs:'; \
	  for p in $(UPROGS); do echo ".quad name_$$p, elf_$$p, elf_$$p""_end - elf_$$p"; done; \
	  echo '.quad 0, 0, 0'; } >$$t; mv $$t $@
$(B)/uprogs.o: $(B)/uprogs.S
	$(call say,AS,$<)$(CC) $(KCFLAGS) -MF /dev/null -c -o $@ $<

all: $(UPROGS:%=$(B)/user/%)
.SECONDARY: $(B)/user/user.ld $(ULIBOBJS) $(UPROGS:%=$(B)/user/%.o)

# make bench: boot with user/bench.c as the first process; its table of
# system call costs; from lab 6 again on one CPU ("bench switch": the
# switch and pipe rows); from lab 7 once for each disk mode of BENCH_DISK
# ("bench disk MODE SECTORS" with ide=MODE: the disk rows); then with each
# self-test of BENCH_SELFTESTS, which add rows of their own (the whole
# boot log is in build/bench.log).
BENCH_SELFTESTS :=
BENCH_DISK :=
bench: all $(ACCEL_DEP)
	@echo "*** make bench: $(ACCEL_USED), $(CPUS) CPUs, $(MEM)"
	@$(MAKE) --no-print-directory qemu INIT=bench </dev/null >$(B)/bench.log 2>&1 || { cat $(B)/bench.log; exit 1; }
	@$(if $(BENCH_ONE_CPU),$(MAKE) --no-print-directory qemu INIT="bench switch" CPUS=1 </dev/null >>$(B)/bench.log 2>&1 || { cat $(B)/bench.log; exit 1; })
	@for m in $(BENCH_DISK); do $(MAKE) --no-print-directory qemu INIT="bench disk $$m $(DATA_SECTORS)" KARGS=ide=$$m </dev/null >>$(B)/bench.log 2>&1 || { cat $(B)/bench.log; exit 1; }; done
	@for t in $(BENCH_SELFTESTS); do $(MAKE) --no-print-directory qemu KARGS=test=$$t </dev/null >>$(B)/bench.log 2>&1 || { cat $(B)/bench.log; exit 1; }; done
	@grep -E '^(bench|init):' $(B)/bench.log
.PHONY: bench
endif
#endif
#if LAB >= 5
BENCH_SELFTESTS += lockbench
#endif
#if LAB >= 6
# bench's switch and pipe rows again, with CPUS=1
BENCH_ONE_CPU := yes
#endif
#if LAB >= 7
ifeq ($(filter 1 2 3 4 5 6,$(LAB)),)
# bench's disk rows, with each way the disk moves data (ide.c)
BENCH_DISK := dma pio
endif
#endif

#if LAB >= 7
ifeq ($(filter 1 2 3 4 5 6,$(LAB)),)
# The data disk (lab 7): the IDE primary slave, DATA_SECTORS sectors of
# seeded bytes (mkfs/mkdata.c), DATASEED the seed. Made once: the kernel
# writes to it, and make never makes it again over what was written
# (make clean, or delete it, for a fresh one). The grader makes its own.
DATA_SECTORS ?= 8192
DATASEED ?= 1
DATADISK ?= $(B)/data.img
DATA_DRIVE = -drive file=$(DATADISK),format=raw,if=ide,index=1,media=disk
all: $(B)/mkdata $(B)/data.img

$(B)/mkdata: mkfs/mkdata.c kern/memlayout.h | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(call say,HOSTCC,$<)$(HOSTCC) $(HOSTCFLAGS) -o $@ mkfs/mkdata.c

$(B)/data.img: | $(B)/mkdata
	$(call say,MKDATA,$@)$(B)/mkdata $(DATASEED) $(DATA_SECTORS) $@
endif
#endif

$(B)/mkdisk: mkfs/mkdisk.c kern/memlayout.h | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(call say,HOSTCC,$<)$(HOSTCC) $(HOSTCFLAGS) -o $@ mkfs/mkdisk.c

# The disk holds the kernel without debug information (GDB reads that from
# build/kernel), which keeps the boot loader's reading short.
$(B)/disk.img: $(B)/bootblock $(B)/kernel $(B)/mkdisk
	$(call say,MKDISK,$@)$(OBJCOPY) --strip-debug $(B)/kernel $@.$$$$.kernel && \
	$(B)/mkdisk $(B)/bootblock $@.$$$$.kernel $@; st=$$?; rm -f $@.$$$$.kernel; exit $$st

-include $(shell find $(B) -name '*.d' 2>/dev/null)

## Running ###################################################################

# The CPU model gives what the labs need, under KVM and TCG alike: long
# mode, NX and FXSR (in qemu64 already), SMEP, SMAP, 1 GiB pages, and
# (lab 6) XSAVE and AVX.
# (-cpu host and -cpu max abort QEMU 7.2 under nested KVM on some hosts.)
# (xsaveopt too: without it QEMU 7.2's TCG hangs on the mov to CR4 that
# turns XSAVE on.)
CPU_MODEL := qemu64,+smep,+smap,+pdpe1gb,+xsave,+xsaveopt,+avx

# Which accelerator and CPU model: ACCEL if given (with CPU_MODEL as it is),
# else build/accel, the line tools/probe-accel.py wrote after timing the
# kernel's probe boot under TCG and KVM: "ACCEL MODEL tcg=TIME kvm=TIME".
# Under KVM, MODEL is CPU_MODEL as this host's KVM can give it to a guest.
# The probe runs again when it could not compare (the kernel failed it).
ifeq ($(ACCEL),)
# (Read when a recipe runs, after build/accel has been made.)
ACCEL_USED = $(word 1,$(shell cat $(B)/accel))
# A CPU_MODEL given on the command line is used as it is.
CPU_USED = $(if $(filter command line,$(origin CPU_MODEL)),$(CPU_MODEL),$(word 2,$(shell cat $(B)/accel)))
ACCEL_DEP := $(B)/accel
else
ACCEL_USED = $(ACCEL)
CPU_USED = $(CPU_MODEL)
ACCEL_DEP :=
endif

DISK ?= $(B)/disk.img

# $(call qemu_cmd,command line[,cpu model]): QEMU's arguments for booting
# the kernel; the model defaults to CPU_USED. QEMU refuses an empty fw_cfg
# string, so no command line means no fw_cfg file.
qemu_cmd = $(QEMU) -machine pc -cpu $(or $(2),$(CPU_USED)) -smp $(CPUS) -m $(MEM) \
	-no-reboot -drive file=$(DISK),format=raw,if=ide,index=0,media=disk $(DATA_DRIVE) \
	-device isa-debug-exit,iobase=$(DEBUG_EXIT_PORT),iosize=1 \
	$(if $(strip $(1)),-fw_cfg 'name=$(FWCFG_NAME)$(comma)string=$(strip $(1))')

# The probe runs again when CPU_MODEL changes (this stamp changes only then).
$(B)/cpu-model: always | $(B)/.tools-ok
	@echo '$(CPU_MODEL)' >$@.$$$$; cmp -s $@.$$$$ $@ && rm -f $@.$$$$ || mv -f $@.$$$$ $@

$(B)/accel: tools/probe-accel.py $(B)/cpu-model $(if $(shell grep -s untried $(B)/accel),$(B)/disk.img) | $(B)/disk.img $(B)/consts
	@python3 tools/probe-accel.py $(CPU_MODEL) $(call qemu_cmd,test=probe,$(CPU_MODEL)) \
	  -display none -serial stdio -monitor none >$@.$$$$ && mv $@.$$$$ $@

# GDBPORT: chosen once per checkout (tools/freeport.py), evaluated only
# when a rule needs it.
ifeq ($(origin GDBPORT),undefined)
GDBPORT = $(eval GDBPORT := $(shell python3 tools/freeport.py .gdbport))$(GDBPORT)
endif

# $(call run_qemu,extra arguments): QEMU on this terminal, through
# tools/runqemu.py, which says when the machine reset (a triple fault) and
# ends a QEMU that stopped the machine (KVM's "emulation failure").
run_qemu = @python3 tools/runqemu.py $(call qemu_cmd,$(BOOTARGS)) -accel $(ACCEL_USED) -nographic $(1)

qemu: all $(ACCEL_DEP)
	@echo "*** Booting with $(ACCEL_USED), $(CPUS) CPUs, $(MEM). Ctrl-A X quits QEMU."
	$(call run_qemu)

qemu-gdb: all $(ACCEL_DEP) .gdbinit
	@echo "*** QEMU waits for GDB on port $(GDBPORT): run 'make gdb' in another terminal. Ctrl-A X quits."
	$(call run_qemu,-S -gdb tcp:127.0.0.1:$(GDBPORT))

# Written afresh every time, so that a GDBPORT given on the command line
# reaches .gdbinit too.
.gdbinit: .gdbinit.tmpl .gdbport always
	@sed "s/@GDBPORT@/$(GDBPORT)/g" $< >$@.$$$$ && mv $@.$$$$ $@

.gdbport:
	@python3 tools/freeport.py $@ >/dev/null

gdb: .gdbinit | $(B)/.tools-ok
	$(GDB) -q -iex 'set auto-load local-gdbinit off' -x .gdbinit

print-gdbport:
	@echo $(GDBPORT)

print-lab:
	@echo $(LAB)

# make print-NM and so on: a variable's value, for the grader.
print-%:
	@echo '$($*)'

# For the grader: the QEMU command, one argument per line, serial on stdio.
# WAITGDB=1 makes QEMU wait for GDB on GDBPORT.
print-qemu: $(ACCEL_DEP) $(B)/consts
	@for arg in $(call qemu_cmd,$(KARGS)) -accel $(ACCEL_USED) -display none \
	    -serial stdio -monitor none $(if $(WAITGDB),-S -gdb tcp:127.0.0.1:$(GDBPORT)); do \
	  echo "$$arg"; done

## Checking ##################################################################

doctor:
	@TOOLPREFIX=$(TOOLPREFIX) tools/setup.sh --check

grade: all $(ACCEL_DEP)
	@python3 grade/grade.py --lab $(LAB) $(if $(TEST),--test $(TEST)) $(if $(SEED),--seed $(SEED)) $(GRADEFLAGS)

# make handin: this lab's files that you changed (labs/manifest says which)
# and your answers, as handin-labN.tar.gz, for your course's hand-in.
HANDIN = $(shell awk -v lab=$(LAB) '$$1 == "edit" && $$2 == lab { for (i = 3; i <= NF; i++) print $$i }' labs/manifest) answers-lab$(LAB).txt
handin:
	@[ $(SOL) -lt $(LAB) ] || { echo "handin: this tree is not a lab's handout (LAB=$(LAB), SOL=$(SOL))"; exit 1; }
	@[ -s answers-lab$(LAB).txt ] || { echo "handin: write your answers to labs/lab$(LAB).md's questions in answers-lab$(LAB).txt first"; exit 1; }
	@tar czf handin-lab$(LAB).tar.gz.$$$$ $(HANDIN) && mv handin-lab$(LAB).tar.gz.$$$$ handin-lab$(LAB).tar.gz
	@echo "handin: wrote handin-lab$(LAB).tar.gz: $(HANDIN)"

clean:
	rm -rf $(B) .gdbinit compile_commands.json

.PHONY: all qemu qemu-gdb gdb print-gdbport print-lab print-qemu doctor grade handin clean always

#if INSTRUCTOR
## Instructors only (left out of handouts) ###################################

# make handout LAB=n [DEST=dir] [FORCE=1]: write lab n's handout.
handout:
	@python3 instructor/handout.py $(LAB) $(or $(DEST),handout-lab$(LAB)) $(if $(FORCE),--force)

# make test: gradelib's own tests, the solution's grade, a clang build, and
# every lab's handout: it builds, boots, passes the earlier labs' tests and
# fails every scored test of its own lab.
test: all $(ACCEL_DEP)
	@python3 instructor/maketest.py

# make autograder LAB=n: Gradescope's autograder for lab n, as autograder-labN.zip.
autograder:
	@python3 instructor/autograder.py $(LAB) autograder-lab$(LAB).zip

.PHONY: handout test autograder
#endif
