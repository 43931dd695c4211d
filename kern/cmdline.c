// The kernel command line, passed by QEMU through fw_cfg.
//
// One kernel image serves every test: the Makefile (and the grader) pass
// options such as "test=backtrace seed=7" with
//     -fw_cfg name=opt/kestrel/cmdline,string=...
// QEMU's fw_cfg device is two I/O ports: write a 16-bit item number to the
// selector port, then read the item's bytes one at a time from the data
// port. Item FWCFG_FILE_DIR lists the named files (big-endian fields); we
// look ours up by name and copy it into cmdline[].
//
// The line is split at spaces into key=value options (a bare key has the
// value ""). Every key must be declared with CMDLINE_OPTION (defs.h),
// beside the code that reads it: the macro puts the key and a line of help
// into the .cmdline_options section, which kernel.ld gathers between
// cmdline_options_start and cmdline_options_end. An unknown key is
// reported on the console, never silently ignored.

#include "types.h"
#include "param.h"
#include "x86.h"
#include "defs.h"

#define FWCFG_SELECTOR  0x510   // 16-bit: which item to read
#define FWCFG_DATA      0x511   // 8-bit: the item's next byte
#define FWCFG_SIGNATURE 0x0000  // item: the bytes "QEMU"
#define FWCFG_FILE_DIR  0x0019  // item: directory of named files
#define FWCFG_NAME_MAX  56      // bytes of a file name in the directory

struct fwcfg_file {             // one directory entry, fields big-endian
  uint32 size;
  uint16 select;
  uint16 reserved;
  char name[FWCFG_NAME_MAX];
};

CMDLINE_OPTION(test, "run the named kernel self-test (selftest.c)");
CMDLINE_OPTION(seed, "a number that varies a self-test (printf, backtrace, bt_corrupt, bt_deep)");
CMDLINE_OPTION(addrs, "addresses for the ksym_lookup self-test: hexadecimal, separated by ':'");

extern const struct cmdline_option cmdline_options_start[], cmdline_options_end[];  // kernel.ld

static char cmdline[CMDLINE_MAX];
static struct {
  const char *key;
  const char *value;
} args[CMDLINE_ARGS];
static int nargs;

static void
fwcfg_read(uint16 item, void *buf, uint32 n)
{
  uint8 *p = buf;

  outw(FWCFG_SELECTOR, item);
  while (n-- > 0)
    *p++ = inb(FWCFG_DATA);
}

// Continue reading the item selected last.
static void
fwcfg_read_more(void *buf, uint32 n)
{
  uint8 *p = buf;

  while (n-- > 0)
    *p++ = inb(FWCFG_DATA);
}

static uint32
be32(uint32 x)
{
  return __builtin_bswap32(x);
}

// Copy the fw_cfg file called name into buf (at most max - 1 bytes, then a
// NUL). Returns the file's full size, or -1 if there is no such file.
static int64
fwcfg_file(const char *name, char *buf, uint32 max)
{
  char signature[4];
  uint32 count;
  struct fwcfg_file f;

  fwcfg_read(FWCFG_SIGNATURE, signature, sizeof(signature));
  if (memcmp(signature, "QEMU", sizeof(signature)) != 0)
    return -1;
  fwcfg_read(FWCFG_FILE_DIR, &count, sizeof(count));
  for (count = be32(count); count > 0; count--) {
    fwcfg_read_more(&f, sizeof(f));
    if (strncmp(f.name, name, FWCFG_NAME_MAX) == 0) {
      uint32 size = be32(f.size);
      uint32 n = size < max - 1 ? size : max - 1;
      fwcfg_read(__builtin_bswap16(f.select), buf, n);
      buf[n] = '\0';
      return size;
    }
  }
  return -1;
}

static int
option_known(const char *key)
{
  for (const struct cmdline_option *o = cmdline_options_start; o < cmdline_options_end; o++)
    if (strcmp(o->key, key) == 0)
      return 1;
  return 0;
}

static void
report_unknown(const char *key)
{
  printf("cmdline: unknown option '%s'; known options:\n", key);
  for (const struct cmdline_option *o = cmdline_options_start; o < cmdline_options_end; o++)
    printf("cmdline:   %s=...  %s\n", o->key, o->help);
}

// Split cmdline[] in place into args[].
static void
parse(void)
{
  char *p = cmdline;

  while (*p) {
    while (*p == ' ')
      *p++ = '\0';
    if (*p == '\0')
      break;
    char *key = p, *value = NULL;
    for (; *p && *p != ' '; p++) {
      if (*p == '=' && value == NULL) {   // the first '=' ends the key
        *p = '\0';
        value = p + 1;
      }
    }
    if (*p)
      *p++ = '\0';
    if (!option_known(key))
      report_unknown(key);
    else if (nargs == CMDLINE_ARGS)
      printf("cmdline: more than %d options; ignoring '%s'\n", CMDLINE_ARGS, key);
    else {
      args[nargs].key = key;
      args[nargs].value = value ? value : "";
      nargs++;
    }
  }
}

void
cmdline_init(void)
{
  int64 size = fwcfg_file(CMDLINE_FWCFG_NAME, cmdline, sizeof(cmdline));

  if (size <= 0)
    return;
  printf("cmdline: %s\n", cmdline);
  if (size >= (int64)sizeof(cmdline))
    printf("cmdline: longer than %d bytes; the rest is ignored\n", CMDLINE_MAX - 1);
  parse();
}

// The value of option key ("" for a bare key), or NULL if it wasn't given.
const char *
cmdline_get(const char *key)
{
  for (int i = 0; i < nargs; i++)
    if (strcmp(args[i].key, key) == 0)
      return args[i].value;
  return NULL;
}

// The value of option key as a decimal number; 0 if it wasn't given or
// isn't one.
uint64
cmdline_uint(const char *key)
{
  const char *s = cmdline_get(key);
  uint64 n = 0;

  for (; s && *s >= '0' && *s <= '9'; s++)
    n = n * 10 + (*s - '0');
  return n;
}
