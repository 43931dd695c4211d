// xv6-riscv programs include "kernel/stat.h"; from user/ that names this
// file, which includes the real header, user/stat.h.

#ifndef USER_KERNEL_STAT_H
#define USER_KERNEL_STAT_H
#include "../stat.h"
#endif
