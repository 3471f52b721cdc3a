#include "inventory/dokploy_source.hpp"

#include "inventory/dokploy_findings.hpp"
#include "inventory/dokploy_metrics.hpp"

namespace portman::dokploy {
namespace {

constexpr OptionSpec kOptions[] = {
    {"url", "",
     "Dokploy's base URL, without /api (e.g. https://dokploy.example.com); setting it turns the "
     "source on",
     "DOKPLOY_API_URL"},
    {"api_key_file", "",
     "file holding the API key (Settings → Profile → API/CLI Keys); mode 600, as ssh requires"},
    {"api_key", "", "the API key, from the environment only", "DOKPLOY_API_KEY", true},
    {"timeout", "5s", "time allowed for each request"},
    {"interval", "60s", "how often the agent asks"},
    {"server_id", "",
     "Dokploy's id of the server this portman runs on; unset: the Dokploy host itself"},
    {"parallel", "4", "requests in flight at once (1-64)"},
};

class DokploySource : public InventorySource {
 public:
  DokploySource(ClientOptions options, Transport transport)
      : options_(std::move(options)), transport_(std::move(transport)) {}
  Result<Inventory> fetch() override { return fetch_inventory(options_, transport_); }

 private:
  ClientOptions options_;
  Transport transport_;
};

Result<std::unique_ptr<InventorySource>> make(const SourceSettings& settings) {
  auto options = client_options(settings);
  if (!options) return options.error();
  return make_source(std::move(*options), http_transport());
}

void samples(const InventoryState& state, const SourceSettings& settings,
             std::vector<Sample>& out) {
  write_samples(state, configured_server(settings), out);
}

void findings(const Inventory& inventory, const SourceSettings& settings, const Registry& registry,
              const LiveState&, const Config& config, std::vector<Finding>& out) {
  auto mine = dokploy_findings(inventory, configured_server(settings), registry, config);
  out.insert(out.end(), mine.begin(), mine.end());
}

}  // namespace

std::optional<std::string> configured_server(const SourceSettings& settings) {
  if (!settings.has("server_id")) return std::nullopt;
  return settings.text("server_id");
}

std::unique_ptr<InventorySource> make_source(ClientOptions options, Transport transport) {
  return std::make_unique<DokploySource>(std::move(options), std::move(transport));
}

InventorySpec inventory_spec() {
  return {"dokploy", "services deployed by Dokploy and the host ports they publish (its HTTP API)",
          kOptions,  "url",
          kMetrics,  &make,
          &samples,  &findings};
}

}  // namespace portman::dokploy
