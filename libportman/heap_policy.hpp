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

// The agent keeps glibc's defaults. Keeping what a scan frees for the next one (the thresholds
// above) cut its faults per scan from 120 to 45 and its CPU per fresh scrape by a tenth, but
// cost the default agent 1.7 MiB of resident memory, past its 15 MiB budget
// (docs/benchmarks.md).

}  // namespace portman
