/* The few kernel types owners.bpf.c reads, declared by hand with preserve_access_index: the
 * kernel relocates each field access against its own BTF when the program loads (CO-RE), so
 * the object does not depend on the build machine's kernel and no vmlinux.h is generated.
 * Only the fields read are declared; a field inside an anonymous union or struct of the kernel
 * can be declared flat, since relocation matches fields by name. */
#ifndef PORTMAN_OWNERS_CORE_H
#define PORTMAN_OWNERS_CORE_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

#define PAI __attribute__((preserve_access_index))

struct seq_file;
struct pid_namespace;

struct ns_common {
  unsigned int inum;
} PAI;

struct net {
  struct ns_common ns;
} PAI;

struct sock_common {
  __u16 skc_num;
  unsigned short skc_family;
  volatile unsigned char skc_state;
  struct {
    struct net* net;
  } skc_net;
} PAI;

struct sock {
  struct sock_common __sk_common;
  __u16 sk_protocol;
} PAI;

struct socket {
  struct sock* sk;
  struct file* file;
} PAI;

/* Read only through BPF_CORE_READ and bpf_core_type_size, which relocate it without the
 * attribute. */
struct upid {
  int nr;
  struct pid_namespace* ns;
};

struct pid {
  unsigned int level;
  struct upid numbers[1];
} PAI;

struct inode {
  unsigned long i_ino;
} PAI;

/* A socket's inode, allocated with the socket (SOCK_INODE in the kernel). Read through this type
 * rather than struct inode: the kernel keeps the candidates of each relocated type in a cache of
 * 31 slots hashed by name, where "inode" and "net" share a slot and evicted each other on every
 * load, a search of the whole kernel BTF each time (about 0.25 ms). */
struct socket_alloc {
  struct socket socket;
  struct inode vfs_inode;
} PAI;

struct file {
  const void* f_op;
  struct inode* f_inode;
  void* private_data;
} PAI;

struct fdtable {
  unsigned int max_fds;
  struct file** fd;
} PAI;

struct files_struct {
  struct fdtable* fdt;
} PAI;

typedef struct {
  __u32 val;
} kuid_t;

struct cred {
  kuid_t euid;
} PAI;

struct task_struct {
  int pid;
  int tgid;
  struct task_struct* group_leader;
  struct pid* thread_pid;
  struct files_struct* files;
  const struct cred* cred;
  char comm[16];
} PAI;

/* The iterator's context, as the kernel defines it for iterator programs (every member 8 bytes,
 * checked against its BTF at load): fixed offsets, nothing for CO-RE to relocate. */
struct bpf_iter_meta {
  struct seq_file* seq;
  __u64 session_id;
  __u64 seq_num;
};

struct bpf_iter__task {
  struct bpf_iter_meta* meta;
  struct task_struct* task;
};

#undef PAI

#endif
