#include "cli/capabilities.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace portman::cli {

void raise_permitted_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return;
  bool raise = false;
  for (auto& d : data) {
    raise = raise || d.effective != d.permitted;
    d.effective = d.permitted;
  }
  if (raise) ::syscall(SYS_capset, &header, data);
}

}  // namespace portman::cli
