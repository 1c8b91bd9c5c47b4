// SPDX-License-Identifier: GPL-2.0
/*
 * credrun: run a command with the credentials a test needs its caller
 * to have (the restarter or checkpointer of vmtest/guest/privilege_test.go
 * and restart_creds_test.go). Started as root; the steps are taken in
 * this order, each only when asked for:
 *
 *	-K NAME		join a new session keyring NAME
 *	-s BITS		PR_SET_SECUREBITS BITS (hex or decimal)
 *	-G G1,G2,..	setgroups() ("" for none)
 *	-g R,E,S	setresgid()
 *	-u R,E,S	setresuid() (capabilities go as the kernel's rules say,
 *			except those of -c)
 *	-c CAPS		keep the capabilities CAPS (a mask) across -u:
 *			permitted, effective, inheritable and ambient, so that
 *			they survive the execve()
 *	-U		unshare a user namespace where the caller is uid and
 *			gid 0, mapped to its effective uid and gid (one id
 *			each, setgroups denied, as an unprivileged user may)
 *
 * then execvp(argv[optind]), or, with -R IMAGE, restart IMAGE itself
 * (CKPT_IOC_RESTART, coordinator mode, RESTART_NO_PIDS, messages on
 * stderr) without an execve(), which would reset the saved and fs ids,
 * wait for the restored process and exit with its status ("credrun:
 * restart: ERROR" and status 1 when the restart fails). Exit status 2
 * when a step fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#define KEYCTL_JOIN_SESSION_KEYRING	1

static void die(const char *what)
{
	fprintf(stderr, "credrun: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void ids3(const char *s, unsigned int v[3])
{
	if (sscanf(s, "%u,%u,%u", &v[0], &v[1], &v[2]) != 3) {
		fprintf(stderr, "credrun: ids %s: want R,E,S\n", s);
		exit(2);
	}
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

/* Coordinator restart of image; exits with the restored one's status. */
static void restart(const char *image)
{
	struct ckpt_ioc_restart arg;
	int dev, img, st;
	pid_t pid;

	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR);
	img = open(image, O_RDONLY);
	if (dev < 0 || img < 0)
		die(image);
	memset(&arg, 0, sizeof(arg));
	arg.fd = img;
	arg.flags = RESTART_NO_PIDS;
	arg.logfd = 2;
	pid = ioctl(dev, CKPT_IOC_RESTART, &arg);
	if (pid < 0) {
		fprintf(stderr, "credrun: restart: %s\n", strerror(errno));
		exit(1);
	}
	if (waitpid(pid, &st, __WALL) != pid)
		die("waitpid");
	fprintf(stderr, "credrun: pid %d exited with status %d\n", pid,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
}

static void set_caps(unsigned long long caps)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int i;

	for (i = 0; i < 2; i++) {
		d[i].effective = caps >> (32 * i);
		d[i].permitted = caps >> (32 * i);
		d[i].inheritable = caps >> (32 * i);
	}
	if (syscall(SYS_capset, &h, d))
		die("capset");
	for (i = 0; i < 64; i++)
		if ((caps & (1ULL << i)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0))
			die("PR_CAP_AMBIENT_RAISE");
}

int main(int argc, char **argv)
{
	unsigned int uids[3], gids[3];
	const char *groups = NULL, *keyring = NULL, *image = NULL;
	unsigned long long caps = 0;
	long secbits = -1;
	int have_uids = 0, have_gids = 0, userns = 0, have_caps = 0;
	char map[64];
	int opt;

	while ((opt = getopt(argc, argv, "+K:s:G:g:u:c:UR:")) != -1) {
		switch (opt) {
		case 'K':
			keyring = optarg;
			break;
		case 's':
			secbits = strtol(optarg, NULL, 0);
			break;
		case 'G':
			groups = optarg;
			break;
		case 'g':
			ids3(optarg, gids);
			have_gids = 1;
			break;
		case 'u':
			ids3(optarg, uids);
			have_uids = 1;
			break;
		case 'c':
			caps = strtoull(optarg, NULL, 0);
			have_caps = 1;
			break;
		case 'U':
			userns = 1;
			break;
		case 'R':
			image = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc && !image)
		return 2;

	if (keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING,
			       keyring) < 0)
		die("KEYCTL_JOIN_SESSION_KEYRING");
	if (secbits >= 0 && prctl(PR_SET_SECUREBITS, secbits, 0, 0, 0))
		die("PR_SET_SECUREBITS");
	if (groups) {
		gid_t g[64];
		int n = 0;
		char *s = strdup(groups), *tok;

		for (tok = strtok(s, ","); tok && n < 64;
		     tok = strtok(NULL, ","))
			g[n++] = strtoul(tok, NULL, 0);
		if (setgroups(n, g))
			die("setgroups");
	}
	if (have_gids && setresgid(gids[0], gids[1], gids[2]))
		die("setresgid");
	if (have_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		die("PR_SET_KEEPCAPS");
	if (have_uids && setresuid(uids[0], uids[1], uids[2]))
		die("setresuid");
	if (have_caps) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
			die("PR_SET_KEEPCAPS");
		set_caps(caps);
	}
	if (userns) {
		uid_t uid = geteuid();
		gid_t gid = getegid();

		/* The id changes made us undumpable: /proc/self is root's. */
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
			die("PR_SET_DUMPABLE");
		if (unshare(CLONE_NEWUSER))
			die("unshare(CLONE_NEWUSER)");
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", gid);
		write_file("/proc/self/gid_map", map);
	}
	if (image)
		restart(image);
	execvp(argv[optind], argv + optind);
	die(argv[optind]);
	return 2;
}
