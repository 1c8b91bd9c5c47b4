// SPDX-License-Identifier: GPL-2.0
/*
 * rt_creds: credentials survive a self checkpoint and restart. Started as
 * root, the workload opens what its checkpoint needs, becomes another
 * user and checkpoints itself (the test sets kernel.ckpt_unpriv_allowed
 * for that); after a restart it checks its ids, groups, capabilities,
 * ambient and bounding sets and securebits.
 *
 * Usage: rt_creds IMAGE [MODE]
 *	(none)	uids 1000/1001/1002 fs 1002, gids 1000/1003/1004 fs 1004,
 *		groups 1000 2000 3000, capabilities: permitted CHOWN KILL
 *		NET_BIND_SERVICE, effective NET_BIND_SERVICE, inheritable
 *		KILL NET_BIND_SERVICE, ambient NET_BIND_SERVICE, bounding
 *		set without SYS_MODULE and SYS_RAWIO, securebits KEEP_CAPS
 *		NO_SETUID_FIXUP NOROOT; its report and image are readable and
 *		writable by everyone, as the restart reopens them as the
 *		restored task (fsuid 1002);
 *	caps	uid and gid 1000, no groups, permitted and effective KILL,
 *		no securebits: more than an unprivileged user has;
 *	plain	uid and gid 1000, no groups, no capabilities: what an
 *		unprivileged user 1000 has. Its report and image are
 *		readable and writable by everyone, so that user 1000 can
 *		restart it.
 * The modes below record all their credentials (and, inside a user
 * namespace, its maps) before the checkpoint and check that the restarted
 * process has them all; their files are everyone's too:
 *	keep	the credentials it was started with (credrun sets them);
 *	noambient  root with ambient NET_BIND_SERVICE and
 *		SECBIT_NO_CAP_AMBIENT_RAISE, locked;
 *	lockedcaps uid and gid 1000 with permitted and effective KILL, and
 *		SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED
 *		(capabilities are lost on a change of uids);
 *	fsuid	uids and gids 1000, fs uid 1001, no capabilities.
 * After every restart the process checks that it has not the session
 * keyring of its restarter (credrun -K kcr-restarter).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/fsuid.h>

#include "rt.h"

#define KEYCTL_GET_KEYRING_ID		0
#define KEYCTL_DESCRIBE			6
#define KEY_SPEC_SESSION_KEYRING	-3

#define BIT(c)		(1ULL << (c))
#define FULL_SECBITS	(SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP | \
			 SECBIT_NOROOT)

struct caps {
	unsigned long long eff, perm, inh;
};

static int get_caps(struct caps *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -1;
	c->eff = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->perm = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	c->inh = d[0].inheritable |
		 (unsigned long long)d[1].inheritable << 32;
	return 0;
}

static int set_caps(const struct caps *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int i;

	for (i = 0; i < 2; i++) {
		d[i].effective = c->eff >> (32 * i);
		d[i].permitted = c->perm >> (32 * i);
		d[i].inheritable = c->inh >> (32 * i);
	}
	return syscall(SYS_capset, &h, d);
}

/*
 * The checkpoint of rt.h, with the device and files opened while we are
 * still root: afterwards we may no longer open them.
 */
static struct ckpt_ioc_checkpoint ckpt_arg;
static int dev_fd;

static void open_for_checkpoint(int everyone)
{
	dev_fd = rt_checkpoint_open(&ckpt_arg);
	/* Open at the checkpoint: the restart reopens them. */
	if (everyone && (fchmod(RT_IMAGE_FD, 0666) ||
			 fchmod(RT_LOG_FD, 0666) ||
			 fchmod(RT_REPORT_FD, 0666)))
		rt_die("fchmod");
}

static int checkpoint(void)
{
	int ret = ioctl(dev_fd, CKPT_IOC_CHECKPOINT, &ckpt_arg);

	return rt_checkpoint_done(dev_fd, ret < 0 ? -errno : ret);
}

static void check_ids(uid_t r, uid_t e, uid_t s, uid_t fs, gid_t rg, gid_t eg,
		      gid_t sg, gid_t fsg)
{
	uid_t ru, eu, su, fu;
	gid_t rgid, egid, sgid, fgid;

	RT_CHECK(!getresuid(&ru, &eu, &su), "getresuid: %s", strerror(errno));
	RT_CHECK(ru == r && eu == e && su == s, "uids %u/%u/%u, want %u/%u/%u",
		 ru, eu, su, r, e, s);
	fu = setfsuid(-1);
	RT_CHECK(fu == fs, "fsuid %u, want %u", fu, fs);
	RT_CHECK(!getresgid(&rgid, &egid, &sgid), "getresgid: %s",
		 strerror(errno));
	RT_CHECK(rgid == rg && egid == eg && sgid == sg,
		 "gids %u/%u/%u, want %u/%u/%u", rgid, egid, sgid, rg, eg, sg);
	fgid = setfsgid(-1);
	RT_CHECK(fgid == fsg, "fsgid %u, want %u", fgid, fsg);
}

