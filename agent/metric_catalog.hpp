// Every metric the agent serves, in the order it serves them: name, type, help and label names.
// The sources' metrics are declared in their own files and listed by their table rows;
// metric_catalog() joins them. The renderer (metrics.cpp) takes them from here, and the tests check
// both the output and the table in docs/metrics.md against this list, so that the three cannot
// drift apart.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "libportman/metric_spec.hpp"

namespace portman::agent {

using portman::MetricSpec;
using portman::MetricType;

namespace metric_labels {
inline constexpr std::string_view build[] = {"version", "revision"};
inline constexpr std::string_view collector[] = {"collector"};
inline constexpr std::string_view listening[] = {"port", "protocol",  "address",     "process",
                                                 "user", "container", "service_name"};
inline constexpr std::string_view registered[] = {
    "port", "protocol", "service_name", "service_env", "service_owner", "service_type", "status"};
inline constexpr std::string_view port_key[] = {"port", "protocol"};
inline constexpr std::string_view finding[] = {"kind", "port", "protocol", "service_name",
                                               "process"};
inline constexpr std::string_view kind[] = {"kind"};
inline constexpr std::string_view range[] = {"service_type", "state"};
}  // namespace metric_labels

namespace metric {
namespace l = metric_labels;

inline constexpr MetricSpec build_info{
    "portman_build_info", MetricType::gauge,
    "A metric with a constant '1' value labeled by the version and the git revision portman was "
    "built from.",
    l::build};
inline constexpr MetricSpec collector_success{
    "portman_scrape_collector_success", MetricType::gauge,
    "Whether the collector's last run succeeded (1) or failed (0). One scan serves every scrape "
    "within --scan.min-interval (default 2s).",
    l::collector};
inline constexpr MetricSpec collector_duration{
    "portman_scrape_collector_duration_seconds", MetricType::gauge,
    "Seconds the collector's last run took. One scan serves every scrape within "
    "--scan.min-interval (default 2s).",
    l::collector};
inline constexpr MetricSpec listening_port_info{
    "portman_listening_port_info", MetricType::gauge,
    "A listening TCP socket or bound UDP socket, 1 per socket; process and user are empty when "
    "the owner is unknown; service_name is the registered service, portman-agent for an agent's "
    "own socket, empty otherwise.",
    l::listening};
inline constexpr MetricSpec registered_port_info{
    "portman_registered_port_info", MetricType::gauge,
    "A port allocation in the registry, 1 each: the service's metadata, to join with "
    "portman_port_up on port and protocol.",
    l::registered};
inline constexpr MetricSpec port_up{
    "portman_port_up", MetricType::gauge,
    "Whether something listens on the registered port and protocol (1) or not (0); the service "
    "is on portman_registered_port_info.",
    l::port_key};
inline constexpr MetricSpec finding{
    "portman_finding", MetricType::gauge,
    "A finding of the registry-against-live comparison, 1 each; process is empty when nothing "
    "listens or the owner is unknown.",
    l::finding};
inline constexpr MetricSpec findings{"portman_findings", MetricType::gauge,
                                     "Number of findings of each kind (0 when there are none).",
                                     l::kind};
inline constexpr MetricSpec range_ports{
    "portman_range_ports", MetricType::gauge,
    "Ports of each service type's range by state: allocated (registered), unregistered "
    "(listening, not registered), unavailable (reserved, ignored or in quarantine), free (could "
    "be allocated now); the four add up to the range size.",
    l::range};
inline constexpr MetricSpec listener_changes{
    "portman_listener_changes_total",
    MetricType::counter,
    "Listening sockets that appeared or went away since the agent started.",
    {}};
inline constexpr MetricSpec registry_present{
    "portman_registry_present",
    MetricType::gauge,
    "Whether the registry file exists at the path the agent was given (1) or not (0).",
    {}};
inline constexpr MetricSpec registry_valid{
    "portman_registry_valid",
    MetricType::gauge,
    "Whether the registry in use is the file on disk (1), or that file is missing or invalid and "
    "the last good registry, if any, is kept in use (0).",
    {}};
inline constexpr MetricSpec registry_reload{
    "portman_registry_last_reload_success_timestamp_seconds",
    MetricType::gauge,
    "Unix time of the last successful registry (re)load.",
    {}};
inline constexpr MetricSpec sockets_owner_unknown{
    "portman_sockets_owner_unknown",
    MetricType::gauge,
    "Listening sockets without a known owner because processes could not be read "
    "(permissions).",
    {}};
inline constexpr MetricSpec processes_unreadable{
    "portman_processes_unreadable",
    MetricType::gauge,
    "Processes whose file descriptors could not be read (permissions); a detail of "
    "portman_sockets_owner_unknown.",
    {}};
inline constexpr MetricSpec process_cpu{"process_cpu_seconds_total",
                                        MetricType::counter,
                                        "Total user and system CPU time spent in seconds.",
                                        {}};
inline constexpr MetricSpec process_resident{
    "process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.", {}};
inline constexpr MetricSpec process_virtual{
    "process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.", {}};
inline constexpr MetricSpec process_start{"process_start_time_seconds",
                                          MetricType::gauge,
                                          "Start time of the process since unix epoch in seconds.",
                                          {}};
inline constexpr MetricSpec process_open_fds{
    "process_open_fds", MetricType::gauge, "Number of open file descriptors.", {}};
inline constexpr MetricSpec process_max_fds{
    "process_max_fds", MetricType::gauge, "Maximum number of open file descriptors.", {}};
}  // namespace metric

// The agent's own metrics, in output order; the sources' come between these and process_*.
inline constexpr const MetricSpec* kCoreMetrics[] = {&metric::build_info,
                                                     &metric::collector_success,
                                                     &metric::collector_duration,
                                                     &metric::listening_port_info,
                                                     &metric::registered_port_info,
                                                     &metric::port_up,
                                                     &metric::finding,
                                                     &metric::findings,
                                                     &metric::range_ports,
                                                     &metric::listener_changes,
                                                     &metric::registry_present,
                                                     &metric::registry_valid,
                                                     &metric::registry_reload,
                                                     &metric::sockets_owner_unknown,
                                                     &metric::processes_unreadable};
inline constexpr const MetricSpec* kProcessMetrics[] = {
    &metric::process_cpu,   &metric::process_resident, &metric::process_virtual,
    &metric::process_start, &metric::process_open_fds, &metric::process_max_fds};

// The whole contract, in output order: the agent's own metrics, each source's (from its table
// row, in table order), then the process metrics.
std::vector<const MetricSpec*> metric_catalog();

}  // namespace portman::agent
