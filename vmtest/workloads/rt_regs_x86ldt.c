// SPDX-License-Identifier: GPL-2.0
/*
 * rt_regs_x86ldt: x86 state that an image cannot hold: an LDT
 * (modify_ldt), TLS descriptors in the GDT (set_thread_area) and
 * allocated protection keys (pkey_alloc). Checkpoint must refuse a
 * process that has them, and a restarted process must not get them from
 * its restarter.
 *
 *   rt_regs_x86ldt IMAGE hold ldt|tls|pkey
 *	sets the state up, creates IMAGE.ready and waits for SIGUSR1 (the
 *	test tries to checkpoint it meanwhile, thaws it and sends the
 *	signal); then checks that the state is still there.
 *   rt_regs_x86ldt IMAGE clean
 *	checkpoints itself; restarted, checks that it has no LDT, no TLS
 *	descriptor and no protection key but 0 allocated.
 *   rt_regs_x86ldt IMAGE restart none|ldt|tls|pkey LOG
 *	sets the state up in itself and turns into IMAGE's process (a
 *	"clean" one) with RESTART_TASKSELF. If the restart fails: exit 4
 *	for EOPNOTSUPP, 3 otherwise.
 *
 * Elsewhere than on x86-64 this is an empty program.
 */
#if defined(__x86_64__)

#include <stdint.h>
#include <sys/syscall.h>

#include <asm/ldt.h>

#include "rt.h"

#define TLS_BASE	0x12345000u
#define TLS_MIN		12	/* GDT_ENTRY_TLS_MIN */
#define TLS_ENTRIES	3

static int tls_entry = -1;
static int pkey = -1;

/*
 * set_thread_area() and get_thread_area() are 32-bit system calls only
 * (ENOSYS from a 64-bit syscall): int $0x80, with the descriptor in
 * static memory, below 4 GiB, as ebx holds its address.
 */
#define NR32_SET_THREAD_AREA	243
#define NR32_GET_THREAD_AREA	244
static struct user_desc desc32;

static int sys32(long nr)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a" (ret)
			 : "a" (nr), "b" ((uint32_t)(uintptr_t)&desc32)
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* Bytes of LDT: 0 when the process has none. */
static long ldt_bytes(void)
{
	static char buf[65536];

	return syscall(SYS_modify_ldt, 0, buf, sizeof(buf));
}

static int setup(const char *mode)
{
	struct user_desc d;

	memset(&d, 0, sizeof(d));
	if (!strcmp(mode, "none"))
		return 0;
	if (!strcmp(mode, "ldt")) {
		d.entry_number = 0;
		d.base_addr = 0x1000;
		d.limit = 0xfff;
		d.seg_32bit = 1;
		d.useable = 1;
		return syscall(SYS_modify_ldt, 1, &d, sizeof(d)) ? -1 : 0;
	}
	if (!strcmp(mode, "tls")) {
		memset(&desc32, 0, sizeof(desc32));
		desc32.entry_number = -1;
		desc32.base_addr = TLS_BASE;
		desc32.limit = 0xfffff;
		desc32.seg_32bit = 1;
		desc32.limit_in_pages = 1;
		desc32.useable = 1;
		if (sys32(NR32_SET_THREAD_AREA))
			return -1;
		tls_entry = desc32.entry_number;
		return 0;
	}
	if (!strcmp(mode, "pkey")) {
		pkey = syscall(SYS_pkey_alloc, 0, 0);
		return pkey < 0 ? -1 : 0;
	}
	errno = EINVAL;
	return -1;
}

static int get_tls(int entry, struct user_desc *d)
{
	int ret;

	memset(&desc32, 0, sizeof(desc32));
	desc32.entry_number = entry;
	ret = sys32(NR32_GET_THREAD_AREA);
	*d = desc32;
	return ret;
}

/* The state of setup(mode) is still there. */
static void check_held(const char *mode)
{
	struct user_desc d;

	if (!strcmp(mode, "ldt")) {
		RT_CHECK(ldt_bytes() > 0, "no LDT any more");
	} else if (!strcmp(mode, "tls")) {
		RT_CHECK(get_tls(tls_entry, &d) == 0 && d.base_addr == TLS_BASE &&
			 !d.seg_not_present,
			 "TLS entry %d: base %#x, not present %d", tls_entry,
			 d.base_addr, d.seg_not_present);
	} else if (!strcmp(mode, "pkey")) {
		RT_CHECK(syscall(SYS_pkey_free, pkey) == 0,
			 "pkey %d is not allocated any more: %s", pkey,
			 strerror(errno));
	}
}

/* Nothing of any setup() is there. */
static void check_clean(void)
{
	struct user_desc d;
	long n;
	int i;

	n = ldt_bytes();
	RT_CHECK(n == 0, "LDT of %ld bytes", n);
	for (i = TLS_MIN; i < TLS_MIN + TLS_ENTRIES; i++)
		RT_CHECK(get_tls(i, &d) == 0 && d.base_addr == 0 &&
			 d.limit == 0 && d.seg_not_present,
			 "TLS entry %d: base %#x limit %#x not present %d", i,
			 d.base_addr, d.limit, d.seg_not_present);
	/* pkey 0 is allocated from the start: the next free one is 1. */
	n = syscall(SYS_pkey_alloc, 0, 0);
	RT_CHECK(n == 1, "pkey_alloc gives %ld (%s), want 1", n,
		 n < 0 ? strerror(errno) : "ok");
	if (n >= 0)
		syscall(SYS_pkey_free, n);
}

static int restart_self(const char *image, const char *log)
{
	struct ckpt_ioc_restart arg;
	int dev, img, logfd;

	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	img = open(image, O_RDONLY | O_CLOEXEC);
	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (dev < 0 || img < 0 || logfd < 0) {
		perror("open");
		return 2;
	}
	memset(&arg, 0, sizeof(arg));
	arg.fd = img;
	arg.logfd = logfd;
	arg.flags = RESTART_TASKSELF;
	ioctl(dev, CKPT_IOC_RESTART, &arg);
	fprintf(stderr, "RESTART_TASKSELF: %s\n", strerror(errno));
	return errno == EOPNOTSUPP ? 4 : 3;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[2], "restart")) {
		if (setup(argv[3])) {
			perror(argv[3]);
			return 2;
		}
		return restart_self(argv[1], argv[4]);
	}
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment at the top\n");
		return 2;
	}
	rt_begin(argv[1]);
	if (!strcmp(argv[2], "hold") && argc == 4) {
		if (setup(argv[3]))
			rt_die(argv[3]);
		rt_external();
		check_held(argv[3]);
		return rt_end();
	}
	if (!strcmp(argv[2], "clean")) {
		if (rt_checkpoint())
			return 0;
		check_clean();
		return rt_end();
	}
	errno = EINVAL;
	rt_die(argv[2]);
	return 2;
}

#else

int main(void)
{
	return 0;
}

#endif
