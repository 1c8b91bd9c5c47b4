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
	rt_report("unknown mode %s", argv[2]);
	return 2;
}
