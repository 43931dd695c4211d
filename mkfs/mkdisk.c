// mkdisk: build the boot disk image from the boot loader and the kernel.
//
//   mkdisk BOOTBLOCK KERNEL OUTPUT
//
// BOOTBLOCK is the raw boot loader (stage 1 in its first sector, stage 2
// after it), KERNEL the kernel ELF file. The image is
//
//   sectors 0 .. KERNEL_LBA-1   the boot loader, zero-padded
//   sectors KERNEL_LBA ..       the kernel file, zero-padded to a sector
//
// with the constants from kern/memlayout.h, the same ones the boot loader
// reads the disk with. The output is written to a temporary file and
// renamed into place, so a failed run never leaves a half-written image.
// Errors are one line on stderr and exit status 1 (2 for bad usage).

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kern/memlayout.h"

#define BOOT_SIGNATURE_OFFSET 510
static const unsigned char boot_signature[2] = { 0x55, 0xaa };
static const unsigned char elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

static const unsigned char zero_sector[SECTOR_SIZE];
static char tmp_path[4096];

static void
die(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, "mkdisk: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  if (tmp_path[0])
    unlink(tmp_path);
  exit(1);
}

// Read all of path into a new buffer; *size gets its length.
static unsigned char *
read_file(const char *path, long *size)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf;

  if (f == NULL)
    die("cannot open %s: %s", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0 || (*size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
    die("cannot read %s: %s", path, strerror(errno));
  buf = malloc(*size + 1);
  if (buf == NULL || fread(buf, 1, *size, f) != (size_t)*size)
    die("cannot read %s", path);
  fclose(f);
  return buf;
}

// Write n bytes, then zeros up to the next sector boundary.
static void
write_padded(FILE *f, const unsigned char *buf, long n)
{
  long pad = (SECTOR_SIZE - n % SECTOR_SIZE) % SECTOR_SIZE;

  if (fwrite(buf, 1, n, f) != (size_t)n || fwrite(zero_sector, 1, pad, f) != (size_t)pad)
    die("cannot write %s: %s", tmp_path, strerror(errno));
}

int
main(int argc, char *argv[])
{
  long boot_size, kernel_size;
  unsigned char *boot, *kernel;
  FILE *out;

  if (argc != 4) {
    fprintf(stderr, "usage: mkdisk BOOTBLOCK KERNEL OUTPUT\n");
    return 2;
  }
  boot = read_file(argv[1], &boot_size);
  kernel = read_file(argv[2], &kernel_size);

  if (boot_size < SECTOR_SIZE ||
      memcmp(boot + BOOT_SIGNATURE_OFFSET, boot_signature, sizeof(boot_signature)) != 0)
    die("%s is not a boot sector (no 0x55 0xAA at byte 510)", argv[1]);
  if (boot_size > (long)KERNEL_LBA * SECTOR_SIZE)
    die("%s is %ld bytes; the boot loader has room for %d (1 + BOOT2_SECTORS sectors)",
        argv[1], boot_size, KERNEL_LBA * SECTOR_SIZE);
  if (kernel_size < (long)sizeof(elf_magic) || memcmp(kernel, elf_magic, sizeof(elf_magic)) != 0)
    die("%s is not an ELF file", argv[2]);

  if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", argv[3]) >= (int)sizeof(tmp_path))
    die("output path too long");
  out = fopen(tmp_path, "wb");
  if (out == NULL) {
    tmp_path[0] = '\0';
    die("cannot create %s.tmp: %s", argv[3], strerror(errno));
  }
  write_padded(out, boot, boot_size);
  for (long s = (boot_size + SECTOR_SIZE - 1) / SECTOR_SIZE; s < KERNEL_LBA; s++)
    write_padded(out, zero_sector, SECTOR_SIZE);
  write_padded(out, kernel, kernel_size);
  if (fclose(out) != 0)
    die("cannot write %s: %s", tmp_path, strerror(errno));
  if (rename(tmp_path, argv[3]) != 0)
    die("cannot rename %s to %s: %s", tmp_path, argv[3], strerror(errno));
  return 0;
}
