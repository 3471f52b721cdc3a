// How a one-shot command's heap is run, chosen once in main() before any thread starts. Each
// first touch of a 4 KiB page is a page fault, and on a virtual machine a fault costs several
// microseconds: a cold `scan` of 2,200 sockets took 600 of them.
#pragma once

namespace portman {

// A one-shot command (scan, check, list...) fills a few MiB once and exits: it keeps what it
// frees, and reserves heap advised for transparent huge pages, where a 2 MiB page takes one
// fault instead of 512. Where the kernel or the allocator cannot (THP set to never, another
// malloc), the command runs as it would have.
void use_heap_for_one_shot_command();

// The agent keeps what a scan frees for the next scan (no trimming, large blocks from the heap):
// each scan's blocks were given back to the kernel and faulted in again by the next one, 100 to
// 150 faults per fresh scrape. One arena for all threads, so that the scan thread started for
// each scan reuses the main heap rather than keeping an arena of its own (docs/benchmarks.md).
void use_heap_for_repeated_scans();

}  // namespace portman
