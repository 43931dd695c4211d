// open()'s flags, as xv6 numbers them (lab 8's kernel reads the same bits).
//
// O_RDONLY, O_WRONLY and O_RDWR are the access mode (exactly one of them);
// O_CREATE and O_TRUNC may be or-ed with any of them.

#ifndef USER_FCNTL_H
#define USER_FCNTL_H

#define O_RDONLY  0x000 // read only
#define O_WRONLY  0x001 // write only
#define O_RDWR    0x002 // read and write
#define O_CREATE  0x200 // create the file if it does not exist
#define O_TRUNC   0x400 // empty the file first

#endif
