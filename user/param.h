// The kernel's limits, for user programs (MAXARG, NPROC, ...): their one
// home is kern/param.h, which this file includes. (The Makefile compiles
// user code with the lab's number, as the kernel, so the limits are the
// kernel's own.)

#ifndef USER_PARAM_H
#define USER_PARAM_H
#include "kern/param.h"
#endif
