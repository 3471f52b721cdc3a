/* The records of the owners iterator (owners.bpf.c), 24 bytes each: a socket that listens, held
 * by a process at one fd; before a process's first socket record, a process record with what
 * /proc/PID/comm and /proc/PID/status would say of its name and effective uid (so that they need
 * not be read). The last byte tells them apart. 24 bytes, because all the records the program
 * writes for one process must fit the iterator's 32 KiB buffer (the kernel refuses the
 * iteration otherwise): up to 1,363 sockets per process, then an overflow record. Shared by the
 * BPF program (C, clang -target bpf) and the reader (C++), so that both agree on the layout;
 * fixed-size fields only. */
#ifndef PORTMAN_OWNER_RECORD_H
#define PORTMAN_OWNER_RECORD_H

struct portman_owner_record {
  unsigned long long inode; /* the socket's inode, as in "socket:[N]" */
  unsigned int pid;         /* the holder's tgid in the reader's pid namespace */
  unsigned int fd;          /* the fd it holds the socket by */
  unsigned int netns;       /* inode of the socket's network namespace */
  unsigned short port;      /* local port, host order */
  unsigned char family;     /* AF_INET or AF_INET6 */
  unsigned char protocol;   /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_UDPLITE */
};

#define PORTMAN_OWNER_PROCESS 0xff /* `kind` of a process record; never a protocol above */
/* `kind` of an overflow record: the process `pid` holds more listening sockets than one call of
 * the program can write (MAX_SOCKETS_PER_CALL in owners.bpf.c); the records before it are some
 * of them, and the reader finds the rest in /proc/PID/fd. */
#define PORTMAN_OWNER_OVERFLOW 0xfe

struct portman_owner_process {
  unsigned int pid;   /* as in the socket records that follow */
  unsigned int euid;  /* its effective uid (the kernel's: initial user namespace) */
  char comm[15];      /* its name, NUL-padded (the kernel's comm: at most 15 characters) */
  unsigned char kind; /* PORTMAN_OWNER_PROCESS */
};

#endif
