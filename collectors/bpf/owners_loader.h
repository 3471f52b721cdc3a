/* A C wrapper over the light skeleton of owners.bpf.c: bpftool 7.1 writes the skeleton as C that
 * a C++ compiler refuses (void * conversions), so only this file includes it. */
#ifndef PORTMAN_OWNERS_LOADER_H
#define PORTMAN_OWNERS_LOADER_H

#ifdef __cplusplus
extern "C" {
#endif

struct portman_owners;

/* The program's read-only constants, fixed at load; 0 means "any". */
struct portman_owners_filter {
  unsigned int netns;       /* inode of the network namespace to report */
  unsigned short port;      /* one port */
  unsigned char first_only; /* one record per iteration */
  unsigned int probe_fd;    /* a socket of this process, kept open as long as the program */
};

/* Loads the program and creates its iterator link. 0, or a negative errno (*out stays NULL). */
int portman_owners_open(const struct portman_owners_filter* filter, struct portman_owners** out);
/* The link to create iterators from (BPF_ITER_CREATE). */
int portman_owners_link(const struct portman_owners* skel);
/* Clears the program's per-iteration state (.bss outlives an iteration of the same link). */
void portman_owners_reset(struct portman_owners* skel);
/* After an iteration: whether the program could read the probe socket's f_op (when it could not,
 * it matched no file, and an empty result means nothing). */
int portman_owners_knew_sockets(const struct portman_owners* skel);
void portman_owners_close(struct portman_owners* skel);

#ifdef __cplusplus
}
#endif

#endif
