// SPDX-License-Identifier: GPL-2.0
/*
 * rt_files: the file table, cwd and umask survive a checkpoint and
 * restart. Usage: rt_files IMAGE [external].
 *
 * In the directory of IMAGE it makes files and opens them at chosen
 * descriptor numbers, with gaps between them:
 *
 *	 3  data, read-only, at offset 5
 *	 4  append, O_WRONLY | O_APPEND
 *	 5  shared, O_RDWR at offset 3; 23 is dup(5) (one offset)
 *	 6  sub/, a directory, O_CLOEXEC, read part way (getdents)
 *	 7  the image's directory, no O_CLOEXEC
 *	 9  /dev/null, O_WRONLY
 *	10  /dev/zero
 *	11  /dev/random, O_NONBLOCK
 *	31  shared again, O_RDWR | O_DSYNC at offset 7 (its own offset)
 *	40  data, O_PATH
 *	57  /dev/urandom, O_CLOEXEC
 *
 * and goes to the directory cwd/ with umask 027. It records every
 * descriptor's path, offset, status flags and descriptor flags; the
 * restarted process compares them, checks that the descriptors work
 * (reads see the data at the offset, append writes go to the end, the
 * dup'ed pair shares its offset, /dev/zero reads zeroes) and that no
 * other descriptor is open. With "external" it is checkpointed from
 * outside (rt_external) instead of by itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "rt.h"

#define DATA		"0123456789abcdefghij"
#define SHARED		"ABCDEFGHIJKLMNOP"
#define APPEND		"start\n"
#define MORE		"more\n"
#define UMASK		027

struct fdinfo {
	int fd;
	const char *what;
	char link[PATH_MAX];
	off_t off;		/* -1: lseek fails (O_PATH) */
	int fl;			/* F_GETFL */
	int fdfl;		/* F_GETFD */
	ino_t ino;
};

static struct fdinfo fds[] = {
	{ 3, "data" }, { 4, "append" }, { 5, "shared" }, { 6, "sub dir" },
	{ 7, "image dir" }, { 9, "/dev/null" }, { 10, "/dev/zero" },
	{ 11, "/dev/random" }, { 23, "dup of 5" }, { 31, "shared again" },
	{ 40, "data O_PATH" }, { 57, "/dev/urandom" },
};

#define NFDS	(sizeof(fds) / sizeof(fds[0]))

/* Short enough for every name made from it to fit in PATH_MAX. */
static char dir[1024];
static char cwd[PATH_MAX];
static off_t append_size;

static void put_file(const char *name, const char *s)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rt_die(p);
	close(fd);
}

static void open_at(const char *name, int flags, int fd)
{
	char p[PATH_MAX];

	if (name[0] == '/')
		snprintf(p, sizeof(p), "%s", name);
	else
		snprintf(p, sizeof(p), "%s/%s", dir, name);
	rt_open_at(p, flags, fd);
	/* dup2() in rt_open_at() does not keep close-on-exec. */
	if ((flags & O_CLOEXEC) && fcntl(fd, F_SETFD, FD_CLOEXEC))
		rt_die("F_SETFD");
}

static void describe(struct fdinfo *f)
{
	char p[64];
	struct stat st;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", f->fd);
	n = readlink(p, f->link, sizeof(f->link) - 1);
	f->link[n < 0 ? 0 : n] = '\0';
	f->off = lseek(f->fd, 0, SEEK_CUR);
	f->fl = fcntl(f->fd, F_GETFL);
	f->fdfl = fcntl(f->fd, F_GETFD);
	f->ino = fstat(f->fd, &st) ? 0 : st.st_ino;
}

