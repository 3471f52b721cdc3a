#include "libportman/heap_policy.hpp"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace portman {
namespace {

// Room for a scan of tens of thousands of sockets; what is never touched is never backed. Below
// the mmap threshold, so that it comes from the heap.
constexpr std::size_t kReserve = std::size_t{30} << 20;

std::uintptr_t address(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

}  // namespace

void use_heap_for_one_shot_command() {
  // Large buffers (the sockets, the findings) from the heap rather than mappings of their own,
  // and the heap not trimmed: what is freed is used again, not faulted in again. The largest
  // mmap threshold glibc accepts is 32 MiB.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // Grow the heap by exactly the reserve: with no padding, the only byte malloc writes past
  // the old heap is the header of what is left, at the reserve's end.
  mallopt(M_TOP_PAD, 0);
  void* probe = std::malloc(kReserve);
  const std::uintptr_t at = address(probe), end = address(sbrk(0));
  std::free(probe);
  // Only when the reserve came from the heap (glibc's malloc, below its mmap threshold).
  if (at == 0 || at + kReserve > end) return;
  // The whole heap, reserve and all: free memory below the reserve joins it as soon as a large
  // request consolidates the heap, and allocations go there first. Each 2 MiB-aligned block
  // that nothing has touched yet is then backed by one huge page at first touch; pages already
  // in use stay small. Before any thread starts, the main arena is all there is to the heap.
  const std::uintptr_t start = std::min(end - mallinfo2().arena, at);
  const std::uintptr_t from = start & ~std::uintptr_t{4095};
  ::madvise(reinterpret_cast<void*>(from), end - from, MADV_HUGEPAGE);
  // Later growth, if any, in steps that are worth a system call.
  mallopt(M_TOP_PAD, 1 << 20);
}

}  // namespace portman
