# Kestrel: build, run, debug and grade the kernel.
#
#   make              build build/kernel and the boot disk build/disk.img
#   make qemu         boot it, serial console in this terminal (Ctrl-A X quits)
#   make qemu-gdb     the same, but QEMU waits for GDB on GDBPORT
#   make gdb          attach GDB (in another terminal) with the kernel's symbols
#   make grade        grade this lab and every earlier one
#   make doctor       check the tools, QEMU, GDB, KVM and ports
#   make clean        remove what the build made
#
# Variables (make qemu CPUS=4 MEM=256M ...):
#   CPUS    virtual CPUs (1..64, default 2)
#   MEM     memory size as QEMU takes it (default 128M)
#   ACCEL   kvm or tcg; by default kvm if a test boot under KVM works here
#   KARGS   kernel command line, e.g. KARGS="test=backtrace"
#   GDBPORT GDB port; by default a port that was free when first chosen,
#           remembered in .gdbport so that make qemu-gdb and make gdb agree
#   CC      gcc (default) or clang
#
# The tools (QEMU, GDB, unifdef, a 32-bit capable gcc) are installed by
# tools/setup.sh on first use, with apt-get.

# The lab this tree is. The instructors' tree holds every lab, solved; the
# handout generator (instructor/handout.py) sets both numbers for a handout.
LAB ?= 8
SOL ?= $(LAB)

B := build

ifeq ($(origin CC),default)
CC := gcc
endif
LD      := ld
OBJCOPY := objcopy
NM      := nm
QEMU    := qemu-system-x86_64
GDB     := gdb

CPUS ?= 2
MEM  ?= 128M
KARGS ?=

# One home for each fact: these come from the kernel's headers.
# (The pattern avoids a literal number sign, which make versions quote differently.)
param = $(shell awk '$$1 ~ /^.define$$/ && $$2 == "$(1)" { print $$3 }' kern/param.h)
FWCFG_NAME := $(patsubst "%",%,$(call param,CMDLINE_FWCFG_NAME))
DEBUG_EXIT_PORT := $(call param,DEBUG_EXIT_PORT)

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
ifneq ($(findstring $(comma),$(KARGS))$(findstring ',$(KARGS)),)
$(error KARGS must not contain commas or quotes)
endif
ifeq ($(shell echo '$(LAB) $(SOL)' | grep -Ex '[1-8] [0-8]'),)
$(error LAB=$(LAB) SOL=$(SOL): LAB must be 1..8 and SOL 0..8)
endif

## Compiling #################################################################

WARN := -Wall -Werror
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -MD -DLAB=$(LAB) -DSOL=$(SOL) \
	-m64 -ffreestanding -nostdinc -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -fno-stack-protector \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
# The red zone would let interrupts clobber a leaf function's locals; SSE
# registers are user state the kernel must not touch; frame pointers and no
# tail calls keep every frame visible to backtrace() and GDB.
KLDFLAGS := -m elf_x86_64 -nostdlib -z max-page-size=4096 -z noexecstack \
	--no-warn-rwx-segments

BOOTCFLAGS := -std=gnu11 -Os -g $(WARN) -MD -m32 -march=i686 -ffreestanding \
	-nostdinc -fno-pic -fno-pie -fno-stack-protector -mno-mmx -mno-sse \
	-fno-asynchronous-unwind-tables -fno-unwind-tables

HOSTCFLAGS := -std=gnu11 -O2 $(WARN) -MD

KOBJS := $(addprefix $(B)/kern/, entry.o main.o uart.o printf.o string.o \
	backtrace.o cmdline.o e820.o selftest.o)
BOOTOBJS := $(B)/kern/boot/boot.o $(B)/kern/boot/bootmain.o

all: $(B)/kernel $(B)/disk.img

$(B)/.tools-ok: tools/setup.sh
	@tools/setup.sh
	@mkdir -p $(B) && touch $@

$(B)/kern/boot/%.o: kern/boot/%.c | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(CC) $(BOOTCFLAGS) -c -o $@ $<
$(B)/kern/boot/%.o: kern/boot/%.S | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(CC) $(BOOTCFLAGS) -c -o $@ $<
$(B)/kern/%.o: kern/%.c | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) -c -o $@ $<
$(B)/kern/%.o: kern/%.S | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) -c -o $@ $<

# Linker scripts go through the C preprocessor for memlayout.h's constants.
$(B)/%.ld: %.ld kern/memlayout.h | $(B)/.tools-ok
	@mkdir -p $(@D)
	$(CC) -E -P -x c -D__ASSEMBLER__ -I. -o $@ $<

# The boot loader: stage 1 and stage 2 linked together at 0x7c00, then
# turned into raw sectors.
$(B)/bootblock: $(BOOTOBJS) $(B)/kern/boot/boot.ld
	$(LD) -m elf_i386 -nostdlib -z noexecstack --no-warn-rwx-segments -T $(B)/kern/boot/boot.ld -o $@.elf $(BOOTOBJS)
	$(OBJCOPY) -O binary $@.elf $@

