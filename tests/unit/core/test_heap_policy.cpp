#include "libportman/heap_policy.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "unit/skip.hpp"

namespace {

// What /proc/self/smaps says about the mapping that holds `address`.
struct Mapping {
  bool found = false;
  bool heap = false;          // the brk heap, not a mapping of its own
  bool thp_eligible = false;  // "THPeligible: 1": faults there may take huge pages
};

Mapping mapping_of(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  Mapping m;
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t from = 0, to = 0;
    char dash = 0;
    // A mapping's first line begins "FROM-TO "; its fields ("THPeligible:    1") have no dash.
    std::istringstream head(line);
    if (line.find('-') < line.find(' ') && head >> std::hex >> from >> dash >> to) {
      if (inside) return m;
      inside = at >= from && at < to;
      m.found = inside;
      m.heap = inside && line.ends_with("[heap]");
      continue;
    }
    if (inside && line.starts_with("THPeligible:"))
      m.thp_eligible = line.find('1') != std::string::npos;
  }
  return m;
}

// "always [madvise] never": the mode in brackets is the one in force.
bool thp_offered() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(f, modes);
  return modes.find("[always]") != std::string::npos ||
         modes.find("[madvise]") != std::string::npos;
}

// Runs `check` in a child process (the heap settings are the process's for good) and says
// whether it returned true.
template <typename F>
bool in_child(F check) {
  pid_t pid = ::fork();
  if (pid == 0) std::_Exit(check() ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Whether a new thread's 256 KiB buffer lives in the brk heap (not in an arena of its own).
bool thread_allocates_from_heap() {
  bool heap = false;
  std::thread([&] {
    std::vector<char> buffer(256 << 10, 'x');
    heap = mapping_of(buffer.data()).heap;
  }).join();
  return heap;
}

}  // namespace

TEST_CASE(
    "a one-shot command's heap keeps a large buffer in the heap, where huge pages may back it",
    "[heap_policy]") {
#if defined(__SANITIZE_ADDRESS__) || defined(PORTMAN_SANITIZED)
  portman::test::skip_test("the sanitizers' allocator keeps no brk heap");
#endif
  if (!thp_offered()) portman::test::skip_test("transparent huge pages are set to never");
  // Without it, 6 MiB is a mapping of its own, in small pages (the control).
  CHECK(in_child([] {
    std::vector<char> buffer(6 << 20, 'x');
    Mapping m = mapping_of(buffer.data());
    return m.found && !m.heap;
  }));
  CHECK(in_child([] {
    portman::use_heap_for_one_shot_command();
    std::vector<char> buffer(6 << 20, 'x');
    // Its middle: its first bytes may share a mapping with what the heap held before.
    Mapping m = mapping_of(buffer.data() + buffer.size() / 2);
    return m.found && m.heap && m.thp_eligible;
  }));
  // Freed and allocated again, it stays where it was: the heap is not given back meanwhile.
  CHECK(in_child([] {
    portman::use_heap_for_one_shot_command();
    std::uintptr_t first = 0;
    {
      std::vector<char> buffer(6 << 20, 'x');
      first = reinterpret_cast<std::uintptr_t>(buffer.data());
    }
    std::vector<char> again(6 << 20, 'y');
    return reinterpret_cast<std::uintptr_t>(again.data()) == first && mapping_of(again.data()).heap;
  }));
}

TEST_CASE("a one-shot command's allocations start on a 2 MiB block of the heap, threads' too",
          "[heap_policy]") {
#if defined(__SANITIZE_ADDRESS__) || defined(PORTMAN_SANITIZED)
  portman::test::skip_test("the sanitizers' allocator keeps no brk heap");
#endif
  // The heap begins wherever the binary's data ends; the first 2 MiB block that holds a fresh
  // allocation lies wholly in the heap, where a huge page can back it.
  CHECK(in_child([] {
    portman::use_heap_for_one_shot_command();
    void* p = std::malloc(1 << 20);
    const auto block = reinterpret_cast<std::uintptr_t>(p) & ~((std::uintptr_t{2} << 20) - 1);
    bool ok = mapping_of(reinterpret_cast<void*>(block)).heap;
    std::free(p);
    return ok;
  }));
  // A thread allocates from the same heap, not from an arena of its own.
  CHECK(in_child([] {
    portman::use_heap_for_one_shot_command();
    return thread_allocates_from_heap();
  }));
}

TEST_CASE("the agent's heap keeps what a scan freed, and its threads allocate from it",
          "[heap_policy]") {
#if defined(__SANITIZE_ADDRESS__) || defined(PORTMAN_SANITIZED)
  portman::test::skip_test("the sanitizers' allocator keeps no brk heap");
#endif
  CHECK(in_child([] {
    portman::use_heap_for_repeated_scans();
    std::uintptr_t first = 0;
    {
      std::vector<char> buffer(6 << 20, 'x');
      first = reinterpret_cast<std::uintptr_t>(buffer.data());
      if (!mapping_of(buffer.data()).heap) return false;
    }
    std::vector<char> again(6 << 20, 'y');
    return reinterpret_cast<std::uintptr_t>(again.data()) == first;
  }));
  CHECK(in_child([] {
    portman::use_heap_for_repeated_scans();
    return thread_allocates_from_heap();
  }));
}
