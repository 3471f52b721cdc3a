// A shared library opened with dlopen at first use. libcurl, libmicrohttpd and GnuTLS cost
// 5-15 ms each to load at process start, yet only the docker and dokploy sources and the agent
// call them: every other command starts without them. A library that cannot be loaded is an
// Error naming it and the Debian package that ships it.
#pragma once

#include <initializer_list>
#include <string>

#include "libportman/result.hpp"

namespace portman {

class SharedLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL): every symbol the library needs is resolved now, so a
  // broken install fails here and not in the middle of a request.
  static Result<SharedLibrary> open(const std::string& soname, const std::string& package);

  SharedLibrary(SharedLibrary&& other) noexcept;
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary();

  // Points `fn` at the function `name`; an Error when the library lacks it (too old a version).
  template <class F>
  Status bind(F*& fn, const char* name) const {
    auto address = lookup(name);
    if (!address) return address.error();
    fn = reinterpret_cast<F*>(*address);
    return {};
  }

  const std::string& soname() const { return soname_; }

 private:
  SharedLibrary(void* handle, std::string soname, std::string package)
      : handle_(handle), soname_(std::move(soname)), package_(std::move(package)) {}
  Result<void*> lookup(const char* name) const;

  void* handle_ = nullptr;
  std::string soname_, package_;
};

// The first failed bind() of a table, or ok: `first_error({lib.bind(...), lib.bind(...)})`.
Status first_error(std::initializer_list<Status> bound);

}  // namespace portman
