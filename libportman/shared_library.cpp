#include "libportman/shared_library.hpp"

#include <dlfcn.h>

#include <utility>

namespace portman {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname, const std::string& package) {
  ::dlerror();  // clear a message left by an earlier call
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();
    return make_error(ErrorKind::io, "cannot load " + soname + " (install the Debian package " +
                                         package + "): " + (why ? why : "unknown dlopen error"));
  }
  return SharedLibrary(handle, soname, package);
}

SharedLibrary::SharedLibrary(SharedLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      soname_(std::move(other.soname_)),
      package_(std::move(other.package_)) {}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (handle_) ::dlclose(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
    soname_ = std::move(other.soname_);
    package_ = std::move(other.package_);
  }
  return *this;
}

SharedLibrary::~SharedLibrary() {
  if (handle_) ::dlclose(handle_);
}

Result<void*> SharedLibrary::lookup(const char* name) const {
  ::dlerror();
  void* address = ::dlsym(handle_, name);
  if (!address)
    return make_error(ErrorKind::io, soname_ + " has no function " + name +
                                         ": too old a version; install Debian 12's " + package_);
  return address;
}

Status first_error(std::initializer_list<Status> bound) {
  for (const Status& s : bound)
    if (!s) return s.error();
  return {};
}

}  // namespace portman
