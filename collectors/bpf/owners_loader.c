/* See owners_loader.h. owners.lskel.h is generated at build time by bpftool gen skeleton -L. */
#include "owners_loader.h"

#include <errno.h>

#include "collectors/bpf/owners.lskel.h"

int portman_owners_open(const struct portman_owners_filter* filter, struct portman_owners** out) {
  *out = NULL;
  struct portman_owners* skel = portman_owners__open();
  if (!skel) return -ENOMEM;
  skel->rodata->target_netns = filter->netns;
  skel->rodata->target_port = filter->port;
  skel->rodata->first_only = filter->first_only;
  skel->rodata->probe_fd = filter->probe_fd;
  int err = portman_owners__load(skel);
  if (!err) err = portman_owners__attach(skel);
  if (err) {
    portman_owners__destroy(skel);
    return err < 0 ? err : -EINVAL;
  }
  *out = skel;
  return 0;
}

int portman_owners_link(const struct portman_owners* skel) {
  return skel->links.portman_owners_fd;
}

void portman_owners_reset(struct portman_owners* skel) {
  skel->bss->emitted = 0;
  skel->bss->reader_known = 0;
  skel->bss->reader_level = 0;
  skel->bss->reader_ns = 0;
  skel->bss->last_task = 0;
  skel->bss->last_pid = 0;
  skel->bss->last_euid = 0;
  skel->bss->described = 0;
  for (unsigned i = 0; i < sizeof skel->bss->last_comm; i++) skel->bss->last_comm[i] = 0;
  skel->bss->socket_fops = 0;
}

int portman_owners_knew_sockets(const struct portman_owners* skel) {
  return skel->bss->socket_fops != 0;
}

void portman_owners_close(struct portman_owners* skel) {
  portman_owners__destroy(skel);
}