static void check_caps(const struct caps *want, unsigned long long amb,
		       unsigned long long dropped, int secbits)
{
	struct caps c = { 0 };
	int i, v;

	RT_CHECK(!get_caps(&c), "capget: %s", strerror(errno));
	RT_CHECK(c.eff == want->eff && c.perm == want->perm &&
		 c.inh == want->inh,
		 "capabilities eff %#llx perm %#llx inh %#llx, want %#llx %#llx %#llx",
		 c.eff, c.perm, c.inh, want->eff, want->perm, want->inh);
	for (i = 0; i <= CAP_LAST_CAP; i++) {
		v = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0);
		RT_CHECK(v == !!(amb & BIT(i)), "ambient capability %d: %d",
			 i, v);
		v = prctl(PR_CAPBSET_READ, i, 0, 0, 0);
		RT_CHECK(v == !(dropped & BIT(i)), "bounding capability %d: %d",
			 i, v);
	}
	v = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	RT_CHECK(v == secbits, "securebits %#x, want %#x", v, secbits);
}

/* Keyrings are the restored task's own, never its restarter's. */
static void check_keyring(void)
{
	char desc[256];
	long id, n;

	id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
		     KEY_SPEC_SESSION_KEYRING, 0);
	RT_CHECK(id > 0, "session keyring: %s", strerror(errno));
	if (id <= 0)
		return;
	n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof(desc));
	RT_CHECK(n > 0, "describe session keyring %ld: %s", id,
		 strerror(errno));
	if (n <= 0)
		return;
	desc[sizeof(desc) - 1] = '\0';
	RT_CHECK(!strstr(desc, "kcr-restarter"),
		 "session keyring %ld is the restarter's: %s", id, desc);
}

/* All of a process's credentials, to compare across the restart. */
struct snapshot {
	uid_t uid[4];
	gid_t gid[4];
	int ngroups;
	gid_t groups[64];
	struct caps caps;
	unsigned long long amb, bset;
	int secbits;
	char uid_map[256], gid_map[256];
};

static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	buf[n < 0 ? 0 : n] = '\0';
	if (fd >= 0)
		close(fd);
}

static void snap(struct snapshot *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	if (getresuid(&s->uid[0], &s->uid[1], &s->uid[2]) ||
	    getresgid(&s->gid[0], &s->gid[1], &s->gid[2]))
		rt_die("getres[ug]id");
	s->uid[3] = setfsuid(-1);
	s->gid[3] = setfsgid(-1);
	s->ngroups = getgroups(64, s->groups);
	if (s->ngroups < 0 || get_caps(&s->caps))
		rt_die("getgroups, capget");
	for (i = 0; i <= CAP_LAST_CAP; i++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) > 0)
			s->amb |= BIT(i);
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) > 0)
			s->bset |= BIT(i);
	}
	s->secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	read_text("/proc/self/uid_map", s->uid_map, sizeof(s->uid_map));
	read_text("/proc/self/gid_map", s->gid_map, sizeof(s->gid_map));
}

static void check_snapshot(const struct snapshot *want)
{
	struct snapshot got;
	int i;

	snap(&got);
	RT_CHECK(!memcmp(got.uid, want->uid, sizeof(got.uid)),
		 "uids %u/%u/%u fs %u, want %u/%u/%u fs %u", got.uid[0],
		 got.uid[1], got.uid[2], got.uid[3], want->uid[0],
		 want->uid[1], want->uid[2], want->uid[3]);
	RT_CHECK(!memcmp(got.gid, want->gid, sizeof(got.gid)),
		 "gids %u/%u/%u fs %u, want %u/%u/%u fs %u", got.gid[0],
		 got.gid[1], got.gid[2], got.gid[3], want->gid[0],
		 want->gid[1], want->gid[2], want->gid[3]);
	RT_CHECK(got.ngroups == want->ngroups, "%d groups, want %d",
		 got.ngroups, want->ngroups);
	for (i = 0; i < got.ngroups && i < want->ngroups; i++)
		RT_CHECK(got.groups[i] == want->groups[i],
			 "group %d: %u, want %u", i, got.groups[i],
			 want->groups[i]);
	RT_CHECK(!memcmp(&got.caps, &want->caps, sizeof(got.caps)),
		 "capabilities eff %#llx perm %#llx inh %#llx, want %#llx %#llx %#llx",
		 got.caps.eff, got.caps.perm, got.caps.inh, want->caps.eff,
		 want->caps.perm, want->caps.inh);
	RT_CHECK(got.amb == want->amb && got.bset == want->bset,
		 "ambient %#llx bounding %#llx, want %#llx %#llx", got.amb,
		 got.bset, want->amb, want->bset);
	RT_CHECK(got.secbits == want->secbits, "securebits %#x, want %#x",
		 got.secbits, want->secbits);
	RT_CHECK(!strcmp(got.uid_map, want->uid_map) &&
		 !strcmp(got.gid_map, want->gid_map),
		 "uid map %s gid map %s, want %s and %s", got.uid_map,
		 got.gid_map, want->uid_map, want->gid_map);
}

