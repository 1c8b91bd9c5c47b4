/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr: the linux-cr checkpoint/restart system calls, emulated as ioctls on
 * the misc device /dev/checkpoint.
 *
 * This header is the ABI between kcr.ko and userspace. The Go package in
 * this directory is generated from it (see gen/). The image format written
 * by CKPT_IOC_CHECKPOINT and read by CKPT_IOC_RESTART is in
 * <linux/checkpoint_hdr.h>.
 *
 * Rules for the argument structs, so that one layout serves every 64-bit
 * architecture (x86-64, s390x, ppc64le) and a 32-bit build of the header
 * sees the same offsets:
 *  - explicit-width fields only; pointers travel as __aligned_u64;
 *  - no implicit padding: holes are named __pad* and must be zero (the
 *    module refuses non-zero padding with EINVAL so it can give those
 *    bytes a meaning later);
 *  - the size of every struct is a multiple of 8.
 * The ioctl numbers encode the struct size, so a changed struct is a new
 * ioctl number and an old binary gets ENOTTY instead of garbage.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on every incompatible change of the ioctl ABI or the image format. */
#define KCR_ABI_VERSION 2

#define CKPT_DEVICE_NAME "checkpoint"

/* 0xCC: unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define CKPT_IOC_MAGIC 0xCC

/*
 * Descriptor value for "no file": logfd = CHECKPOINT_FD_NONE sends no log
 * messages anywhere.
 */
#define CHECKPOINT_FD_NONE (-1)

/* struct ckpt_ioc_checkpoint.flags */
/*
 * Checkpoint the subtree rooted at pid even though pid is not the init of
 * a pid namespace. Without it the root must be a pid-namespace init and the
 * checkpoint fails with EBUSY when a checkpointed object is also used
 * outside the tree (a leak), because restart could not rebuild it.
 */
#define CHECKPOINT_SUBTREE	0x1
/* Also checkpoint the network namespace (optional feature). */
#define CHECKPOINT_NETNS	0x2
/*
 * The last step of a pre-copy: write only the private pages written since
 * the targets' soft-dirty bits were last cleared (/proc/PID/clear_refs 4)
 * and, for the others, only their addresses (CKPT_HDR_PGARR_CLEAN), which
 * the caller fills in from the copy it made before. The header keeps the
 * flag, and restart refuses such an image until it is merged into an
 * ordinary one (kcr checkpoint --pre-copy does that). EOPNOTSUPP on a
 * kernel without CONFIG_MEM_SOFT_DIRTY.
 */
#define CHECKPOINT_DIRTY_ONLY	0x4

#define CHECKPOINT_USER_FLAGS	(CHECKPOINT_SUBTREE | CHECKPOINT_NETNS | \
				 CHECKPOINT_DIRTY_ONLY)

/* struct ckpt_ioc_restart.flags */
/*
 * The caller restores itself only: it becomes the task of the image whose
 * pid is args.pid (linux-cr's mode for trees built in userspace with
 * clone_with_pids). Without it the caller is the coordinator and the
 * module creates the whole tree below it.
 */
#define RESTART_TASKSELF	0x1
/*
 * Create the restarted tree in the cgroup v2 directory args.cgroup (not
 * frozen), and freeze that cgroup once the tree is restored, before any
 * task runs user code: the caller inspects and thaws it (see
 * CKPT_IOC_FREEZER_SET). Not with RESTART_TASKSELF.
 */
#define RESTART_FROZEN		0x2
/*
 * The restarting task is a placeholder (a "ghost") that exists only to
 * recreate a dead session or process-group leader; it exits once done.
 */
#define RESTART_GHOST		0x4
/* Restore the LSM labels of the image instead of inheriting the caller's. */
#define RESTART_KEEP_LSM	0x8
/* Restore connected sockets in a reset state instead of failing. */
#define RESTART_CONN_RESET	0x10
/*
 * Do not ask for the original pids: tasks get whatever pid is free. For
 * restarting next to the original (e.g. a copy of a running program).
 */
#define RESTART_NO_PIDS		0x20
/*
 * Reopen files that changed since the checkpoint (another inode at the
 * path, another size, mtime or ctime) instead of refusing them.
 */
