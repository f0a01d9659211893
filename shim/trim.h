/* Giving memory back while the shim idles.
 *
 * A shim lives as long as its container and spends nearly all of it in epoll_wait. What a call
 * left behind then only inflates its footprint:
 *  - free heap: Create parses the config and spawns the init, and frees it all; malloc_trim
 *    returns the free pages to the kernel;
 *  - mapped code: on a page fault in a shared library or the binary the kernel maps every page
 *    of the surrounding 64 KiB window that is in the page cache ("fault-around"), so the create
 *    path leaves 2.8 MiB of libc, libmount, the binary and their read-only data mapped although
 *    the idle loop uses a few pages. Those mappings are clean copies of files: MADV_DONTNEED
 *    drops them from the shim's page tables (the pages stay in the page cache, shared with every
 *    other process) and the next call faults back in what it touches (minor faults).
 * The ranges are collected while /proc/self/smaps is read and dropped together at the end:
 * dropping libc's code while still parsing with it would fault half of it back at once.
 * Only private mappings that are not writable and hold no anonymous page qualify: a page that
 * was written (relocations in RELRO, .data) is the process's own copy and dropping it would lose
 * its content; a mapping without write permission cannot gain such a page later without
 * mprotect, which the shim never calls. The shim has no threads, so nothing runs while the
 * mappings are inspected and dropped. */
#ifndef SHIM_TRIM_H
#define SHIM_TRIM_H

/* Returns free heap and drops clean file-backed mappings (see above). */
void memory_trim(void);

#endif
