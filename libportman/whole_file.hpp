// Whole-file reads, in one place: read(2) until EOF (procfs files report size 0, so no stat-based
// sizing), with a cap so that /dev/zero or a huge file is refused instead of exhausting memory.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "libportman/result.hpp"

namespace portman {

// Fails with ErrorKind::io, "cannot read PATH: REASON" or "PATH is larger than N bytes". `err`,
// when given, receives the errno (0 on success or when the file is too large).
Result<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes,
                                    int* err = nullptr);
// The same from an open fd, named `shown` in messages; `size_hint` (fstat's size) makes a
// regular file one read.
Result<std::string> read_whole_fd(int fd, const std::filesystem::path& shown, std::size_t max_bytes,
                                  std::size_t size_hint, int* err = nullptr);

}  // namespace portman
