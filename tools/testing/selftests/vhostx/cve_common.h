/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cve_*_test and stress_*_test programs (header-only).
 * Include after kselftest_harness.h and vx_common.h.
 *
 * Every test of those programs is named after the vulnerability class it
 * guards against (Documentation/vhostx/security.rst maps class -> check ->
 * test).  Besides its own assertions, each relies on the VM runner failing
 * the run on any oops, WARN, KASAN, UBSAN, lockdep or kmemleak report.
 */
#ifndef CVE_COMMON_H
#define CVE_COMMON_H

#include <stdio.h>
#include <string.h>

/* Columns of a "vhostx-<vq> ..." line in /proc/self/fdinfo/<fd>. */
enum cve_stat {
	CVE_ST_NUM = 1, CVE_ST_LAST_AVAIL, CVE_ST_LAST_USED, CVE_ST_BROKEN,
	CVE_ST_KICKS, CVE_ST_RUNS, CVE_ST_BUFS, CVE_ST_BYTES, CVE_ST_CALLS,
	CVE_ST_SUPPRESSED, CVE_ST_BATCHES, CVE_ST_YIELDS, CVE_ST_ERRORS,
	CVE_ST_MISSES, CVE_ST_DROPS,
};

/*
 * Counter @col of virtqueue @vq of device fd @fd from fdinfo, or -1 when
 * the module does not publish it (counters are an extra check, never the
 * only one).
 */
static inline long long cve_stat(int fd, int vq, enum cve_stat col)
{
	char path[64], line[512], want[32];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "vhostx-%d ", vq);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strlen(want), *end;
		int i;

		if (strncmp(line, want, strlen(want)))
			continue;
		for (i = 1; i < (int)col; i++) {
			strtoll(p, &end, 10);
			if (end == p)
				goto out;
			p = end;
		}
		v = strtoll(p, &end, 10);
		if (end == p)
			v = -1;
		break;
	}
out:
	fclose(f);
	return v;
}

/* Guest address range [a, a + len) lies within [lo, lo + size). */
static inline bool cve_within(uint64_t a, uint64_t len, const void *lo,
			      size_t size)
{
	uint64_t l = (uint64_t)(uintptr_t)lo;

	return a >= l && a + len <= l + size && a + len >= a;
}

#endif /* CVE_COMMON_H */
