/* One record of the owners iterator (owners.bpf.c): a socket that listens, held by a process at
 * one fd, with what /proc/PID/comm and /proc/PID/status would say of that process's name and
 * effective uid (so that they need not be read). Shared by the BPF program (C, clang -target bpf)
 * and the reader (C++), so that both agree on the layout; fixed-size fields only. */
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
  unsigned int euid;        /* the holder's effective uid (the kernel's: initial user namespace) */
  char comm[16];            /* the holder's name, as /proc/PID/comm shows it (NUL-padded) */
};

#endif