#define RESTART_ALLOW_CHANGED_FILES	0x40
/*
 * Zero-copy restart: where the image is a regular file that can be mapped
 * (page cache, tmpfs) and its page data is page-aligned in it, map runs of
 * a private anonymous mapping's pages straight from the image file,
 * copy-on-write, instead of reading them into new pages. Those parts
 * become private mappings of the image file: MADV_DONTNEED there brings
 * back the image's contents rather than zeros, /proc/PID/maps names the
 * image, they cannot grow with mremap(), and the image file must not be
 * changed while the process runs (removing it is fine). A checkpoint
 * takes such a mapping for the anonymous memory it was.
 */
#define RESTART_MAP_IMAGE	0x80

#define RESTART_USER_FLAGS	(RESTART_TASKSELF | RESTART_FROZEN | \
				 RESTART_GHOST | RESTART_KEEP_LSM | \
				 RESTART_CONN_RESET | RESTART_NO_PIDS | \
				 RESTART_ALLOW_CHANGED_FILES | RESTART_MAP_IMAGE)

/*
 * CKPT_IOC_CHECKPOINT: sys_checkpoint(pid, fd, flags, logfd).
 * Writes the image of the tree rooted at pid to fd (a file, pipe or
 * socket, written sequentially). pid 0 checkpoints the caller itself.
 * Returns a positive checkpoint id; a self-checkpoint returns 0 when the
 * task comes back through restart, like fork() in the child.
 */
struct ckpt_ioc_checkpoint {
	__s32 pid;		/* root task, in the caller's pid namespace */
	__s32 fd;		/* where the image goes */
	__u64 flags;		/* CHECKPOINT_* */
	__s32 logfd;		/* messages, or CHECKPOINT_FD_NONE */
	__u32 __pad;		/* zero */
};

/*
 * CKPT_IOC_RESTART: sys_restart(pid, fd, flags, logfd).
 * Reads an image from fd. Coordinator mode (no RESTART_TASKSELF): the
 * module creates the image's tree below the caller; pid must be 0. With
 * RESTART_TASKSELF, pid is the image task the caller turns into (0: the
 * one whose pid equals the caller's, as linux-cr matched tasks that
 * userspace created with clone_with_pids). The coordinator gets the pid
 * of the restored root task (its child, in the caller's pid namespace)
 * once the tree is restored; with RESTART_TASKSELF the caller returns to
 * user mode in its checkpointed state, not from this call. A failed
 * restart leaves no task behind: one that was half restored is killed
 * (with RESTART_TASKSELF, the caller itself). An interrupted restart fails
 * with EINTR, never ERESTART*: it cannot be restarted.
 */
struct ckpt_ioc_restart {
	__s32 pid;
	__s32 fd;		/* where the image comes from */
	__u64 flags;		/* RESTART_* */
	__s32 logfd;		/* messages, or CHECKPOINT_FD_NONE */
	__s32 cgroup;		/* RESTART_FROZEN: a cgroup v2 directory fd; else 0 */
};

/*
 * CKPT_IOC_CLONE_WITH_PIDS: linux-cr's clone_with_pids/eclone, with the
 * clone3() field meanings and checks (it is clone3() with set_tid).
 * Fork-like: returns the child's pid (in the caller's namespace) to the
 * parent, 0 in the child, which returns from this ioctl with the parent's
 * registers otherwise (stack pointer stack + stack_size when stack is
 * given, the TLS register tls with CLONE_SETTLS).
 *
 * pids points to nr_pids pid_t values, one per pid-namespace level, the
 * outermost first and the child's own (innermost) namespace last. With
 * fewer values than the child has levels they apply to the innermost
 * levels and the outer levels get any free pid; each value is >= 1 (0 is
 * not "any": EINVAL). With CLONE_NEWPID the child is the init of a new
 * level, so its innermost pid must be 1, as must be the innermost pid of
 * any task of a namespace that has no init yet (EINVAL otherwise).
 * EBUSY: a pid is taken; EINVAL: nr_pids exceeds the nesting depth (or
 * 32), pids and nr_pids disagree, __pad is not zero, flags hold CSIGNAL
 * bits (CLONE_NEWTIME excepted), CLONE_DETACHED, CLONE_PIDFD or
 * CLONE_INTO_CGROUP (no field for a pidfd or a cgroup) or an unknown bit,
 * exit_signal is not a signal, stack and stack_size disagree; EPERM:
 * neither CAP_CHECKPOINT_RESTORE nor CAP_SYS_ADMIN in the user namespace
 * owning a pid namespace whose pid is chosen, or the caller is under a
 * seccomp filter (which sees an ioctl and could not refuse the clone).
 */
