// Errors as values: every library call that can fail returns Result<T>; only the CLI turns an
// Error into a message and an exit code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace portman {

// What went wrong, by what the user can do about it; the CLI maps each to an exit code.
enum class ErrorKind {
  bad_input,     // a value on the command line is not valid (exit 2)
  invalid_data,  // the config or registry file is malformed (exit 3)
  refused,       // valid request that cannot be honoured: port taken, still listening (exit 1)
  io,            // the system failed us: read, write, lock, netlink (exit 1)
};

struct Error {
  ErrorKind kind;
  std::string message;  // one line: what, where, what would be valid
};

inline Error make_error(ErrorKind kind, std::string message) {
  return {kind, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose, like expected<T>
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::io, {}};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace portman
