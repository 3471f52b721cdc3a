// The heap of a one-shot command (scan, check, list...): a few MiB, filled once and dropped at
// exit. In 4 KiB pages, each first touch is a page fault, and on a virtual machine a fault costs
// several microseconds: a cold `scan` of 2,200 sockets took 600 of them. In 2 MiB pages
// (transparent huge pages, which the kernel gives to memory that asks for them), a few.
#pragma once

namespace portman {

// Reserves heap room for huge pages and keeps large buffers in it. Only for a process that
// exits soon: memory it frees is kept. Does nothing where the kernel or the allocator cannot
// (THP set to never, another malloc): the command then runs as it would have. Call it before
// any thread starts.
void prefer_huge_pages_for_heap();

}  // namespace portman