static void setup(void)
{
	char p[PATH_MAX];
	char buf[64];
	unsigned int i;
	int fd;

	snprintf(p, sizeof(p), "%s/sub", dir);
	if (mkdir(p, 0755) && errno != EEXIST)
		rt_die(p);
	for (i = 0; i < 8; i++) {
		char e[PATH_MAX + 16];

		snprintf(e, sizeof(e), "%s/entry%u", p, i);
		fd = open(e, O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			rt_die(e);
		close(fd);
	}
	snprintf(cwd, sizeof(cwd), "%s/cwd", dir);
	if (mkdir(cwd, 0755) && errno != EEXIST)
		rt_die(cwd);
	put_file("data", DATA);
	put_file("append", APPEND);
	put_file("shared", SHARED);

	open_at("data", O_RDONLY, 3);
	open_at("append", O_WRONLY | O_APPEND, 4);
	open_at("shared", O_RDWR, 5);
	open_at("sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 6);
	open_at(dir, O_RDONLY | O_DIRECTORY, 7);
	open_at("/dev/null", O_WRONLY, 9);
	open_at("/dev/zero", O_RDONLY, 10);
	open_at("/dev/random", O_RDONLY | O_NONBLOCK, 11);
	open_at("shared", O_RDWR | O_DSYNC, 31);
	open_at("data", O_PATH, 40);
	open_at("/dev/urandom", O_RDONLY | O_CLOEXEC, 57);
	if (dup2(5, 23) != 23)
		rt_die("dup2 5 23");
	if (lseek(3, 5, SEEK_SET) != 5 || lseek(5, 3, SEEK_SET) != 3 ||
	    lseek(31, 7, SEEK_SET) != 7)
		rt_die("lseek");
	/* Part of the directory read: a position within it. */
	if (syscall(SYS_getdents64, 6, buf, sizeof(buf)) <= 0)
		rt_die("getdents64 sub");
	if (chdir(cwd))
		rt_die("chdir");
	umask(UMASK);
	append_size = lseek(4, 0, SEEK_END);
	for (i = 0; i < NFDS; i++)
		describe(&fds[i]);
}

static int expected_fd(int fd)
{
	unsigned int i;

	if (fd <= 2 || fd == RT_REPORT_FD)
		return 1;
	for (i = 0; i < NFDS; i++)
		if (fds[i].fd == fd)
			return 1;
	return 0;
}

static void check_table(void)
{
	struct fdinfo now;
	unsigned int i;
	struct dirent *e;
	DIR *d;

	for (i = 0; i < NFDS; i++) {
		struct fdinfo *f = &fds[i];

		memset(&now, 0, sizeof(now));
		now.fd = f->fd;
		describe(&now);
		RT_CHECK(now.fl != -1, "fd %d (%s) is not open", f->fd,
			 f->what);
		if (now.fl == -1)
			continue;
		RT_CHECK(!strcmp(now.link, f->link), "fd %d: %s, was %s",
			 f->fd, now.link, f->link);
		RT_CHECK(now.off == f->off, "fd %d (%s): offset %lld, was %lld",
			 f->fd, f->what, (long long)now.off,
			 (long long)f->off);
		RT_CHECK(now.fl == f->fl, "fd %d (%s): flags %#o, was %#o",
			 f->fd, f->what, now.fl, f->fl);
		RT_CHECK(now.fdfl == f->fdfl, "fd %d (%s): fd flags %#x, was %#x",
			 f->fd, f->what, now.fdfl, f->fdfl);
		RT_CHECK(now.ino == f->ino, "fd %d (%s): inode %llu, was %llu",
			 f->fd, f->what, (unsigned long long)now.ino,
			 (unsigned long long)f->ino);
	}
	/* The expected ones, and no other. */
	RT_CHECK(fds[3].fdfl == FD_CLOEXEC && fds[11].fdfl == FD_CLOEXEC &&
		 fds[4].fdfl == 0 && fds[0].fdfl == 0,
		 "set-up close-on-exec flags %d %d %d %d", fds[3].fdfl,
		 fds[11].fdfl, fds[4].fdfl, fds[0].fdfl);
	RT_CHECK((fds[1].fl & O_APPEND) && (fds[7].fl & O_NONBLOCK) &&
		 (fds[9].fl & O_DSYNC) && (fds[10].fl & O_PATH) &&
		 (fds[1].fl & O_ACCMODE) == O_WRONLY,
		 "set-up flags %#o %#o %#o %#o", fds[1].fl, fds[7].fl,
		 fds[9].fl, fds[10].fl);
	d = opendir("/proc/self/fd");
	RT_CHECK(d, "opendir /proc/self/fd: %s", strerror(errno));
	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		RT_CHECK(expected_fd(fd), "fd %d is open but was not", fd);
	}
	closedir(d);
}

static void check_use(void)
{
	char buf[64], p[PATH_MAX];
	struct stat st;
	unsigned int i;
	ssize_t n;
	off_t o;
	int fd;

	/* data at offset 5 */
	memset(buf, 0, sizeof(buf));
	n = read(3, buf, 5);
	RT_CHECK(n == 5 && !memcmp(buf, "56789", 5), "read fd 3: %zd %.5s",
		 n, buf);
	/* the dup'ed pair shares its offset; fd 31 has its own */
	n = read(5, buf, 2);
	RT_CHECK(n == 2 && !memcmp(buf, "DE", 2), "read fd 5: %zd %.2s", n,
		 buf);
	o = lseek(23, 0, SEEK_CUR);
	RT_CHECK(o == 5, "fd 23 offset %lld after reading fd 5", (long long)o);
	lseek(23, 10, SEEK_SET);
	o = lseek(5, 0, SEEK_CUR);
	RT_CHECK(o == 10, "fd 5 offset %lld after seeking fd 23", (long long)o);
	o = lseek(31, 0, SEEK_CUR);
	RT_CHECK(o == 7, "fd 31 offset %lld", (long long)o);
	n = write(31, "x", 1);
	RT_CHECK(n == 1, "write fd 31: %zd %s", n, strerror(errno));
	/* appends go to the end, whatever the offset */
	lseek(4, 0, SEEK_SET);
	n = write(4, MORE, strlen(MORE));
	RT_CHECK(n == (ssize_t)strlen(MORE), "write fd 4: %zd", n);
	RT_CHECK(!fstat(4, &st) &&
		 st.st_size == append_size + (off_t)strlen(MORE),
		 "append file size %lld, want %lld", (long long)st.st_size,
		 (long long)(append_size + strlen(MORE)));
	snprintf(p, sizeof(p), "%s/append", dir);
	fd = open(p, O_RDONLY);
	memset(buf, 0, sizeof(buf));
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	RT_CHECK(n > 0 && !strcmp(buf, APPEND MORE), "append file: %s", buf);
	if (fd >= 0)
		close(fd);
	RT_CHECK(read(4, buf, 1) < 0 && errno == EBADF,
		 "fd 4 (O_WRONLY) could be read");
	/* devices */
	memset(buf, 0xff, sizeof(buf));
	n = read(10, buf, sizeof(buf));
	RT_CHECK(n == sizeof(buf), "read /dev/zero: %zd", n);
	for (i = 0; i < sizeof(buf); i++)
		if (buf[i])
			break;
	RT_CHECK(i == sizeof(buf), "/dev/zero gave %#x at %u", buf[i], i);
	n = write(9, buf, sizeof(buf));
	RT_CHECK(n == sizeof(buf), "write /dev/null: %zd", n);
	n = read(57, buf, 16);
	RT_CHECK(n == 16, "read /dev/urandom: %zd %s", n, strerror(errno));
	n = read(11, buf, 16);
	RT_CHECK(n > 0 || errno == EAGAIN, "read /dev/random: %zd %s", n,
		 strerror(errno));
	/* the directory read goes on */
	n = syscall(SYS_getdents64, 6, buf, sizeof(buf));
	RT_CHECK(n >= 0, "getdents64 fd 6: %s", strerror(errno));
	RT_CHECK(read(40, buf, 1) < 0 && errno == EBADF,
		 "fd 40 (O_PATH) could be read");
}

int main(int argc, char **argv)
{
	char now[PATH_MAX];
	char *slash;
	mode_t m;
	int external;

	if (argc < 2)
		return 2;
	external = argc > 2 && !strcmp(argv[2], "external");
	rt_begin(argv[1]);
	if (strlen(argv[1]) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		rt_die(argv[1]);
	}
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		*slash = '\0';
	setup();

	if (external)
		rt_external();
	else if (rt_checkpoint())
		return 0;

	check_table();
	check_use();
	RT_CHECK(getcwd(now, sizeof(now)) && !strcmp(now, cwd),
		 "cwd %s, want %s", now, cwd);
	m = umask(0);
	RT_CHECK(m == UMASK, "umask %#o", m);
	return rt_end();
}
