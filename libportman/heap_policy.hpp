// How the heap is run, chosen once in main() before any thread starts. Each first touch of a
// 4 KiB page is a page fault, and on a virtual machine a fault costs several microseconds: a
// cold `scan` of 2,200 sockets took 600 of them, the agent 120 per scan. glibc's defaults give
// large freed blocks back to the kernel, which faults them in again at the next use.
#pragma once

namespace portman {

// A one-shot command (scan, check, list...) fills a few MiB once and exits: it keeps what it
// frees, and reserves heap advised for transparent huge pages, where a 2 MiB page takes one
// fault instead of 512. Where the kernel or the allocator cannot (THP set to never, another
// malloc), the command runs as it would have.
void use_heap_for_one_shot_command();

// The agent allocates and frees the same few MiB every scan: it keeps them for the next one, in
// ordinary pages (it runs for months; a huge page it touched once would stay).
void use_heap_for_repeated_scans();

}  // namespace portman
