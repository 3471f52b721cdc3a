/* The owners iterator: visits every task's file table in the kernel and writes one record per
 * fd that holds a listening TCP socket or a bound, unconnected UDP socket (the sockets `ss -l`
 * lists). It replaces the readlink of every fd of every process that the /proc walk does.
 *
 * It is a task iterator that reads each file table itself, not a task_file iterator: that one
 * takes and drops a reference on every open file of the host, under the task's lock, before the
 * program sees it, and on the benchmark's host state (about 15,000 open files) that alone cost
 * 2.3-2.5 ms per iteration, with a program that returned at once. Reading the fd array a chunk
 * at a time and each open file's f_op, this program iterates that state in 1.4-1.6 ms (the
 * task_file program: 2.5-2.7). It costs more to load (most of it the verifier, which processes
 * 1,400 instructions since its branch-made flags live in .bss; 3,300 before): the agent, which
 * loads once, gains on every scan; a one-shot command, which loads it for one pass, loads it on a
 * thread while it reads the registry (docs/benchmarks.md). More slots per chunk iterate faster
 * but verify slower (32: 1.3 ms, 6 ms to load). The reads take no
 * reference: the program runs under RCU, which keeps the fd array and (since Linux 6.7) the file
 * structs in place; a process exiting meanwhile can at worst yield a record whose inode matches no
 * socket of the dump, and records are joined on that inode. Read by collectors/owner_bpf.cpp
 * through a light skeleton (bpftool gen skeleton -L): the kernel does the CO-RE relocation at load
 * time, so no libbpf is needed at run time. */
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
#define SLOTS 8               /* fd slots read at once; fd arrays are a multiple of 64 long */
#define MAX_CHUNKS (1U << 23) /* bpf_loop's own limit: 64 Mi fds */
/* The socket records one call (one task) may write. A call's records must fit the iterator's
 * 32 KiB buffer at once, or the kernel fails the whole iteration: the process record, this many
 * sockets and an overflow record make 1,365 records of 24 bytes, 32,760 bytes. */
#define MAX_SOCKETS_PER_CALL 1363

/* Filters, fixed before load (rodata): 0 means "any". */
const volatile __u32 target_netns = 0; /* inode of the network namespace to report */
const volatile __u16 target_port = 0;  /* one port (check PORT) */
const volatile __u8 first_only = 0;    /* stop emitting after the first record */
/* An fd of the reader's own process that holds a socket it opened for this (set at load). */
const volatile __u32 probe_fd = 0;

/* Per iteration state: .bss survives between iterations of one link, so the reader resets all
 * of it before each (portman_owners_reset in owners_loader.c). */
__u32 emitted = 0;
/* What is learnt from the reading task, once per iteration (know_reader). */
__u8 reader_known = 0;
__u32 reader_level = 0; /* its pid namespace's level */
__u64 reader_ns = 0;    /* and that namespace */
/* The f_op of socket files: socket_file_ops, a static symbol that neither BTF nor kallsyms
 * offers, read from the reader's probe socket. 0 when that failed: then no file matches. */
__u64 socket_fops = 0;
/* The last task a pid was worked out for, and that pid, its process's effective uid and name: a
 * server's thousand sockets are visited one after another, and the iterator holds the task
 * meanwhile, so the address names it. */
__u64 last_task = 0;
int last_pid = 0;
__u32 last_euid = 0;
char last_comm[16] = {};
/* Whether this call of the program (one task) has written its process record. Reset on each
 * call, not kept per task: when a task's records do not fit what is left of the buffer, the
 * kernel drops them and calls the program again for that task on the next read. */
__u8 described = 0;
/* The socket records this call has written, and whether it gave up on the rest of the task's
 * sockets: then one overflow record names the process, and the reader reads its fds from
 * /proc instead (owner_bpf.cpp). Reset on each call, as `described` is. */
__u32 written = 0;
__u8 overflowed = 0;
/* The chunk of the fd array being read. Here rather than on the stack: the verifier tracks what
 * each stack slot holds and explored the filter loop below for every mix of kept and cleared
 * slots (18 ms to load), while a map value is just memory to it. */
struct file* slots[SLOTS] = {};
/* Whether the chunk holds a socket. Here for the same reason: in a register, each mix of slots
 * that did and did not set it was a state of its own to the verifier. */
__u32 sockets_in_chunk = 0;
/* The chunks of the table being read (clamped to bpf_loop's limit): a clamped and an unclamped
 * count in a register were two states, and bpf_loop's callback was verified once for each. */
