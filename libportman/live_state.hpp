// What is really there: the listening sockets and their owners, as the collectors found them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libportman/metric_spec.hpp"
#include "libportman/port.hpp"

namespace portman {

struct Owner {
  pid_t pid = 0;
  std::string process;    // comm, as the kernel names the process (at most 15 chars)
  std::string exe;        // target of /proc/PID/exe, empty when unreadable
  std::string cmdline;    // argv joined with spaces; never put into metric labels
  uid_t uid = 0;          // effective uid of the process
  std::string user;       // name of uid, or the number when it has no name
  std::string container;  // container id (64 hex) from /proc/PID/cgroup, empty on the host
  std::string unit;       // systemd unit owning the process (e.g. nginx.service), if any
};

// The processes holding a socket, in pid order, read like a vector of Owner. Each is shared, not
// copied: the thousand sockets of one server point at one Owner, as does the owners collector's
// cache of what it read about that process.
class OwnerList {
  using Ptr = std::shared_ptr<const Owner>;
  using Items = std::vector<Ptr>;

 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Owner;
    using difference_type = std::ptrdiff_t;
    using pointer = const Owner*;
    using reference = const Owner&;
    const_iterator() = default;
    explicit const_iterator(Items::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    const_iterator& operator++() {
      ++it_;
      return *this;
    }
    const_iterator operator++(int) { return const_iterator(it_++); }
    bool operator==(const const_iterator&) const = default;

   private:
    Items::const_iterator it_;
  };

  OwnerList() = default;
  OwnerList(std::initializer_list<Owner> owners) {
    for (const Owner& o : owners) push_back(o);
  }
  OwnerList(const std::vector<Owner>& owners) {  // implicit: tests build owners as a vector
    for (const Owner& o : owners) push_back(o);
  }
  void push_back(Owner o) { items_.push_back(std::make_shared<const Owner>(std::move(o))); }
  void push_back(Ptr o) { items_.push_back(std::move(o)); }
  void clear() { items_.clear(); }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const Owner& operator[](std::size_t i) const { return *items_[i]; }
  const Owner& front() const { return *items_.front(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

 private:
  Items items_;
};

enum class Family : std::uint8_t { ipv4, ipv6 };

// What a socket really serves when its holder is only the way in (docker-proxy, or dockerd with
// the userland proxy off) or runs inside a container (--network host): the container or Swarm
// service behind it. Filled by the docker collector; every renderer shows it instead of the proxy.
struct Workload {
  std::string kind;  // "container" or "service" (a Swarm service)
  std::string name;  // container name without the leading '/', or the Swarm service name
  std::string id;    // full container or service id
  std::string image;
  std::string via;  // the holder it was seen through: "docker-proxy", "dockerd"; empty if direct
  std::string compose_project;  // com.docker.compose.project, when set
  std::string compose_service;  // com.docker.compose.service, when set
};

struct LiveState;

struct ListeningSocket {
  Protocol protocol = Protocol::tcp;
  Family family = Family::ipv4;
  std::string address;  // numeric, no brackets: "0.0.0.0", "::", "127.0.0.1", "::1"
  std::uint16_t port = 0;
  bool v6only = false;  // IPv6 socket that does not accept IPv4 (IPV6_V6ONLY)
  std::uint64_t inode = 0;
  uid_t uid = 0;              // uid that created the socket
  std::string netns;          // network namespace ("net:[4026531840]"); empty when unknown
  OwnerList owners;           // processes holding the socket, pid order; empty if unknown
  std::string owner_unknown;  // why owners is empty, when the owners collector ran
  // The container or service behind it, when known; shared, not held: most sockets have none,
  // and each socket's size is paid 2,000 times a scan.
  std::shared_ptr<const Workload> workload;

  PortKey key() const { return {port, protocol}; }
  // False for a socket inside another network namespace (a container's own, from the netns
  // collector): listed, but it holds no port of the scanned host.
  bool on_host(const LiveState& live) const;
  bool wildcard() const { return address == "0.0.0.0" || address == "::"; }
  // The process the socket belongs to: the lowest pid that is not PID 1, so that a socket
  // passed by systemd (socket activation) belongs to the service; PID 1 only when alone.
  const Owner* main_owner() const;
  // Who serves it, for people and labels: the workload's name when known (never "docker-proxy"),
  // else the main owner's process name, else empty.
  std::string holder() const;
  // The container it belongs to, for a column or a label: the workload's name when known, else
  // the main owner's short container id, else empty.
  std::string container() const;
};

// Now, in the unit of LiveState's times: milliseconds since the epoch.
std::int64_t unix_ms_now();

// Docker and friends show the first 12 hex digits; the full id adds nothing to a label.
std::string short_container_id(std::string_view id);

// How one collector run went; the agent turns this into the per-collector metrics.
struct CollectorRun {
  std::string collector;
  bool success = false;
  double duration_seconds = 0;
  std::string error;  // why it failed, empty on success
};

struct LiveState {
  std::vector<ListeningSocket> sockets;
  std::vector<CollectorRun> runs;
  int processes_unreadable = 0;  // processes whose fds could not be read (permissions)
  // When the sockets were last looked at (the start of the scan's confirming look), in
  // milliseconds since the epoch: a socket closed before then is not in `sockets`.
  std::int64_t sockets_seen_at_unix_ms = 0;
  // Sockets that a later source saw still listening, and when it began to look: the BPF owner
  // iterator visits every socket it attributes, so the sockets collector's confirming look need
  // not ask the kernel again for these. Inodes sorted; unset when no source looked.
  struct LaterLook {
    std::int64_t at_unix_ms = 0;
    std::vector<std::uint64_t> inodes;
  };
  std::optional<LaterLook> later_look;
  std::string socket_source;          // "netlink" or "procfs": where the sockets came from
  std::string owner_source;           // "bpf" or "procfs": how their owners were found; empty: not
  std::string owner_source_fallback;  // why owners.method auto used procfs, for the agent's log
  bool owner_source_retry = false;    // ... for a pause after a failure: BPF is tried again
  std::string netns;                  // the scanned network namespace, when known
  // The kernel's ip_local_port_range (in the scanned network namespace): unbound UDP clients
  // get their ports from it. Unset when it could not be read.
  std::optional<std::pair<std::uint16_t, std::uint16_t>> ephemeral_ports;
  // Series the sources report about themselves (portman_docker_up...), written as they are.
  std::vector<Sample> samples;
  // One line each for `check` and `scan` about a source that could not be asked, e.g.
  // "docker: cannot connect to unix:///var/run/docker.sock: permission denied".
  std::vector<std::string> notes;

  // The ports something listens on, sorted, each once (any address, both families); with
  // `on_host_only`, only sockets of the scanned network namespace (ListeningSocket::on_host).
  std::vector<PortKey> listening_ports(bool on_host_only = false) const;
};

}  // namespace portman