# The kernel is linked twice. The first link has an empty symbol table;
# nm lists its functions, kern/ksyms.awk turns the list into ksyms.S, and
# the second link embeds that table for backtrace(). The table sits after
# all code (kernel.ld), so no function moves between the links: the check
# below compares the two links' code symbols to prove it.
$(B)/kernel: $(KOBJS) $(B)/kernel.ld kern/ksyms.awk
	awk -f kern/ksyms.awk </dev/null >$(B)/ksyms0.S
	$(CC) $(KCFLAGS) -c -o $(B)/ksyms0.o $(B)/ksyms0.S
	$(LD) $(KLDFLAGS) -T $(B)/kernel.ld -o $@.pass1 $(KOBJS) $(B)/ksyms0.o
	$(NM) -n $@.pass1 | awk -f kern/ksyms.awk >$(B)/ksyms.S
	$(CC) $(KCFLAGS) -c -o $(B)/ksyms.o $(B)/ksyms.S
	$(LD) $(KLDFLAGS) -T $(B)/kernel.ld -o $@.tmp $(KOBJS) $(B)/ksyms.o
	@$(NM) -n $@.pass1 | grep ' [tT] ' >$@.syms1; $(NM) -n $@.tmp | grep ' [tT] ' >$@.syms2; \
	 cmp -s $@.syms1 $@.syms2 || { echo "kernel: functions moved between the two links (see kernel.ld)"; exit 1; }
	mv $@.tmp $@

$(B)/mkdisk: mkfs/mkdisk.c kern/memlayout.h | $(B)/.tools-ok
	@mkdir -p $(@D)
	cc $(HOSTCFLAGS) -o $@ mkfs/mkdisk.c

# The disk holds the kernel without debug information (GDB reads that from
# build/kernel), which keeps the boot loader's reading short.
$(B)/disk.img: $(B)/bootblock $(B)/kernel $(B)/mkdisk
	$(OBJCOPY) --strip-debug $(B)/kernel $(B)/kernel.stripped
	$(B)/mkdisk $(B)/bootblock $(B)/kernel.stripped $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

## Running ###################################################################

# The CPU model gives what the labs need, under KVM and TCG alike: long
# mode, NX and FXSR (in qemu64 already), SMEP, SMAP and 1 GiB pages.
# (-cpu host and -cpu max abort QEMU 7.2 under nested KVM on some hosts.)
CPU_MODEL := qemu64,+smep,+smap,+pdpe1gb

# Which accelerator and CPU model: ACCEL if given (with CPU_MODEL as it is),
# else the cached result of a test boot, build/accel, which holds one line
# "ACCEL MODEL": under KVM, MODEL is CPU_MODEL less the features this host's
# KVM cannot give a guest (QEMU would warn about each one at every boot).
ifeq ($(ACCEL),)
# (Read when a recipe runs, after build/accel has been made.)
ACCEL_USED = $(word 1,$(shell cat $(B)/accel))
CPU_USED = $(word 2,$(shell cat $(B)/accel))
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
	-no-reboot -drive file=$(DISK),format=raw,if=ide,index=0,media=disk \
	-device isa-debug-exit,iobase=$(DEBUG_EXIT_PORT),iosize=1 \
	$(if $(strip $(1)),-fw_cfg 'name=$(FWCFG_NAME)$(comma)string=$(strip $(1))')

$(B)/accel: tools/probe-accel.sh | $(B)/disk.img
	@tools/probe-accel.sh $(CPU_MODEL) $(call qemu_cmd,test=probe,$(CPU_MODEL)) \
	  -display none -serial stdio -monitor none >$@.tmp
	@mv $@.tmp $@

# GDBPORT: chosen once per checkout (tools/freeport.py), evaluated only
# when a rule needs it.
ifeq ($(origin GDBPORT),undefined)
GDBPORT = $(eval GDBPORT := $(shell python3 tools/freeport.py .gdbport))$(GDBPORT)
endif

qemu: all $(ACCEL_DEP)
	@echo "*** Booting with $(ACCEL_USED), $(CPUS) CPUs, $(MEM). Ctrl-A X quits QEMU."
	$(call qemu_cmd,$(KARGS)) -accel $(ACCEL_USED) -nographic

qemu-gdb: all $(ACCEL_DEP) .gdbinit
	@echo "*** QEMU waits for GDB on port $(GDBPORT): run 'make gdb' in another terminal. Ctrl-A X quits."
	$(call qemu_cmd,$(KARGS)) -accel $(ACCEL_USED) -nographic -S -gdb tcp:127.0.0.1:$(GDBPORT)

# Written afresh every time, so that a GDBPORT given on the command line
# reaches .gdbinit too.
.gdbinit: .gdbinit.tmpl .gdbport always
	@sed "s/@GDBPORT@/$(GDBPORT)/g" $< >$@.tmp && mv $@.tmp $@

.gdbport:
	@python3 tools/freeport.py $@ >/dev/null

gdb: .gdbinit | $(B)/.tools-ok
	$(GDB) -q -iex 'set auto-load local-gdbinit off' -x .gdbinit

print-gdbport:
	@echo $(GDBPORT)

print-lab:
	@echo $(LAB)

# For the grader: the QEMU command, one argument per line, serial on stdio.
# WAITGDB=1 makes QEMU wait for GDB on GDBPORT.
print-qemu: $(ACCEL_DEP)
	@for arg in $(call qemu_cmd,$(KARGS)) -accel $(ACCEL_USED) -display none \
	    -serial stdio -monitor none $(if $(WAITGDB),-S -gdb tcp:127.0.0.1:$(GDBPORT)); do \
	  echo "$$arg"; done

## Checking ##################################################################

doctor:
	@tools/doctor.sh

grade: all $(ACCEL_DEP)
	@python3 grade/grade.py --lab $(LAB) $(if $(TEST),--test $(TEST)) $(GRADEFLAGS)

clean:
	rm -rf $(B) .gdbinit

.PHONY: all qemu qemu-gdb gdb print-gdbport print-lab print-qemu doctor grade clean always

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

.PHONY: handout test
#endif
