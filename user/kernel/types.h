// xv6-riscv programs include "kernel/types.h"; from user/ that names this
// file, which includes the real header, user/types.h.

#ifndef USER_KERNEL_TYPES_H
#define USER_KERNEL_TYPES_H
#include "../types.h"
#endif