__u32 chunks = 0;

/* Learns from the task reading the iterator (this process) its pid namespace and the f_op of
 * socket files, from its probe socket: a socket known to be one, so that no other file can teach
 * a wrong f_op, and no test of each candidate file is needed (that test made the program twice as
 * long to verify). */
static __always_inline void know_reader(void) {
  struct task_struct* reader = bpf_get_current_task_btf();
  struct pid* reader_pid = BPF_CORE_READ(reader, thread_pid);
  reader_level = BPF_CORE_READ(reader_pid, level);
  if (reader_level <= MAX_PID_LEVEL) {
    struct upid* reader_upid =
        (struct upid*)((char*)reader_pid + bpf_core_field_offset(struct pid, numbers) +
                       reader_level * bpf_core_type_size(struct upid));
    reader_ns = (__u64)BPF_CORE_READ(reader_upid, ns);
  }
  struct fdtable* fdt = BPF_CORE_READ(reader, files, fdt);
  struct file** fd = BPF_CORE_READ(fdt, fd);
  struct file* probe = 0;
  if (fd && probe_fd < BPF_CORE_READ(fdt, max_fds) &&
      bpf_probe_read_kernel(&probe, sizeof probe, fd + probe_fd) == 0 && probe)
    socket_fops = (__u64)BPF_CORE_READ(probe, f_op);
  reader_known = 1;
}

/* The pid number of `task`'s process in the pid namespace of the task reading the iterator, or
 * 0 when that namespace cannot see it. task->tgid would be the init namespace's number: wrong for
 * an agent in a container, whose /proc shows its own numbers. Also learns the process's name
 * and effective uid (last_comm, last_euid) for its records. */
static __always_inline int pid_for_reader(struct task_struct* task) {
  if ((__u64)task == last_task) return last_pid;
  unsigned int level = reader_level;
  int nr = 0;
  struct task_struct* leader = BPF_CORE_READ(task, group_leader);
  struct pid* pid = BPF_CORE_READ(leader, thread_pid);
  if (pid && level <= MAX_PID_LEVEL && BPF_CORE_READ(pid, level) >= level) {
    struct upid* upid = (struct upid*)((char*)pid + bpf_core_field_offset(struct pid, numbers) +
                                       level * bpf_core_type_size(struct upid));
    if ((__u64)BPF_CORE_READ(upid, ns) == reader_ns) nr = BPF_CORE_READ(upid, nr);
  }
  /* The process's name and effective uid, from its leader: /proc/PID/comm and status show the
   * leader's, whichever thread holds the file table. */
  bpf_core_read(last_comm, sizeof last_comm, &leader->comm);
  last_euid = BPF_CORE_READ(leader, cred, euid.val);
  last_task = (__u64)task;
  last_pid = nr;
  return nr;
}

struct table_walk {
  struct task_struct* task;
  struct seq_file* seq;
  struct file** fd; /* the fd array */
  __u32 max_fds;
  __u32 base; /* the fd of slots[0] */
};

/* Writes the record of fd `fd`, open on the socket file `f`, when it holds a socket ss -l would
 * list. */
static __always_inline void emit_if_listening(struct table_walk* w, struct file* f, __u32 fd) {
  struct socket* sock = BPF_CORE_READ(f, private_data);
  struct sock* sk = BPF_CORE_READ(sock, sk);
  if (!sk) return;

  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (family != AF_INET && family != AF_INET6) return;
  __u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);
  if (port == 0 || (target_port && port != target_port)) return;
  __u16 protocol = BPF_CORE_READ(sk, sk_protocol);
  unsigned char state = BPF_CORE_READ(sk, __sk_common.skc_state);
  if (protocol == IPPROTO_TCP) {
    if (state != TCP_LISTEN) return;
  } else if (protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE) {
    if (state != TCP_CLOSE) return;
  } else {
    return;
  }
  __u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  if (target_netns && netns != target_netns) return;

  int pid = pid_for_reader(w->task);
  if (pid <= 0) return; /* outside the reader's pid namespace: its /proc cannot show it */
  if (written >= MAX_SOCKETS_PER_CALL) {
    struct portman_owner_process over = {};
    over.pid = (__u32)pid;
    over.kind = PORTMAN_OWNER_OVERFLOW;
    bpf_seq_write(w->seq, &over, sizeof over);
    overflowed = 1;
    return;
  }

  struct portman_owner_record rec = {};
  rec.inode = BPF_CORE_READ((struct socket_alloc*)sock, vfs_inode.i_ino);
  rec.pid = (__u32)pid;
  rec.fd = fd;
  rec.netns = netns;
  rec.port = port;
  rec.family = (__u8)family;
  rec.protocol = (__u8)protocol;
  if (!described) {
    struct portman_owner_process proc = {};
    proc.pid = (__u32)pid;
    proc.euid = last_euid;
    __builtin_memcpy(proc.comm, last_comm, sizeof proc.comm);
    proc.kind = PORTMAN_OWNER_PROCESS;
    bpf_seq_write(w->seq, &proc, sizeof proc);
    described = 1;
  }
  bpf_seq_write(w->seq, &rec, sizeof rec);
  written++;
  emitted = 1;
}

