// xv6-riscv programs include "kernel/fcntl.h"; from user/ that names this
// file, which includes the real header, user/fcntl.h.

#ifndef USER_KERNEL_FCNTL_H
#define USER_KERNEL_FCNTL_H
#include "../fcntl.h"
#endif
