// xv6-riscv programs include "kernel/param.h"; from user/ that names this
// file, which includes the real header, user/param.h.

#ifndef USER_KERNEL_PARAM_H
#define USER_KERNEL_PARAM_H
#include "../param.h"
#endif
