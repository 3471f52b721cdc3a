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

}  // namespace portman
