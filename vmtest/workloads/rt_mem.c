// SPDX-License-Identifier: GPL-2.0
/*
 * rt_mem: memory survives a checkpoint and restart. Usage:
 * rt_mem IMAGE [MiB] [external]
 *
 *  - a private anonymous region of MiB (default 256) filled with a
 *    pattern, every word checked;
 *  - a private mapping of a file with one page changed (copied on write):
 *    that page keeps the change, the others show the file;
 *  - the brk heap (grown with sbrk) and an array on the stack;
 *  - protections: read-only, PROT_NONE guard and read-write pages side by
 *    side keep their protections (/proc/self/maps) and contents;
 *  - mlock()ed pages stay locked (VmLck);
 *  - pages that were touched but hold only zeros come back as holes
 *    (zeros, not resident: mincore()), beside one that holds a byte;
 *  - the mm fields of /proc/self/stat (code, data, brk, stack, arg and env
 *    bounds), /proc/self/auxv, /proc/self/exe and the whole mapping list
 *    of /proc/self/maps are as before;
 *  - the vDSO: still where AT_SYSINFO_EHDR says, and clock_gettime()
 *    works.
 */
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "rt.h"

#define FILE_PAGES	4
#define COW_PAGE	1
#define MAPS_MAX	(64 * 1024)
#define ZERO_PAGES	16
#define ZERO_MARK	5	/* the page of ZERO_PAGES that holds a byte */

static long page;

static uint64_t word(uint64_t i, uint64_t seed)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	return x ^ (x >> 29);
}

static void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = word(i, seed);
}

/* Index of the first word that differs, or -1. */
static long check(const void *p, size_t len, uint64_t seed)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != word(i, seed))
			return i;
	return -1;
}