struct ckpt_ioc_clone_with_pids {
	__aligned_u64 flags;		/* CLONE_*, without CSIGNAL */
	__aligned_u64 exit_signal;	/* signal to the parent at exit */
	__aligned_u64 stack;		/* lowest address of the child stack */
	__aligned_u64 stack_size;
	__aligned_u64 tls;		/* for CLONE_SETTLS */
	__aligned_u64 parent_tid;	/* pid_t *, CLONE_PARENT_SETTID */
	__aligned_u64 child_tid;	/* pid_t *, CLONE_CHILD_{SET,CLEAR}TID */
	__aligned_u64 pids;		/* pid_t[nr_pids] */
	__u32 nr_pids;
	__u32 __pad;			/* zero */
};

/*
 * Freezer states, as seen by CKPT_IOC_FREEZER_GET and asked for with
 * CKPT_IOC_FREEZER_SET. Zero is not a state, so that a zeroed struct
 * cannot thaw a cgroup by accident.
 */
#define CKPT_FREEZER_THAWED		1
/*
 * Being frozen: the cgroup's own freeze is on but not every task has
 * stopped yet (GET only). A cgroup v2 group that is being frozen only
 * through an ancestor reads THAWED until its tasks have stopped.
 */
#define CKPT_FREEZER_FREEZING		2
#define CKPT_FREEZER_FROZEN		3
/*
 * linux-cr's state: a checkpoint of tasks frozen in this cgroup (or in a
 * group below it) is running, and the cgroup's own freeze is on. Entered
 * and left by CKPT_IOC_CHECKPOINT only (SET refuses it with EINVAL);
 * while in it, SET of any state fails with EBUSY, and the cgroup is FROZEN
 * again when the checkpoint ends, whatever its outcome. A write to the
 * control file itself (cgroup.freeze, freezer.state) bypasses this state:
 * the checkpoint then fails with EBUSY instead of writing an image of
 * tasks that ran, and the cgroup stays as that write left it.
 */
#define CKPT_FREEZER_CHECKPOINTING	4

/*
 * CKPT_IOC_FREEZER_GET / CKPT_IOC_FREEZER_SET: the freezer of the cgroup
 * whose directory is open as cgroup_fd (cgroup v2: cgroup.freeze and
 * cgroup.events; or the v1 freezer hierarchy: freezer.state). A descriptor
 * rather than a path: no path lookup races, and it works from inside a
 * mount namespace that shows another cgroup root. The module reads and
 * writes those control files with the caller's credentials, so the
 * kernel's own permission checks apply (SET needs write access to
 * cgroup.freeze or freezer.state). SET takes only THAWED or FROZEN and
 * returns once the control file is written: tasks stop (or go on)
 * asynchronously, GET tells when they have (FREEZING until then).
 * Errors: EBADF (cgroup_fd or logfd not open), ENOTDIR (not a directory),
 * EINVAL (not a cgroup directory with a freezer, such as a root cgroup;
 * an unknown state; flags or __pad not zero), EBUSY (SET while
 * CHECKPOINTING), and the errors of the control files' open and write
 * (EACCES, EPERM, ENOENT for a removed cgroup). Messages go to logfd.
 */
struct ckpt_ioc_freezer {
	__s32 cgroup_fd;	/* open(cgroup dir, O_RDONLY | O_DIRECTORY) */
	__u32 state;		/* CKPT_FREEZER_*: SET input, GET output */
	__u64 flags;		/* zero: none defined yet */
	__s32 logfd;		/* messages, or CHECKPOINT_FD_NONE */
	__u32 __pad;		/* zero */
};

/* Returns KCR_ABI_VERSION as the (positive) ioctl return value. */
#define CKPT_IOC_VERSION	_IO(CKPT_IOC_MAGIC, 0x00)
#define CKPT_IOC_CHECKPOINT	_IOW(CKPT_IOC_MAGIC, 0x01, struct ckpt_ioc_checkpoint)
#define CKPT_IOC_RESTART	_IOW(CKPT_IOC_MAGIC, 0x02, struct ckpt_ioc_restart)
#define CKPT_IOC_CLONE_WITH_PIDS \
	_IOW(CKPT_IOC_MAGIC, 0x03, struct ckpt_ioc_clone_with_pids)
#define CKPT_IOC_FREEZER_GET	_IOWR(CKPT_IOC_MAGIC, 0x04, struct ckpt_ioc_freezer)
#define CKPT_IOC_FREEZER_SET	_IOW(CKPT_IOC_MAGIC, 0x05, struct ckpt_ioc_freezer)

#endif /* _UAPI_LINUX_CHECKPOINT_H */
