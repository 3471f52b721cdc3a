// Capabilities the binary was given as file capabilities without the effective bit (the
// container image: `setcap ...+p`), made effective at start. Permitted-only file capabilities
// never make exec fail, unlike `+ep`: in a container whose cap_add grants fewer of them (or
// none), portman still starts, with those it got, and says what it cannot attribute.
#pragma once

namespace portman::cli {

// Sets the effective set to the permitted set. A no-op for root and under systemd's
// AmbientCapabilities (both already effective); errors are ignored: portman then runs with the
// effective set it has, and the owners collector reports what it could not read.
void raise_permitted_capabilities();

}  // namespace portman::cli
