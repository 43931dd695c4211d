// File descriptors: each process's table of open files, the system's
// table of files, and the system calls that work on descriptors (read,
// write, close, dup, pipe).
//
// A file descriptor is an index into the process's ofile[] (proc.h): a
// pointer to a struct file (file.h) in ftable below, or NULL. One struct
// file may sit in several slots, of one process (dup) or of several
// (fork copies the table): its ref counts them, and it is closed when the
// last one goes. What the descriptors share is the file itself: the two
// ends of one pipe, or the console. The first process gets fds 0, 1 and
// 2, one console file three times; every other process inherits its
// parent's table at fork and keeps it across exec, which is how a shell
// connects a program to a pipe before it runs.
//
// ftable.lock guards every ref count and the free slots. A file's own
// state (a pipe's buffer) has its own lock in its own file; nothing here
// holds ftable.lock while it reads, writes or sleeps.
//
// Every descriptor and length a user passes is checked here, and every
// buffer by uvm.c (through the pipe's and the console's copyin/copyout).

#include "types.h"
#include "param.h"
#include "proc.h"
#include "file.h"
#include "spinlock.h"
#include "defs.h"

static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

void
file_init(void)
{
  initlock(&ftable.lock, "ftable");
}

// A free file with one reference, or NULL if all NFILE are open.
static struct file *
filealloc(void)
{
  acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++) {
    if (f->ref == 0) {
      f->ref = 1;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return NULL;
}

// One more descriptor names f.
struct file *
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("filedup: file %p is not open", f);
  f->ref++;
  release(&ftable.lock);
  return f;
}

// One descriptor less names f; the last one closes it.
void
fileclose(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("fileclose: file %p is not open", f);
  if (--f->ref > 0) {
    release(&ftable.lock);
    return;
  }
  struct file closed = *f;              // the slot is free once the lock goes
  f->type = FD_NONE;
  f->pipe = NULL;
  release(&ftable.lock);
  if (closed.type == FD_PIPE)
    pipeclose(closed.pipe, closed.writable);
}

// The first process's fds 0, 1 and 2: the console.
int
file_console(struct proc *p)
{
  struct file *f = filealloc();

  if (f == NULL)
    return -1;
  f->type = FD_CONSOLE;
  f->readable = f->writable = 1;
  p->ofile[0] = f;
  p->ofile[1] = filedup(f);
  p->ofile[2] = filedup(f);
  return 0;
}

// A new process np (allocproc) names every file its maker p has open:
// fork's child, its parent's. The first process has no maker (p NULL).
void
file_fork(struct proc *np, struct proc *p)
{
  for (int fd = 0; fd < NOFILE; fd++)
    np->ofile[fd] = p && p->ofile[fd] ? filedup(p->ofile[fd]) : NULL;
}

// exit: close every descriptor of p.
void
file_exit(struct proc *p)
{
  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd]) {
      fileclose(p->ofile[fd]);
      p->ofile[fd] = NULL;
    }
  }
}

// The open file that the calling process's fd names, or NULL.
static struct file *
fd_file(int fd)
{
  if (fd < 0 || fd >= NOFILE)
    return NULL;
  return myproc()->ofile[fd];
}

// Give f the calling process's lowest free descriptor; -1 if none.
static int
fd_alloc(struct file *f)
{
  struct proc *p = myproc();

  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd] == NULL) {
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -1;
}

// read(fd, buf, n): up to n bytes into user address buf; the count read,
// 0 at end of file, -1 on a bad fd, length or buffer.
int
file_read(int fd, uint64 buf, int n)
{
  struct file *f = fd_file(fd);

  if (f == NULL || !f->readable || n < 0 || uvm_check(myproc()->pml4, buf, n, 1) < 0)
    return -1;
  if (f->type == FD_PIPE)
    return piperead(f->pipe, buf, n);
#if LAB >= 7
  return console_read(buf, n);
#else
  return 0;                             // the console: no input before lab 7
#endif
}

// write(fd, buf, n): n bytes from user address buf; n, or -1 on a bad fd,
// length or buffer (checked whole before a byte is written), or a pipe
// with no reader.
int
file_write(int fd, uint64 buf, int n)
{
  struct file *f = fd_file(fd);

  if (f == NULL || !f->writable || n < 0 || uvm_check(myproc()->pml4, buf, n, 0) < 0)
    return -1;
  if (f->type == FD_PIPE)
    return pipewrite(f->pipe, buf, n);
  return console_write_user(buf, n);
}

// close(fd): 0, or -1 if fd is not open.
int
file_closefd(int fd)
{
  struct file *f = fd_file(fd);

  if (f == NULL)
    return -1;
  myproc()->ofile[fd] = NULL;
  fileclose(f);
  return 0;
}

// dup(fd): a new descriptor, the lowest free one, for fd's file; -1 if
// fd is not open or the table is full.
int
file_dup(int fd)
{
  struct file *f = fd_file(fd);
  int nfd;

  if (f == NULL || (nfd = fd_alloc(f)) < 0)
    return -1;
  filedup(f);
  return nfd;
}

// pipe(fds): a new pipe; its read end's fd goes to fds[0] and its write
// end's to fds[1], at user address ufds. 0, or -1 with nothing left open.
int
file_pipe(uint64 ufds)
{
  struct proc *p = myproc();
  struct file *rf = filealloc(), *wf = filealloc();
  struct pipe *pi;
  int fds[2] = { -1, -1 };

  if (rf == NULL || wf == NULL || (pi = pipealloc()) == NULL)
    goto fail;
  rf->type = wf->type = FD_PIPE;
  rf->pipe = wf->pipe = pi;
  rf->readable = 1, rf->writable = 0;
  wf->readable = 0, wf->writable = 1;
  if ((fds[0] = fd_alloc(rf)) < 0 || (fds[1] = fd_alloc(wf)) < 0 ||
      copyout(p->pml4, ufds, fds, sizeof(fds)) < 0)
    goto fail;
  return 0;

fail:
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      p->ofile[fds[i]] = NULL;
  if (rf)                               // (with a pipe, closing both ends frees it)
    fileclose(rf);
  if (wf)
    fileclose(wf);
  return -1;
}