/* keep, noambient, lockedcaps, fsuid */
static int snapshot_mode(const char *mode)
{
	struct snapshot before;
	struct caps c = { 0 };

	open_for_checkpoint(1);
	if (!strcmp(mode, "noambient")) {
		if (get_caps(&c))
			rt_die("capget");
		c.inh = BIT(CAP_NET_BIND_SERVICE);
		if (set_caps(&c) ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
			  CAP_NET_BIND_SERVICE, 0, 0) ||
		    prctl(PR_SET_SECUREBITS, SECBIT_NO_CAP_AMBIENT_RAISE |
			  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0))
			rt_die("noambient");
	} else if (!strcmp(mode, "lockedcaps")) {
		c.eff = c.perm = BIT(CAP_KILL) | BIT(CAP_SETPCAP);
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		    setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000) || set_caps(&c) ||
		    prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS_LOCKED |
			  SECBIT_NO_SETUID_FIXUP_LOCKED, 0, 0, 0))
			rt_die("lockedcaps");
		c.eff = c.perm = BIT(CAP_KILL);
		if (set_caps(&c))
			rt_die("lockedcaps capset");
	} else if (!strcmp(mode, "fsuid")) {
		c.eff = c.perm = BIT(CAP_SETUID);
		if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
		    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
		    setresuid(1000, 1000, 1000) || set_caps(&c))
			rt_die("fsuid");
		setfsuid(1001);
		c.eff = c.perm = 0;
		if (set_caps(&c) || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
			rt_die("fsuid capset");
	} else if (strcmp(mode, "keep")) {
		rt_report("unknown mode %s", mode);
		return 2;
	}
	snap(&before);
	if (checkpoint())
		return 0;
	check_snapshot(&before);
	check_keyring();
	return rt_end();
}

static int full(void)
{
	static const gid_t groups[] = { 3000, 1000, 2000 };
	const struct caps c = {
		.eff = BIT(CAP_NET_BIND_SERVICE),
		.perm = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL) |
			BIT(CAP_CHOWN),
		.inh = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
	};
	const unsigned long long dropped = BIT(CAP_SYS_MODULE) |
					   BIT(CAP_SYS_RAWIO);
	gid_t got[8];
	int n;

	open_for_checkpoint(1);
	if (prctl(PR_SET_SECUREBITS, FULL_SECBITS, 0, 0, 0) ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_RAWIO, 0, 0, 0) ||
	    setgroups(3, groups) || setresgid(1000, 1003, 1004) ||
	    setresuid(1000, 1001, 1002))
		rt_die("setting ids");
	setfsuid(1002);
	setfsgid(1004);
	if (set_caps(&c) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
		  0, 0))
		rt_die("setting capabilities");

	if (checkpoint())
		return 0;

	check_ids(1000, 1001, 1002, 1002, 1000, 1003, 1004, 1004);
	n = getgroups(8, got);
	RT_CHECK(n == 3 && got[0] == 1000 && got[1] == 2000 && got[2] == 3000,
		 "%d groups: %u %u %u", n, n > 0 ? got[0] : 0,
		 n > 1 ? got[1] : 0, n > 2 ? got[2] : 0);
	check_caps(&c, BIT(CAP_NET_BIND_SERVICE), dropped, FULL_SECBITS);
	check_keyring();
	return rt_end();
}

/* caps and plain: uid and gid 1000 everywhere, no groups. */
static int user1000(int with_caps)
{
	const struct caps c = {
		.eff = with_caps ? BIT(CAP_KILL) : 0,
		.perm = with_caps ? BIT(CAP_KILL) : 0,
	};

	open_for_checkpoint(!with_caps);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
	    setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000) ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) || set_caps(&c))
		rt_die("setting credentials");

	if (checkpoint())
		return 0;

	check_ids(1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000);
	RT_CHECK(getgroups(0, NULL) == 0, "%d groups", getgroups(0, NULL));
	check_caps(&c, 0, 0, 0);
	check_keyring();
	return rt_end();
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	rt_begin(argv[1]);
	if (argc < 3)
		return full();
	if (!strcmp(argv[2], "caps"))
		return user1000(1);
	if (!strcmp(argv[2], "plain"))
		return user1000(0);
	return snapshot_mode(argv[2]);
}