static ssize_t slurp(const char *path, char *buf, size_t max)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((size_t)got < max - 1 &&
	       (n = read(fd, buf + got, max - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return got;
}

/* A "Key: N kB" line of /proc/self/status, or -1. */
static long status_kb(const char *key)
{
	char buf[8192], *p;

	if (slurp("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The fields of /proc/self/stat after the comm, from field 3 on. */
static void stat_fields(unsigned long long *f, int n)
{
	char buf[4096], *p;
	int i;

	if (slurp("/proc/self/stat", buf, sizeof(buf)) < 0)
		rt_die("/proc/self/stat");
	p = strrchr(buf, ')') + 2;
	for (i = 0; i < n; i++) {
		f[i] = strtoull(p, &p, 10);
		if (*p == ' ')
			p++;
		else if (i < n - 1 && *p)
			p++;
	}
}

/* stat fields (1-based, as in proc(5)) that hold mm bounds. */
static const int mm_fields[] = {
	26, 27, 28,		/* startcode endcode startstack */
	45, 46, 47,		/* start_data end_data start_brk */
	48, 49, 50, 51,		/* arg_start arg_end env_start env_end */
};

/* The protection column of the mapping that holds addr, or "". */
static const char *prot_of(const char *maps, void *addr)
{
	static char prot[5];
	unsigned long a = (unsigned long)addr, lo, hi;
	const char *l;

	prot[0] = 0;
	for (l = maps; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (sscanf(l, "%lx-%lx %4s", &lo, &hi, prot) == 3 &&
		    lo <= a && a < hi)
			return prot;
	}
	prot[0] = 0;
	return prot;
}

/*
 * maps without the inode column: a restart on another boot (the image
 * carried there) reopens the same file by path, under a new inode.
 */
static void maps_sans_inodes(const char *in, char *out, size_t max)
{
	char addr[64], perms[8], off[32], dev[32], ino[32];
	size_t n = 0;

	while (*in && n + 1 < max) {
		const char *nl = strchr(in, '\n'), *path;
		int used = 0;

		if (sscanf(in, "%63s %7s %31s %31s %31s%n", addr, perms, off,
			   dev, ino, &used) != 5)
			break;
		path = in + used;
		while (*path == ' ')
			path++;
		n += snprintf(out + n, max - n, "%s %s %s %s %.*s\n", addr,
			      perms, off, dev,
			      (int)(nl ? nl - path : (long)strlen(path)), path);
		if (!nl)
			break;
		in = nl + 1;
	}
	out[n < max ? n : max - 1] = 0;
}

int main(int argc, char **argv)
{
	static char maps_before[MAPS_MAX], maps_after[MAPS_MAX];
	static char sans_before[MAPS_MAX], sans_after[MAPS_MAX];
	const char *cmp_before, *cmp_after;
	char boot_before[64] = "", boot_after[64] = "";
	int moved;
	static char auxv_before[4096], auxv_after[4096];
	static char exe_before[4096], exe_after[4096];
	unsigned long long st_before[52], st_after[52];
	ssize_t auxv_len, n;
	size_t mib = 256, big_len;
	uint64_t stack_words[512];
	char *big, *fmap, *prot, *heap0, *heap, *locked, *zero;
	unsigned char resident[ZERO_PAGES];
	long vmlck_before;
	char path[4096], fbuf[4096];
	struct timespec t0, t1;
	unsigned long vdso;
	long bad;
	int fd, i;

	if (argc < 2)
		return 2;
	if (argc > 2)
		mib = strtoul(argv[2], NULL, 0);
	rt_begin(argv[1]);
	page = sysconf(_SC_PAGESIZE);

	big_len = mib << 20;
	big = mmap(NULL, big_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		rt_die("mmap big");
	fill(big, big_len, 1);

	/* A file whose every page is filled with its own byte. */
	snprintf(path, sizeof(path), "%s.file", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		rt_die(path);
	for (i = 0; i < FILE_PAGES; i++) {
		memset(fbuf, 'a' + i, sizeof(fbuf));
		for (n = 0; n < page; n += sizeof(fbuf))
			if (write(fd, fbuf, sizeof(fbuf)) != sizeof(fbuf))
				rt_die("write file");
	}
	fmap = mmap(NULL, FILE_PAGES * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE, fd, 0);
	if (fmap == MAP_FAILED)
		rt_die("mmap file");
	close(fd);
	fill(fmap + COW_PAGE * page, page, 2);

	/* Read-only, guard, read-write. */
	prot = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (prot == MAP_FAILED)
		rt_die("mmap prot");
	fill(prot, 3 * page, 3);
	if (mprotect(prot, page, PROT_READ) ||
	    mprotect(prot + page, page, PROT_NONE))
		rt_die("mprotect");

	/* Two locked pages (mlock), counted in VmLck. */
	locked = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (locked == MAP_FAILED)
		rt_die("mmap locked");
	fill(locked, 2 * page, 6);
	if (mlock(locked, 2 * page))
		rt_die("mlock");
	vmlck_before = status_kb("VmLck:");

	/* Present pages of zeros, and one with a byte. */
	zero = mmap(NULL, ZERO_PAGES * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zero == MAP_FAILED)
		rt_die("mmap zero");
	memset(zero, 0xff, ZERO_PAGES * page);
	memset(zero, 0, ZERO_PAGES * page);
	zero[ZERO_MARK * page + 7] = 9;

	heap0 = sbrk(0);
	heap = sbrk(3 * page);
	if (heap == (void *)-1)
		rt_die("sbrk");
	fill(heap, 3 * page, 4);
	fill(stack_words, sizeof(stack_words), 5);

	stat_fields(st_before, 52);
	auxv_len = slurp("/proc/self/auxv", auxv_before, sizeof(auxv_before));
	n = readlink("/proc/self/exe", exe_before, sizeof(exe_before) - 1);
	if (auxv_len <= 0 || n <= 0)
		rt_die("auxv or exe");
	exe_before[n] = 0;
	if (clock_gettime(CLOCK_MONOTONIC, &t0))
		rt_die("clock_gettime");
	slurp("/proc/sys/kernel/random/boot_id", boot_before,
	      sizeof(boot_before));
	/* Last, so that nothing above changes the mappings after it. */
	if (slurp("/proc/self/maps", maps_before, MAPS_MAX) <= 0)
		rt_die("maps");

	if (argc > 3 && !strcmp(argv[3], "external"))
		rt_external();
	else if (rt_checkpoint())
		return 0;

	if (slurp("/proc/self/maps", maps_after, MAPS_MAX) <= 0)
		rt_die("maps");
	slurp("/proc/sys/kernel/random/boot_id", boot_after,
	      sizeof(boot_after));
	/* Restarted on another boot: new inodes, CLOCK_MONOTONIC anew. */
	moved = strcmp(boot_before, boot_after) != 0;
	cmp_before = maps_before;
	cmp_after = maps_after;
	if (moved) {
		rt_report("restarted on another boot: inodes and CLOCK_MONOTONIC not compared");
		maps_sans_inodes(maps_before, sans_before, MAPS_MAX);
		maps_sans_inodes(maps_after, sans_after, MAPS_MAX);
		cmp_before = sans_before;
		cmp_after = sans_after;
	}
	RT_CHECK(!strcmp(cmp_before, cmp_after),
		 "mappings differ:\nbefore:\n%s\nafter:\n%s", maps_before,
		 maps_after);

	bad = check(big, big_len, 1);
	RT_CHECK(bad < 0, "%zu MiB pattern: word %ld of %zu differs", mib, bad,
		 big_len / 8);
	for (i = 0; i < FILE_PAGES; i++) {
		if (i == COW_PAGE) {
			bad = check(fmap + i * page, page, 2);
			RT_CHECK(bad < 0, "file page %d (changed): word %ld",
				 i, bad);
			continue;
		}
		for (n = 0; n < page && fmap[i * page + n] == 'a' + i; n++)
			;
		RT_CHECK(n == page, "file page %d: byte %zd is %#x", i, n,
			 fmap[i * page + n]);
	}
	RT_CHECK(!strcmp(prot_of(maps_after, prot), "r--p"),
		 "read-only page is %s", prot_of(maps_after, prot));
	RT_CHECK(!strcmp(prot_of(maps_after, prot + page), "---p"),
		 "guard page is %s", prot_of(maps_after, prot + page));
	RT_CHECK(!strcmp(prot_of(maps_after, prot + 2 * page), "rw-p"),
		 "read-write page is %s", prot_of(maps_after, prot + 2 * page));
	RT_CHECK(!strcmp(prot_of(maps_after, fmap), "rw-p"),
		 "file mapping is %s", prot_of(maps_after, fmap));
	if (mprotect(prot + page, page, PROT_READ))
		rt_die("mprotect guard");
	bad = check(prot, 3 * page, 3);
	RT_CHECK(bad < 0, "protected pages: word %ld", bad);

	RT_CHECK(sbrk(0) == heap + 3 * page, "brk %p, want %p", sbrk(0),
		 heap + 3 * page);
	bad = check(heap, 3 * page, 4);
	RT_CHECK(bad < 0, "heap: word %ld", bad);
	RT_CHECK(sbrk(page) == heap + 3 * page, "heap cannot grow");
	heap[3 * page] = 1;
	RT_CHECK(heap0 <= heap, "heap start %p after %p", heap0, heap);
	bad = check(stack_words, sizeof(stack_words), 5);
	RT_CHECK(bad < 0, "stack: word %ld", bad);

	bad = check(locked, 2 * page, 6);
	RT_CHECK(bad < 0, "locked pages: word %ld", bad);
	RT_CHECK(status_kb("VmLck:") == vmlck_before, "VmLck %ld kB, was %ld",
		 status_kb("VmLck:"), vmlck_before);

	/* Before reading them: a read maps the shared zero page. */
	if (mincore(zero, ZERO_PAGES * page, resident))
		rt_die("mincore");
	for (i = 0; i < ZERO_PAGES; i++)
		RT_CHECK((resident[i] & 1) == (i == ZERO_MARK),
			 "zero pages: page %d %sresident", i,
			 resident[i] & 1 ? "" : "not ");
	for (n = 0; n < ZERO_PAGES * page; n++)
		if (zero[n] != (n == ZERO_MARK * page + 7 ? 9 : 0))
			break;
	RT_CHECK(n == ZERO_PAGES * page, "zero pages: byte %zd is %#x", n,
		 n < ZERO_PAGES * page ? zero[n] : 0);

	stat_fields(st_after, 52);
	for (i = 0; i < (int)(sizeof(mm_fields) / sizeof(mm_fields[0])); i++) {
		int f = mm_fields[i] - 3;

		RT_CHECK(st_before[f] == st_after[f],
			 "stat field %d: %llu, was %llu", mm_fields[i],
			 st_after[f], st_before[f]);
	}
	n = slurp("/proc/self/auxv", auxv_after, sizeof(auxv_after));
	RT_CHECK(n == auxv_len && !memcmp(auxv_before, auxv_after, n),
		 "auxv differs (%zd bytes, was %zd)", n, auxv_len);
	n = readlink("/proc/self/exe", exe_after, sizeof(exe_after) - 1);
	if (n >= 0)
		exe_after[n] = 0;
	RT_CHECK(n > 0 && !strcmp(exe_before, exe_after), "exe %s, was %s",
		 n > 0 ? exe_after : "?", exe_before);

	/* None when the kernel was booted with vdso=0. */
	vdso = getauxval(AT_SYSINFO_EHDR);
	RT_CHECK(!vdso || !strcmp(prot_of(maps_after, (void *)vdso), "r-xp"),
		 "no vDSO at AT_SYSINFO_EHDR %#lx", vdso);
	RT_CHECK(!clock_gettime(CLOCK_MONOTONIC, &t1) &&
		 (moved || t1.tv_sec > t0.tv_sec ||
		  (t1.tv_sec == t0.tv_sec && t1.tv_nsec >= t0.tv_nsec)),
		 "clock_gettime after restart: %ld.%09ld, before %ld.%09ld",
		 (long)t1.tv_sec, t1.tv_nsec, (long)t0.tv_sec, t0.tv_nsec);
	rt_report("pid %d", getpid());
	return rt_end();
}
