/* The owners iterator: visits every task's file table in the kernel and writes one record per
 * fd that holds a listening TCP socket or a bound, unconnected UDP socket (the sockets `ss -l`
 * lists). It replaces the readlink of every fd of every process that the /proc walk does.
 * Read by collectors/owner_bpf.cpp through a light skeleton (bpftool gen skeleton -L): the
 * kernel does the CO-RE relocation at load time, so no libbpf is needed at run time. */
#include "owners_core.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "owner_record.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_UDPLITE 136
#define TCP_LISTEN 10
#define TCP_CLOSE 7 /* an unconnected UDP socket */
#define MAX_PID_LEVEL 32

/* Filters, fixed before load (rodata): 0 means "any". */
const volatile __u32 target_netns = 0; /* inode of the network namespace to report */
const volatile __u16 target_port = 0;  /* one port (check PORT) */
const volatile __u8 first_only = 0;    /* stop emitting after the first record */

/* Per iteration state: .bss survives between iterations of one link, so the reader resets all
 * of it before each (portman_owners_reset in owners_loader.c). */
__u32 emitted = 0;
/* The reader's pid namespace and its level, read once per iteration. */
__u8 reader_known = 0;
__u32 reader_level = 0;
__u64 reader_ns = 0;
/* The last task a pid was worked out for, and that pid: a server's thousand sockets are visited
 * one after another, and the iterator holds the task meanwhile, so the address names it. */
__u64 last_task = 0;
int last_pid = 0;

/* The pid number of `task`'s process in the pid namespace of the task reading the iterator, or
 * 0 when that namespace cannot see it. task->tgid would be the init namespace's number: wrong for
 * an agent in a container, whose /proc shows its own numbers. */
static __always_inline int pid_for_reader(struct task_struct* task) {
  if ((__u64)task == last_task) return last_pid;
  __u64 upid_size = bpf_core_type_size(struct upid);
  __u64 numbers = bpf_core_field_offset(struct pid, numbers);
  if (!reader_known) {
    struct task_struct* reader = bpf_get_current_task_btf();
    struct pid* reader_pid = BPF_CORE_READ(reader, thread_pid);
    reader_level = BPF_CORE_READ(reader_pid, level);
    if (reader_level > MAX_PID_LEVEL) return 0;
    struct upid* reader_upid =
        (struct upid*)((char*)reader_pid + numbers + reader_level * upid_size);
    reader_ns = (__u64)BPF_CORE_READ(reader_upid, ns);
    reader_known = 1;
  }
  unsigned int level = reader_level;
  int nr = 0;
  struct pid* pid = BPF_CORE_READ(task, group_leader, thread_pid);
  if (pid && level <= MAX_PID_LEVEL && BPF_CORE_READ(pid, level) >= level) {
    struct upid* upid = (struct upid*)((char*)pid + numbers + level * upid_size);
    if ((__u64)BPF_CORE_READ(upid, ns) == reader_ns) nr = BPF_CORE_READ(upid, nr);
  }
  last_task = (__u64)task;
  last_pid = nr;
  return nr;
}

SEC("iter/task_file")
int portman_owners(struct bpf_iter__task_file* ctx) {
  struct task_struct* task = ctx->task;
  struct file* file = ctx->file;
  if (!task || !file) return 0; /* the last call of an iteration */
  if (first_only && emitted) return 0;

  /* Not the inode mode: an O_PATH fd on a unix socket's file would pass that test. */
  struct socket* sock = bpf_sock_from_file(file);
  if (!sock) return 0;
  /* The socket's fields are read with plain loads, which the verifier allows through these typed
   * pointers and the JIT makes single instructions: a BPF_CORE_READ is a helper call each, and
   * nine of them per socket were a third of the iteration. Loading is not measurably slower. */
  struct sock* sk = sock->sk;
  if (!sk) return 0;

  __u16 family = sk->__sk_common.skc_family;
  if (family != AF_INET && family != AF_INET6) return 0;
  __u16 port = sk->__sk_common.skc_num;
  if (port == 0 || (target_port && port != target_port)) return 0;
  __u16 protocol = sk->sk_protocol;
  unsigned char state = sk->__sk_common.skc_state;
  if (protocol == IPPROTO_TCP) {
    if (state != TCP_LISTEN) return 0;
  } else if (protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE) {
    if (state != TCP_CLOSE) return 0;
  } else {
    return 0;
  }
  __u32 netns = sk->__sk_common.skc_net.net->ns.inum;
  if (target_netns && netns != target_netns) return 0;

  int pid = pid_for_reader(task);
  if (pid <= 0) return 0; /* outside the reader's pid namespace: its /proc cannot show it */

  struct portman_owner_record rec = {};
  rec.inode = file->f_inode->i_ino;
  rec.pid = (__u32)pid;
  rec.fd = ctx->fd;
  rec.netns = netns;
  rec.port = port;
  rec.family = (__u8)family;
  rec.protocol = (__u8)protocol;
  bpf_seq_write(ctx->meta->seq, &rec, sizeof rec);
  emitted = 1;
  return 0;
}

/* bpf_seq_write is a GPL-only helper. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
