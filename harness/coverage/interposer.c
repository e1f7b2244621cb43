// SPDX-License-Identifier: MIT
/*
 * The coverage interposer (LD_PRELOAD): which public functions of the
 * stack's libraries the suites called, measured, not listed by hand.
 *
 * The generated stubs (runner/rdmagate/harness/interposer_gen.py) count calls
 * coming from the main executable, whose text range is found here, into
 * counters in a shared anonymous mapping: every forked test child adds to the
 * same counters (a child that crashes has already counted), and the harness
 * writes them to the file RDMAGATE_COVERAGE names after each test and when it
 * exits, so a harness killed mid-run (or a lab VM that dies) leaves the counts
 * of the tests it finished. Inline verbs (ibv_post_send, the ibv_wr_* family)
 * never reach a library symbol; the suites are compiled with
 * -finstrument-functions and the harness hands each entered function's address
 * to rdmagate_coverage_enter(), which keeps the distinct ones.
 *
 * File layout, native-endian uint64 words:
 * magic, number of counters N, N counters, RG_COV_INLINE_SLOTS offsets of
 * entered functions from the executable's load address (plus one; 0: free).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RG_COV_MAGIC 0x31305643475244ull /* "DRGCV01" */
#define RG_COV_INLINE_SLOTS 4096

extern const char *const rg_cov_names[] __attribute__((visibility("hidden")));
extern const size_t rg_cov_count __attribute__((visibility("hidden")));

/* Read by the stubs, %rip-relative: hidden, so never preempted. */
#define HIDDEN __attribute__((visibility("hidden")))
HIDDEN uintptr_t rg_cov_lo, rg_cov_hi;
HIDDEN uint64_t *rg_cov_counts;
extern HIDDEN void *rg_cov_real[];

static uint64_t *inline_slots;
static uintptr_t exe_base;
static uint64_t scratch[1];

static int find_executable(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;

	(void)size;
	(void)data;
	/* The first object is the executable itself. */
	exe_base = info->dlpi_addr;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			rg_cov_lo = info->dlpi_addr + ph->p_vaddr;
			rg_cov_hi = rg_cov_lo + ph->p_memsz;
		}
	}
	return 1;
}

static uint64_t *region;
static size_t region_words;
static pid_t owner;
static const char *out_path;

/* Shared and anonymous: the forked test children count into it, and it
 * works on any file system (a lab guest's 9p share cannot map a file). */
static uint64_t *map_region(size_t words)
{
	uint64_t *map = mmap(NULL, words * 8, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED) {
		fprintf(stderr, "rdmagate coverage: cannot map %zu counters\n",
			words);
		exit(125);
	}
	return map;
}

__attribute__((constructor)) static void coverage_init(void)
{
	size_t i;

	for (i = 0; i < rg_cov_count; i++) {
		rg_cov_real[i] = dlsym(RTLD_NEXT, rg_cov_names[i]);
		if (!rg_cov_real[i]) {
			fprintf(stderr,
				"rdmagate coverage: %s is not in the loaded "
				"libraries\n",
				rg_cov_names[i]);
			exit(125);
		}
	}
	dl_iterate_phdr(find_executable, NULL);
	out_path = getenv("RDMAGATE_COVERAGE");
	if (!out_path) {
		/* Preloaded without a file: count nowhere, change nothing. */
		rg_cov_lo = rg_cov_hi = 0;
		rg_cov_counts = scratch;
		return;
	}
	owner = getpid();
	region_words = 2 + rg_cov_count + RG_COV_INLINE_SLOTS;
	region = map_region(region_words);
	region[0] = RG_COV_MAGIC;
	region[1] = rg_cov_count;
	rg_cov_counts = region + 2;
	inline_slots = region + 2 + rg_cov_count;
}

/* Called by the harness after each test (found with dlsym) and at its exit;
 * test children end in _exit() and never write. Written aside and renamed,
 * so a kill mid-write leaves the previous complete file. */
void rdmagate_coverage_flush(void)
{
	const char *data = (const char *)region;
	size_t left = region_words * 8;
	char tmp[4096];
	int fd = -1;

	if (!region || getpid() != owner)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out_path) < (int)sizeof(tmp))
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (fd >= 0 && left) {
		ssize_t n = write(fd, data, left);

		if (n <= 0)
			break;
		data += n;
		left -= (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	if (fd < 0 || left || rename(tmp, out_path))
		fprintf(stderr, "rdmagate coverage: %s: cannot write it\n",
			out_path);
}

__attribute__((destructor)) static void coverage_write(void)
{
	rdmagate_coverage_flush();
}

/* One entered function of the executable; kept once (open addressing). */
void rdmagate_coverage_enter(void *fn)
{
	uint64_t key = (uint64_t)((uintptr_t)fn - exe_base) + 1;
	size_t i, slot = (size_t)(key * 0x9e3779b97f4a7c15ull >> 52) %
			 RG_COV_INLINE_SLOTS;

	if (!inline_slots)
		return;
	for (i = 0; i < RG_COV_INLINE_SLOTS;
	     i++, slot = (slot + 1) % RG_COV_INLINE_SLOTS) {
		uint64_t seen =
			__atomic_load_n(&inline_slots[slot], __ATOMIC_RELAXED);

		if (seen == key)
			return;
		if (!seen && __atomic_compare_exchange_n(
				     &inline_slots[slot], &seen, key, false,
				     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
		if (seen == key)
			return;
	}
}
