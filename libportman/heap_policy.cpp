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
constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
constexpr std::uintptr_t kMinFiller = 64;  // above glibc's smallest chunk

std::uintptr_t address(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

// Large buffers (the sockets, the findings) from the heap rather than mappings of their own,
// and the heap not trimmed: what is freed is used again, not faulted in again. The largest mmap
// threshold glibc accepts is 32 MiB.
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace

void use_heap_for_repeated_scans() {
  keep_freed_memory();
  mallopt(M_ARENA_MAX, 1);
}

void use_heap_for_one_shot_command() {
  keep_freed_memory();
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
  // The heap starts wherever the binary's data ends, so its first 2 MiB block is partial and
  // can only have small pages: a scan's first few hundred KiB took 80-90 faults there. A filler
  // from the top of the heap (where the probe was) up to the next 2 MiB boundary, never freed and
  // never touched, starts what follows on a block that a huge page can back.
  const std::uintptr_t top = at - 2 * sizeof(std::size_t);  // the probe's chunk header
  std::uintptr_t boundary = (top + kHugePage) & ~(kHugePage - 1);
  if (boundary - top < kMinFiller) boundary += kHugePage;
  if (boundary + kHugePage <= end) {
    // malloc(n) takes a chunk of n + 8 rounded up to 16: exactly boundary - top.
    // volatile: the compiler may drop a malloc whose result goes unused.
    [[maybe_unused]] void* volatile filler = std::malloc(boundary - top - sizeof(std::size_t));
  }
  // Later growth, if any, in steps that are worth a system call.
  mallopt(M_TOP_PAD, 1 << 20);
  // One arena: a thread's allocations (the BPF iteration's) also come from this heap, rather
  // than from an arena of small pages that each fault in.
  mallopt(M_ARENA_MAX, 1);
}

}  // namespace portman