/* bpf_loop's callback for slot i of the chunk read last: walk_slots has cleared the slots that
 * hold no socket. A callback rather than a loop in walk_slots: the verifier checks a callback
 * once or twice, and a bounded loop once per turn (32 copies of emit_if_listening took 57 ms to
 * verify). */
static long visit_slot(__u32 i, void* data) {
  struct table_walk* w = data;
  struct file* f = slots[i & (SLOTS - 1)];
  if (f) emit_if_listening(w, f, w->base + i);
  return (first_only && emitted) || overflowed;
}

/* bpf_loop's callback: slots [chunk * SLOTS, chunk * SLOTS + SLOTS) of the fd array, read in one
 * go (a kernel keeps max_fds a multiple of BITS_PER_LONG, so the last chunk is whole too; were it
 * not, the rest stays NULL). Each open file costs one read of its f_op here; only sockets go on
 * to emit_if_listening. */
static long walk_slots(__u32 chunk, void* data) {
  struct table_walk* w = data;
  __u32 base = chunk * SLOTS;
  if (base >= w->max_fds) return 1;
  __u32 n = w->max_fds - base;
  if (n >= SLOTS) {
    if (bpf_probe_read_kernel(slots, sizeof slots, w->fd + base)) return 1;
  } else {
    __builtin_memset(slots, 0, sizeof slots);
    if (bpf_probe_read_kernel(slots, (n & (SLOTS - 1)) * sizeof(slots[0]), w->fd + base)) return 1;
  }
  sockets_in_chunk = 0;
#pragma unroll
  for (__u32 i = 0; i < SLOTS; i++) {
    struct file* f = slots[i];
    if (!f) continue;
    if ((__u64)BPF_CORE_READ(f, f_op) == socket_fops)
      sockets_in_chunk = 1;
    else
      slots[i] = 0;
  }
  if (!sockets_in_chunk) return 0;
  w->base = base;
  bpf_loop(SLOTS, visit_slot, w, 0);
  return (first_only && emitted) || overflowed;
}

SEC("iter/task")
int portman_owners(struct bpf_iter__task* ctx) {
  struct task_struct* task = ctx->task;
  if (!task) return 0; /* the last call of an iteration */
  described = 0;
  written = 0;
  overflowed = 0;
  if (first_only && emitted) return 0;
  if (!reader_known) know_reader();
  if (!socket_fops) return 0;
  /* BPF_CORE_READ, not plain loads: on 6.18 the verifier looks up a pointer loaded through a
   * trusted pointer (the task) by name in the whole kernel BTF, about 1 ms a load. */
  struct files_struct* files = BPF_CORE_READ(task, files);
  if (!files) return 0;
  /* A thread that shares its process's file table: that table is read at the leader. (A task
   * file iterator skips the same tasks.) */
  if (BPF_CORE_READ(task, pid) != BPF_CORE_READ(task, tgid) &&
      BPF_CORE_READ(task, group_leader, files) == files)
    return 0;
  struct fdtable* fdt = BPF_CORE_READ(files, fdt);
  if (!fdt) return 0;
  struct table_walk w = {
      .task = task,
      .seq = ctx->meta->seq,
      .fd = BPF_CORE_READ(fdt, fd),
      .max_fds = BPF_CORE_READ(fdt, max_fds),
  };
  chunks = (w.max_fds + SLOTS - 1) / SLOTS;
  if (chunks > MAX_CHUNKS) chunks = MAX_CHUNKS;
  bpf_loop(*(volatile __u32*)&chunks, walk_slots, &w, 0); /* read back, not kept in a register */
  return 0;
}

/* bpf_seq_write and bpf_probe_read_kernel are GPL-only helpers. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
