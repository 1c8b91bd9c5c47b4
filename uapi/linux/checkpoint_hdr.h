/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr checkpoint image format, after the image header of linux-cr.
 *
 * An image is a stream of records. Each starts with struct ckpt_hdr:
 * type (CKPT_HDR_*) and len, the length of the whole record in bytes,
 * this header and any trailing payload included. Records follow each other
 * without padding, so a reader can skip a record it does not know by its
 * len alone. A record is at most 4 GiB - 1 (len is 32 bits); big data is
 * cut into several records (e.g. page chunks).
 *
 * Layout rules, so that one set of structs describes the images of every
 * 64-bit architecture (x86-64, s390x, ppc64le):
 *  - explicit-width fields; 64-bit fields at offsets that are multiples of
 *    8; the size of every struct a multiple of 8; no implicit padding:
 *    holes are named __pad* and written as zero;
 *  - the byte order is the producer's (s390x images are big endian),
 *    record headers included; the magic of the first record tells a
 *    reader which order the image uses. Byte arrays
 *    (strings, page contents, raw siginfo) are copied as they are in
 *    memory;
 *  - values whose meaning is defined by the kernel (O_* flags, VM_* flags,
 *    TCP_* socket states, termios bits, ...) are the producer kernel's.
 *    Restart happens on the same architecture (CKPT_HDR_HEADER.arch_id),
 *    so they need no translation; readers on other machines print them.
 *
 * Variable-length data:
 *  - payload arrays follow a record's struct inside the same record; the
 *    struct says how many entries and their type, and len covers them;
 *  - CKPT_HDR_STRING records carry a string: the bytes and a terminating
 *    NUL, len = 8 + strlen + 1. A record with strings (a file path, the
 *    root and cwd of an fs) is followed by one STRING record per string;
 *  - CKPT_HDR_BUFFER records carry opaque bytes, len = 8 + size;
 *  - the kernel's fixed-size strings (comm, uts fields) are fixed arrays,
 *    NUL-padded.
 *
 * Shared objects (files, mm, credentials, namespaces, ...) are written
 * once. Where the writer meets an object for the first time it emits a
 * CKPT_HDR_OBJREF record {objtype, objref} followed by the object's body
 * (the records listed for the CKPT_OBJ_* type below); every record that
 * uses the object carries its objref, a positive number in order of
 * definition (0: no object). A definition always precedes the records
 * that refer to it, but may come in the middle of another body: a reader
 * expecting a record that finds an OBJREF instead reads that definition
 * first and then goes on (linux-cr's ckpt_read_obj did the same). A body
 * may in turn start with definitions of the objects it refers to.
 *
 * The stream:
 *	HEADER HEADER_ARCH CONTAINER TREE
 *	per task, in TREE order:
 *		TASK TASK_CREDS TASK_NS TASK_OBJS
 *		SIGNAL_TASK SIGPENDING RESTART_BLOCK THREAD CPU_<arch>
 *		POSIX_TIMERS (thread-group leaders only) SECCOMP
 *	    or, for a zombie (exit_state EXIT_ZOMBIE), TASK alone
 *	TAIL
 * ERROR records may appear between any two records: a failed checkpoint
 * writes one and stops; a reader reports them.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#define _UAPI_LINUX_CHECKPOINT_HDR_H

#include <linux/types.h>

/*
 * First field of CKPT_HDR_HEADER, at offset 8 of the image. Its bytes tell
 * the byte order: 00 d2 a2 c0 0c ed fe 00 little endian, 00 fe ed 0c c0
 * a2 d2 00 big endian.
 */
#define CKPT_MAGIC_HEAD		0x00feed0cc0a2d200ULL
/* Field of CKPT_HDR_TAIL: the image is complete. */
#define CKPT_MAGIC_TAIL		0x002d2a0cc0deef00ULL

/*
 * Version of the image format, in CKPT_HDR_HEADER.version. A change of it
 * also bumps KCR_ABI_VERSION in <linux/checkpoint.h>.
 */
#define CKPT_IMAGE_VERSION	2
/*
 * The oldest version restart still reads. Version 2 added the page
 * alignment of PGARR records (their pad field, 0 in version 1).
 */
#define CKPT_IMAGE_VERSION_OLDEST	1

/* Sizes of the kernel's fixed arrays, as stored in the image. */
#define CKPT_TASK_COMM_LEN	16	/* TASK_COMM_LEN */
#define CKPT_UTS_LEN		65	/* __NEW_UTS_LEN + 1 */
#define CKPT_RLIM_NLIMITS	16	/* RLIM_NLIMITS */
#define CKPT_NSIG		64	/* _NSIG */
#define CKPT_SUN_PATH_LEN	108	/* UNIX_PATH_MAX */
#define CKPT_LSM_NAME_LEN	24	/* primary LSM name, NUL-padded */
#define CKPT_TTY_NCC		31	/* room for NCCS (19) of every arch */

/*
 * Most pages in one CKPT_HDR_PGARR record. The writer may use fewer; a
 * reader refuses more, so that it never has to hold more than 64 KiB of
 * addresses (and the record stays below 4 GiB with 64 KiB pages).
 */
#define CKPT_PGARR_MAX_PAGES	8192

/* Every record starts with this. */
struct ckpt_hdr {
	__u32 type;		/* CKPT_HDR_* */
	__u32 len;		/* bytes, this header and payload included */
};

/* Record types, grouped by hundreds as in linux-cr. */
enum {
	/* image structure */
	CKPT_HDR_HEADER = 1,		/* struct ckpt_hdr_header */
	CKPT_HDR_HEADER_ARCH,		/* struct ckpt_hdr_header_arch */
	CKPT_HDR_CONTAINER,		/* struct ckpt_hdr_container */
	CKPT_HDR_BUFFER,		/* struct ckpt_hdr + bytes */
	CKPT_HDR_STRING,		/* struct ckpt_hdr + string + NUL */
	CKPT_HDR_OBJREF,		/* struct ckpt_hdr_objref */

	/* tasks, credentials, namespaces */
	CKPT_HDR_TREE = 101,		/* struct ckpt_hdr_tree */
	CKPT_HDR_TASK,			/* struct ckpt_hdr_task */
	CKPT_HDR_TASK_NS,		/* struct ckpt_hdr_task_ns */
	CKPT_HDR_TASK_OBJS,		/* struct ckpt_hdr_task_objs */
	CKPT_HDR_RESTART_BLOCK,		/* struct ckpt_hdr_restart_block */
	CKPT_HDR_THREAD,		/* struct ckpt_hdr_thread */
	CKPT_HDR_NS,			/* struct ckpt_hdr_ns */
	CKPT_HDR_UTS_NS,		/* struct ckpt_hdr_uts_ns */
	CKPT_HDR_IPC_NS,		/* struct ckpt_hdr_ipc_ns */
	/*
	 * Kept for linux-cr's numbering; never a record: the capability sets
	 * are struct ckpt_capabilities inside CKPT_HDR_CRED.
	 */
	CKPT_HDR_CAPABILITIES,
	CKPT_HDR_USER_NS,		/* struct ckpt_hdr_user_ns */
	CKPT_HDR_CRED,			/* struct ckpt_hdr_cred */
	CKPT_HDR_USER,			/* struct ckpt_hdr_user */
	CKPT_HDR_GROUPINFO,		/* struct ckpt_hdr_groupinfo */
	CKPT_HDR_TASK_CREDS,		/* struct ckpt_hdr_task_creds */
	CKPT_HDR_FS,			/* struct ckpt_hdr_fs */
	CKPT_HDR_SECCOMP = 140,		/* struct ckpt_hdr_seccomp */
	CKPT_HDR_SECCOMP_FILTER,	/* struct ckpt_hdr_seccomp_filter */

	/* architecture dependent: register state, one type per arch */
	CKPT_HDR_CPU_X86 = 201,		/* struct ckpt_hdr_cpu_x86 */
	CKPT_HDR_CPU_S390,		/* struct ckpt_hdr_cpu_s390 */
	CKPT_HDR_CPU_PPC64,		/* struct ckpt_hdr_cpu_ppc64 */

	/* files */
	CKPT_HDR_FILE_TABLE = 301,	/* struct ckpt_hdr_file_table */
	CKPT_HDR_FILE_DESC,		/* struct ckpt_hdr_file_desc */
	CKPT_HDR_FILE,			/* struct ckpt_hdr_file */
	CKPT_HDR_FILE_PIPE,		/* struct ckpt_hdr_file_pipe */
	CKPT_HDR_FILE_FIFO,		/* struct ckpt_hdr_file_pipe */
	CKPT_HDR_FILE_SOCKET,		/* struct ckpt_hdr_file_socket */
	CKPT_HDR_FILE_TTY,		/* struct ckpt_hdr_file_tty */
	CKPT_HDR_PIPE_BUF,		/* struct ckpt_hdr_pipe_buf */
	CKPT_HDR_TTY,			/* struct ckpt_hdr_tty */

	/* memory */
	CKPT_HDR_MM = 401,		/* struct ckpt_hdr_mm */
	CKPT_HDR_VMA,			/* struct ckpt_hdr_vma */
	CKPT_HDR_PGARR,			/* struct ckpt_hdr_pgarr */
	CKPT_HDR_MM_AUXV,		/* struct ckpt_hdr + __u64 words */
	CKPT_HDR_SHMEM,			/* struct ckpt_hdr_shmem */
	CKPT_HDR_PGARR_CLEAN,		/* struct ckpt_hdr_pgarr_clean */

	/* System V IPC */
	CKPT_HDR_IPC_SHM = 501,		/* struct ckpt_hdr_ipc_shm */
	CKPT_HDR_IPC_MSG,		/* struct ckpt_hdr_ipc_msg */
	CKPT_HDR_IPC_MSG_MSG,		/* struct ckpt_hdr_ipc_msg_msg */
	CKPT_HDR_IPC_SEM,		/* struct ckpt_hdr_ipc_sem */

	/* signals */
	CKPT_HDR_SIGHAND = 601,		/* struct ckpt_hdr_sighand */
	CKPT_HDR_SIGNAL,		/* struct ckpt_hdr_signal */
	CKPT_HDR_SIGNAL_TASK,		/* struct ckpt_hdr_signal_task */
	CKPT_HDR_SIGPENDING,		/* struct ckpt_hdr_sigpending */
	CKPT_HDR_POSIX_TIMERS = 640,	/* struct ckpt_hdr_posix_timers */
	CKPT_HDR_POSIX_TIMER,		/* struct ckpt_hdr_posix_timer */

	/* sockets */
	CKPT_HDR_SOCKET_UNIX = 701,	/* struct ckpt_hdr_socket_unix */
	CKPT_HDR_SOCKET_BUFFER,		/* struct ckpt_hdr_socket_buffer */

	CKPT_HDR_TAIL = 9001,		/* struct ckpt_hdr_tail */

	CKPT_HDR_ERROR = 9999,		/* struct ckpt_hdr_error */
};

/*
 * Types of shared objects (CKPT_HDR_OBJREF.objtype), with the records of
 * their bodies.
 */
enum {
	/* FILE_TABLE, then nr_fds x FILE_DESC */
	CKPT_OBJ_FILE_TABLE = 1,
	/* one of FILE, FILE_PIPE, FILE_FIFO, FILE_SOCKET, FILE_TTY */
	CKPT_OBJ_FILE,
	/* MM, MM_AUXV, then nr_vmas x (VMA, PGARR..., empty PGARR) */
	CKPT_OBJ_MM,
	/* FS, STRING root, STRING cwd */
	CKPT_OBJ_FS,
	CKPT_OBJ_SIGHAND,	/* SIGHAND */
	CKPT_OBJ_SIGNAL,	/* SIGNAL, SIGPENDING (shared) */
	CKPT_OBJ_NS,		/* NS */
	CKPT_OBJ_UTS_NS,	/* UTS_NS */
	/*
	 * IPC_NS, nr_shm x (IPC_SHM, PGARR..., empty PGARR),
	 * nr_msg x (IPC_MSG, qnum x IPC_MSG_MSG), nr_sem x IPC_SEM
	 */
	CKPT_OBJ_IPC_NS,
	CKPT_OBJ_USER_NS,	/* USER_NS */
	CKPT_OBJ_CRED,		/* CRED */
	CKPT_OBJ_USER,		/* USER */
	CKPT_OBJ_GROUPINFO,	/* GROUPINFO */
	CKPT_OBJ_PIPE,		/* PIPE_BUF: the buffer of a pipe or FIFO */
	/* SOCKET_UNIX, then nr_queued x SOCKET_BUFFER */
	CKPT_OBJ_SOCK,
	CKPT_OBJ_TTY,		/* TTY */
	/* SHMEM, PGARR..., empty PGARR: shared anonymous or shmem memory */
	CKPT_OBJ_SHMEM,
};

/* Architectures (CKPT_HDR_HEADER.arch_id); all 64-bit. */
enum {
	CKPT_ARCH_X86_64 = 1,
	CKPT_ARCH_S390X,
	CKPT_ARCH_PPC64LE,
};

/*
 * CKPT_ARCH_ID and CKPT_HDR_CPU: this compiler's architecture and its
 * register record, for the producer side. Undefined elsewhere, so that a
 * reader on another machine still compiles this header.
 */
#if defined(__x86_64__)
#define CKPT_ARCH_ID	CKPT_ARCH_X86_64
#define CKPT_HDR_CPU	CKPT_HDR_CPU_X86
#elif defined(__s390x__)
#define CKPT_ARCH_ID	CKPT_ARCH_S390X
#define CKPT_HDR_CPU	CKPT_HDR_CPU_S390
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CKPT_ARCH_ID	CKPT_ARCH_PPC64LE
#define CKPT_HDR_CPU	CKPT_HDR_CPU_PPC64
#endif

/*
 * The register records of every architecture, whatever this compiler's:
 * any machine can read any image (kcr info on x86 reads an s390x image).
 * Their layout is the same everywhere, like the rest of this file.
 */
#include <asm-x86/checkpoint_hdr.h>
#include <asm-s390/checkpoint_hdr.h>
#include <asm-powerpc/checkpoint_hdr.h>

/*
 * Image structure
 */

/* The producer kernel's constants; a restart checks them against its own. */
struct ckpt_const {
	__u16 task_comm_len;	/* TASK_COMM_LEN */
	__u16 uts_len;		/* __NEW_UTS_LEN + 1 */
	__u16 signal_nsig;	/* _NSIG */
	__u16 rlimit_nlimits;	/* RLIM_NLIMITS */
	__u32 page_size;	/* PAGE_SIZE: 64 KiB on Debian's ppc64el */
	__u16 at_vector_size;	/* AT_VECTOR_SIZE: words of mm->saved_auxv */
	__u16 sun_path_len;	/* UNIX_PATH_MAX */
	__u16 tty_ncc;		/* NCCS of the kernel's struct ktermios */
	__u16 n_tty_buf_size;	/* N_TTY_BUF_SIZE */
	__u32 __pad;
};

/* CKPT_HDR_HEADER: first record. */
struct ckpt_hdr_header {
	struct ckpt_hdr h;
	__u64 magic;		/* CKPT_MAGIC_HEAD */
	__u32 version;		/* CKPT_IMAGE_VERSION */
	__u32 arch_id;		/* CKPT_ARCH_* */
	__u16 major;		/* producer kernel version: major.minor.patch */
	__u16 minor;
	__u16 patch;
	__u16 __pad0;
	struct ckpt_const constants;
	__u64 time;		/* CLOCK_REALTIME at checkpoint, ns */
	__u64 uflags;		/* CHECKPOINT_* flags of the checkpoint */
	/* utsname() of the producer, NUL-padded */
	__u8 uts_release[CKPT_UTS_LEN];
	__u8 uts_version[CKPT_UTS_LEN];
	__u8 uts_machine[CKPT_UTS_LEN];
	__u8 __pad1[5];
};

/*
 * CKPT_HDR_HEADER_ARCH: what the CPU of the producer had, so a restart can
 * refuse an image that needs state this CPU cannot hold. cpu_caps bits are
 * per arch: CKPT_X86_CAP_*, CKPT_S390_CAP_*, CKPT_PPC64_CAP_*.
 */
struct ckpt_hdr_header_arch {
	struct ckpt_hdr h;
	__u32 arch_id;		/* CKPT_ARCH_*, as in the header */
	__u32 xstate_size;	/* x86: bytes of the user XSAVE area; else 0 */
	__u64 cpu_caps;
	__u64 xfeatures;	/* x86: XCR0 bits of the user xstate; else 0 */
};

/* CKPT_HDR_CONTAINER flags */
/* The root task was the init of its pid namespace (a full container). */
#define CKPT_CONTAINER_PIDNS_INIT	0x1
/* Checkpointed with CHECKPOINT_SUBTREE. */
#define CKPT_CONTAINER_SUBTREE		0x2

/* CKPT_HDR_CONTAINER: what was checkpointed. */
struct ckpt_hdr_container {
	struct ckpt_hdr h;
	__s32 root_pid;		/* root task, in the checkpointer's namespace */
	__u32 flags;		/* CKPT_CONTAINER_* */
	__u8 lsm_name[CKPT_LSM_NAME_LEN];	/* e.g. "apparmor", or "" */
};

/*
 * CKPT_HDR_OBJREF: the records that follow define object objref, until
 * its body is complete (see the top of this file).
 */
struct ckpt_hdr_objref {
	struct ckpt_hdr h;
	__u32 objtype;		/* CKPT_OBJ_* */
	__s32 objref;		/* > 0 */
};

/* CKPT_HDR_TAIL: last record of a complete image. */
struct ckpt_hdr_tail {
	struct ckpt_hdr h;
	__u64 magic;		/* CKPT_MAGIC_TAIL */
};

/*
 * CKPT_HDR_ERROR: why the checkpoint failed, as also written to logfd.
 * Payload: msg_len bytes of message, NUL included.
 */
struct ckpt_hdr_error {
	struct ckpt_hdr h;
	__s32 err;		/* negative errno */
	__s32 pid;		/* task being checkpointed, 0 if none */
	__u64 pos;		/* image position when it failed */
	__u32 msg_len;
	__u32 __pad;
};

/*
 * Tasks
 */

/*
 * One task of CKPT_HDR_TREE. Pids are in the pid namespace of the root
 * task; 0 where the task they name is outside that namespace (e.g. the
 * parent of the root, or a session leader outside a subtree).
 */
struct ckpt_pids {
	__s32 vpid;
	__s32 vtgid;		/* vpid of the thread-group leader */
	__s32 vppid;		/* vpid of the real parent */
	__s32 vsid;
	__s32 vpgid;
	/*
	 * Number of pid namespaces the task sits in below the root's: its
	 * entries in the vpids array of CKPT_HDR_TREE.
	 */
	__u32 depth;
};

/*
 * CKPT_HDR_TREE: every task (thread, zombie) to restore, parents before
 * their children, threads after their group leader.
 * Payload:
 *	struct ckpt_pids pids[nr_tasks];
 *	__s32 vpids[nr_vpids];
 * vpids holds, for each task with depth > 0 in pids order, its pid in each
 * nested namespace, the outermost first: depth entries, the last one its
 * pid in its own namespace. nr_vpids is the sum of the depths. vpid
 * followed by these is the pids array of CKPT_IOC_CLONE_WITH_PIDS.
 */
struct ckpt_hdr_tree {
	struct ckpt_hdr h;
	__u32 nr_tasks;
	__u32 nr_vpids;
};

/* CKPT_HDR_TASK flags */
#define CKPT_TASK_NO_NEW_PRIVS		0x1	/* prctl(PR_SET_NO_NEW_PRIVS) */
#define CKPT_TASK_CHILD_SUBREAPER	0x2	/* PR_SET_CHILD_SUBREAPER */
#define CKPT_TASK_THREAD_LEADER		0x4	/* pid == tgid */

/* CKPT_HDR_TASK: the task_struct fields that are not shared objects. */
struct ckpt_hdr_task {
	struct ckpt_hdr h;
	__u32 state;		/* __TASK_* bits of __state */
	__u32 exit_state;	/* EXIT_ZOMBIE, EXIT_DEAD or 0 */
	__s32 exit_code;
	__s32 exit_signal;	/* to the parent at exit; -1 for threads */
	__s32 pdeath_signal;
	__u32 personality;
	__u32 flags;		/* CKPT_TASK_* */
	__u32 policy;		/* SCHED_* */
	__s32 nice;		/* -20..19 */
	__u32 rt_priority;
	__u64 set_child_tid;	/* user address, CLONE_CHILD_SETTID */
	__u64 clear_child_tid;	/* user address, CLONE_CHILD_CLEARTID */
	__u64 robust_list;	/* user address, set_robust_list() */
	__u64 robust_list_len;
	__u64 timer_slack_ns;
	__u8 comm[CKPT_TASK_COMM_LEN];
};

/* CKPT_HDR_TASK_CREDS: the task's credentials, objrefs of CKPT_OBJ_CRED. */
struct ckpt_hdr_task_creds {
	struct ckpt_hdr h;
	__s32 cred_ref;		/* task->real_cred: used when others act on it */
	__s32 ecred_ref;	/* task->cred: used when it acts */
};

/*
 * Kinds of namespace: indices of CKPT_HDR_TASK_NS.ns[]. The *_FOR_CHILDREN
 * kinds are the namespaces the task's next children will be in (after
 * unshare(CLONE_NEWPID) or unshare(CLONE_NEWTIME), which move the caller's
 * children only).
 */
enum {
	CKPT_NS_UTS,
	CKPT_NS_IPC,
	CKPT_NS_MNT,
	CKPT_NS_NET,
	CKPT_NS_CGROUP,
	CKPT_NS_TIME,
	CKPT_NS_TIME_FOR_CHILDREN,
	CKPT_NS_PID,
	CKPT_NS_PID_FOR_CHILDREN,
	CKPT_NS_USER,
	CKPT_NS_NKINDS,
};

/*
 * Values of CKPT_HDR_TASK_NS.ns[kind]: where the task's namespace of that
 * kind stands. CKPT_NS_CALLER: the checkpointer's own (the task shares
 * it with the process that made the image; a restarted task shares the
 * restarter's). n > 0: another namespace, the one the n-th task of TREE
 * is in (1: the root), numbered by the first task in TREE order that is
 * in it; tasks with the same n share it.
 */
#define CKPT_NS_CALLER		0

/*
 * CKPT_HDR_TASK_NS: objref of the task's CKPT_OBJ_NS (the contents of
 * the namespaces that are saved: UTS) and where it stands in each kind
 * of namespace (CKPT_NS_* values above).
 */
struct ckpt_hdr_task_ns {
	struct ckpt_hdr h;
	__s32 ns_ref;
	__u32 __pad;
	__s32 ns[CKPT_NS_NKINDS];
};

/*
 * CKPT_HDR_TASK_OBJS: objrefs of the task's shareable parts; threads and
 * CLONE_FILES/CLONE_FS/CLONE_SIGHAND children refer to the same ones.
 */
struct ckpt_hdr_task_objs {
	struct ckpt_hdr h;
	__s32 files_ref;	/* CKPT_OBJ_FILE_TABLE */
	__s32 fs_ref;		/* CKPT_OBJ_FS */
	__s32 mm_ref;		/* CKPT_OBJ_MM; 0 for a zombie */
	__s32 sighand_ref;	/* CKPT_OBJ_SIGHAND */
	__s32 signal_ref;	/* CKPT_OBJ_SIGNAL */
	__u32 __pad;
};

/*
 * Restart blocks: what an interrupted sleeping system call needs to go on
 * with -ERESTART_RESTARTBLOCK. CKPT_HDR_RESTART_BLOCK.function_type says
 * which, and the args are, by type:
 *  NONE:	none (do_no_restart_syscall)
 *  HRTIMER_NANOSLEEP, POSIX_CPU_NANOSLEEP, ALARM_NANOSLEEP:
 *	arg0 clockid (for ALARM_NANOSLEEP the alarm type, ALARM_REALTIME
 *	or ALARM_BOOTTIME, as the kernel keeps it), arg1 rmtp (user
 *	address), arg2 rmtp kind (CKPT_RESTART_BLOCK_RMTP_*), arg3 time left
 *  FUTEX:	arg0 uaddr, arg1 val, arg2 futex flags (FLAGS_SHARED,
 *		FLAGS_CLOCKRT, FLAGS_HAS_TIMEOUT), arg3 bitset,
 *		arg4 time left, arg5 uaddr2
 *  POLL:	arg0 ufds (user address), arg1 nfds, arg2 has_timeout,
 *		arg3 time left
 * The kernel keeps these timeouts as absolute times of a clock that does
 * not survive a restart (CLOCK_MONOTONIC starts at boot), so the image
 * holds the time that was left at checkpoint, in ns; a restart adds its
 * own clock's present time.
 */
#define CKPT_RESTART_BLOCK_NONE			0
#define CKPT_RESTART_BLOCK_HRTIMER_NANOSLEEP	1
#define CKPT_RESTART_BLOCK_POSIX_CPU_NANOSLEEP	2
#define CKPT_RESTART_BLOCK_ALARM_NANOSLEEP	3
#define CKPT_RESTART_BLOCK_FUTEX		4
#define CKPT_RESTART_BLOCK_POLL			5

#define CKPT_RESTART_BLOCK_RMTP_NONE		0
#define CKPT_RESTART_BLOCK_RMTP_NATIVE		1	/* struct timespec */

/* CKPT_HDR_RESTART_BLOCK: task->restart_block. */
struct ckpt_hdr_restart_block {
	struct ckpt_hdr h;
	__u32 function_type;	/* CKPT_RESTART_BLOCK_* */
	__u32 __pad;
	__u64 arg0;
	__u64 arg1;
	__u64 arg2;
	__u64 arg3;
	__u64 arg4;
	__u64 arg5;
};

/* CKPT_HDR_THREAD flags */
/* The task stopped inside a system call (syscall_nr is valid). */
#define CKPT_THREAD_IN_SYSCALL		0x1
/* TIF_RESTORE_SIGMASK: saved_sigmask goes back on return to user mode. */
#define CKPT_THREAD_RESTORE_SIGMASK	0x2

/*
 * CKPT_HDR_THREAD: per-thread kernel state that is not registers. The
 * registers follow in the CKPT_HDR_CPU_<arch> record.
 *
 * rseq, rseq_len, rseq_sig: the task's rseq() registration (the address
 * of its struct rseq, the length and signature it was registered with;
 * the length is 32 on the kernels kcr supports), or all 0 when it has
 * none.
 */
struct ckpt_hdr_thread {
	struct ckpt_hdr h;
	__u32 flags;		/* CKPT_THREAD_* */
	__s32 syscall_nr;	/* -1 when not in a system call */
	__s64 syscall_ret;	/* its return value so far, e.g. -ERESTARTSYS */
	__u64 rseq;		/* user address of struct rseq, or 0 */
	__u32 rseq_len;
	__u32 rseq_sig;
};

/*
 * Credentials
 */

/* Capability sets, as 64-bit masks of CAP_* bits. */
struct ckpt_capabilities {
	__u64 cap_inheritable;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 cap_bset;
	__u64 cap_ambient;
};

/*
 * CKPT_HDR_CRED: a struct cred. Ids are as seen from the user namespace
 * of the checkpoint's root task.
 */
struct ckpt_hdr_cred {
	struct ckpt_hdr h;
	__u32 uid;
	__u32 suid;
	__u32 euid;
	__u32 fsuid;
	__u32 gid;
	__u32 sgid;
	__u32 egid;
	__u32 fsgid;
	__s32 user_ref;		/* CKPT_OBJ_USER */
	__s32 user_ns_ref;	/* CKPT_OBJ_USER_NS */
	__s32 groupinfo_ref;	/* CKPT_OBJ_GROUPINFO */
	__u32 securebits;
	struct ckpt_capabilities caps;
};

/* CKPT_HDR_USER: a user_struct (per-uid accounting). */
struct ckpt_hdr_user {
	struct ckpt_hdr h;
	__u32 uid;
	__s32 user_ns_ref;	/* CKPT_OBJ_USER_NS */
};

/*
 * One line of /proc/PID/uid_map or gid_map. lower_first is an id of the
 * parent namespace; at level 0 (the root task's namespace) a kernel id,
 * as the initial namespace sees it: it binds the image to the namespace
 * it was made in.
 */
struct ckpt_id_extent {
	__u32 first;		/* id inside the namespace */
	__u32 lower_first;	/* id in the parent namespace, see above */
	__u32 count;
	__u32 __pad;
};

/*
 * CKPT_HDR_USER_NS: a user namespace.
 * Payload:
 *	struct ckpt_id_extent uid_map[nr_uid_extents];
 *	struct ckpt_id_extent gid_map[nr_gid_extents];
 */
struct ckpt_hdr_user_ns {
	struct ckpt_hdr h;
	__s32 parent_ref;	/* CKPT_OBJ_USER_NS; 0: the root's own parent */
	__u32 level;		/* nesting level below the root's */
	__u32 owner;		/* uid of the creator, in the parent namespace */
	__u32 group;
	__u32 nr_uid_extents;
	__u32 nr_gid_extents;
};

/*
 * CKPT_HDR_GROUPINFO: supplementary groups.
 * Payload: __u32 gids[ngroups], sorted.
 */
struct ckpt_hdr_groupinfo {
	struct ckpt_hdr h;
	__u32 ngroups;
	__u32 __pad;
};

/*
 * Namespaces
 */

/*
 * CKPT_HDR_NS: a task's nsproxy: the namespaces whose contents the image
 * holds. 0 for a kind whose contents are not saved; the task is then in
 * the checkpointer's namespace of that kind (CKPT_HDR_TASK_NS says so,
 * a checkpoint refuses other tasks).
 */
struct ckpt_hdr_ns {
	struct ckpt_hdr h;
	__s32 uts_ref;		/* CKPT_OBJ_UTS_NS */
	__s32 ipc_ref;		/* CKPT_OBJ_IPC_NS; 0 for now */
	__s32 mnt_ref;		/* reserved: 0 */
	__s32 net_ref;		/* reserved: 0 (CHECKPOINT_NETNS) */
};

/*
 * CKPT_HDR_UTS_NS: struct new_utsname, fields NUL-padded. A restart
 * gives the task the nodename and domainname; the other fields name the
 * running kernel and are informative.
 */
struct ckpt_hdr_uts_ns {
	struct ckpt_hdr h;
	__u8 sysname[CKPT_UTS_LEN];
	__u8 nodename[CKPT_UTS_LEN];
	__u8 release[CKPT_UTS_LEN];
	__u8 version[CKPT_UTS_LEN];
	__u8 machine[CKPT_UTS_LEN];
	__u8 domainname[CKPT_UTS_LEN];
	__u8 __pad[2];
};

/*
 * CKPT_HDR_IPC_NS: an IPC namespace, its limits (the kernel.shm*, msg*,
 * sem sysctls) and how many objects of each kind follow in its body.
 */
struct ckpt_hdr_ipc_ns {
	struct ckpt_hdr h;
	__u64 shm_ctlmax;
	__u64 shm_ctlall;
	__u32 shm_ctlmni;
	__s32 shm_rmid_forced;
	__u32 msg_ctlmax;
	__u32 msg_ctlmnb;
	__u32 msg_ctlmni;
	__u32 sem_ctls[4];	/* SEMMSL, SEMMNS, SEMOPM, SEMMNI */
	__u32 nr_shm;
	__u32 nr_msg;
	__u32 nr_sem;
};

/* struct kern_ipc_perm of a System V IPC object. */
struct ckpt_ipc_perms {
	__s32 id;		/* identifier, as returned by *get() */
	__s32 key;
	__u32 uid;
	__u32 gid;
	__u32 cuid;
	__u32 cgid;
	__u32 mode;
	__u32 seq;
};

/* CKPT_HDR_IPC_SHM flags */
#define CKPT_IPC_SHM_LOCKED	0x1	/* SHM_LOCK */
#define CKPT_IPC_SHM_DEST	0x2	/* IPC_RMID done, still attached */

/*
 * CKPT_HDR_IPC_SHM: a shared memory segment. Its pages follow as PGARR
 * records addressed by byte offset in the segment, then an empty PGARR.
 * Times are seconds since the epoch.
 */
struct ckpt_hdr_ipc_shm {
	struct ckpt_hdr h;
	struct ckpt_ipc_perms perms;
	__u64 shm_segsz;
	__u64 shm_atim;
	__u64 shm_dtim;
	__u64 shm_ctim;
	__s32 shm_cprid;
	__s32 shm_lprid;
	__u32 flags;		/* CKPT_IPC_SHM_* */
	__u32 __pad;
};

/*
 * CKPT_HDR_IPC_MSG: a message queue; its qnum messages follow as
 * IPC_MSG_MSG records, oldest first.
 */
struct ckpt_hdr_ipc_msg {
	struct ckpt_hdr h;
	struct ckpt_ipc_perms perms;
	__u64 q_stime;
	__u64 q_rtime;
	__u64 q_ctime;
	__u64 q_cbytes;
	__u64 q_qbytes;
	__s32 q_lspid;
	__s32 q_lrpid;
	__u32 qnum;
	__u32 __pad;
};

/* CKPT_HDR_IPC_MSG_MSG: one message. Payload: m_ts bytes of text. */
struct ckpt_hdr_ipc_msg_msg {
	struct ckpt_hdr h;
	__s64 m_type;
	__u32 m_ts;
	__u32 __pad;
};

/* One semaphore of CKPT_HDR_IPC_SEM. */
struct ckpt_sem {
	__s32 semval;
	__s32 sempid;
};

/*
 * CKPT_HDR_IPC_SEM: a semaphore set.
 * Payload: struct ckpt_sem sems[sem_nsems].
 */
struct ckpt_hdr_ipc_sem {
	struct ckpt_hdr h;
	struct ckpt_ipc_perms perms;
	__u64 sem_otime;
	__u64 sem_ctime;
	__u32 sem_nsems;
	__u32 __pad;
};

/*
 * Files
 */

/* CKPT_HDR_FILE_TABLE: a files_struct; nr_fds FILE_DESC records follow. */
struct ckpt_hdr_file_table {
	struct ckpt_hdr h;
	__u32 nr_fds;
	__u32 __pad;
};

/* CKPT_HDR_FILE_DESC: one open descriptor. */
struct ckpt_hdr_file_desc {
	struct ckpt_hdr h;
	__s32 fd;
	__s32 file_ref;		/* CKPT_OBJ_FILE */
	__u32 close_on_exec;	/* 0 or 1 */
	__u32 __pad;
};

/* struct ckpt_file.f_type: the kind of file, one per file record type */
#define CKPT_FILE_GENERIC	1	/* CKPT_HDR_FILE */
#define CKPT_FILE_PIPE		2	/* CKPT_HDR_FILE_PIPE */
#define CKPT_FILE_FIFO		3	/* CKPT_HDR_FILE_FIFO */
#define CKPT_FILE_SOCKET	4	/* CKPT_HDR_FILE_SOCKET */
#define CKPT_FILE_TTY		5	/* CKPT_HDR_FILE_TTY */

/*
 * The part of a struct file common to all kinds, first in every file
 * record. f_type repeats the kind of the record type so that code that
 * handles the common part needs no table of record types.
 */
struct ckpt_file {
	__u32 f_type;		/* CKPT_FILE_* */
	__u32 f_mode;		/* FMODE_READ, FMODE_WRITE, ... */
	__u32 f_flags;		/* O_* of the producer's arch */
	__s32 f_cred_ref;	/* CKPT_OBJ_CRED: who opened it */
	__s64 f_pos;
	__u32 i_mode;		/* S_IF* and permissions of the inode */
	__u32 i_rdev;		/* devices: new_encode_dev(rdev); else 0 */
	/*
	 * The inode's identity and version, which a restart compares with
	 * the file it reopens (unless RESTART_ALLOW_CHANGED_FILES): a file
	 * replaced by another (dev, ino, generation) or changed since the
	 * checkpoint (size, mtime, ctime) is refused. Which fields are
	 * compared depends on the kind and on i_flags (CKPT_FILE_ID_*).
	 */
	__u64 i_ino;
	__s64 i_size;
	__s64 i_mtime_sec;
	__s64 i_ctime_sec;
	__u32 i_mtime_nsec;
	__u32 i_ctime_nsec;
	__u32 s_dev;		/* new_encode_dev() of the file system's */
	__u32 i_generation;
	__u32 i_flags;		/* CKPT_FILE_ID_* */
	__u32 __pad;
};

/*
 * struct ckpt_file.i_flags. OUTPUT: the checkpoint's own image or log
 * file (a self-checkpoint has them open): it grows while the image is
 * written, so only its identity is compared. CKPT_DEVICE: the checkpoint
 * device itself, whose minor number the misc driver chooses at each
 * load: it is matched by being the device, not by i_rdev.
 */
#define CKPT_FILE_ID_OUTPUT	0x1
#define CKPT_FILE_ID_CKPT_DEVICE	0x2
#define CKPT_FILE_ID_FLAGS	(CKPT_FILE_ID_OUTPUT | CKPT_FILE_ID_CKPT_DEVICE)

/*
 * CKPT_HDR_FILE: a file reopened by path: regular file, directory,
 * device (/dev/null, /dev/zero, /dev/random, /dev/urandom, ...).
 * Followed by a STRING record: the path as the task saw it (d_path
 * relative to its root).
 */
struct ckpt_hdr_file {
	struct ckpt_hdr h;
	struct ckpt_file common;
};

/*
 * CKPT_HDR_FILE_PIPE: one end of a pipe. CKPT_HDR_FILE_FIFO: a FIFO,
 * followed by a STRING record with its path. pipe_ref is the pipe's
 * buffer; both ends and every opener of a FIFO share it.
 */
struct ckpt_hdr_file_pipe {
	struct ckpt_hdr h;
	struct ckpt_file common;
	__s32 pipe_ref;		/* CKPT_OBJ_PIPE */
	__u32 __pad;
};

/* CKPT_HDR_FILE_SOCKET: a socket file. */
struct ckpt_hdr_file_socket {
	struct ckpt_hdr h;
	struct ckpt_file common;
	__s32 sock_ref;		/* CKPT_OBJ_SOCK */
	__u32 __pad;
};

/*
 * CKPT_HDR_FILE_TTY: an open terminal, followed by a STRING record with
 * the path it was opened by (/dev/ptmx, /dev/pts/N, /dev/tty, ...).
 */
struct ckpt_hdr_file_tty {
	struct ckpt_hdr h;
	struct ckpt_file common;
	__s32 tty_ref;		/* CKPT_OBJ_TTY */
	__u32 __pad;
};

/*
 * CKPT_HDR_PIPE_BUF: the contents of a pipe.
 * Payload: data_len bytes, the unread data, oldest first.
 */
struct ckpt_hdr_pipe_buf {
	struct ckpt_hdr h;
	__u32 pipe_size;	/* capacity in bytes (F_GETPIPE_SZ) */
	__u32 data_len;
};

/* The termios of a terminal (struct ktermios), arch-neutral layout. */
struct ckpt_termios {
	__u32 c_iflag;
	__u32 c_oflag;
	__u32 c_cflag;
	__u32 c_lflag;
	__u32 c_ispeed;
	__u32 c_ospeed;
	__u8 c_line;
	__u8 c_cc[CKPT_TTY_NCC];	/* first ckpt_const.tty_ncc used */
};

struct ckpt_winsize {
	__u16 ws_row;
	__u16 ws_col;
	__u16 ws_xpixel;
	__u16 ws_ypixel;
};

/*
 * CKPT_HDR_TTY: a terminal (one side of a pty pair).
 * Payload: data_len bytes of input waiting in the line discipline.
 */
struct ckpt_hdr_tty {
	struct ckpt_hdr h;
	__u32 driver_type;	/* TTY_DRIVER_TYPE_* */
	__u32 driver_subtype;	/* PTY_TYPE_MASTER, PTY_TYPE_SLAVE */
	__s32 link_ref;		/* CKPT_OBJ_TTY: the other side of the pty */
	__u32 index;		/* N of /dev/pts/N */
	__u32 flags;		/* TTY_* bits of tty->flags */
	__s32 session;		/* vpid of the session leader, 0: none */
	__s32 pgrp;		/* foreground process group, 0: none */
	__u32 ldisc;		/* N_TTY */
	struct ckpt_termios termios;
	struct ckpt_winsize winsize;
	__u32 data_len;
	__u32 __pad;
};

/*
 * Sockets
 */

/* CKPT_HDR_SOCKET_UNIX flags */
#define CKPT_SOCK_PASSCRED	0x1	/* SO_PASSCRED */
#define CKPT_SOCK_PASSSEC	0x2	/* SO_PASSSEC */

/*
 * CKPT_HDR_SOCKET_UNIX: an AF_UNIX socket; nr_queued SOCKET_BUFFER
 * records follow: its receive queue, oldest first. Addresses are
 * sun_path bytes, laddr_len/raddr_len of them (abstract names start with
 * NUL). peer_ref may name an object whose definition is still in
 * progress: a connected pair refer to each other, and a restart creates
 * both ends when it meets the first.
 */
struct ckpt_hdr_socket_unix {
	struct ckpt_hdr h;
	__u32 sk_type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	__u32 sk_state;		/* TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE */
	__s32 peer_ref;		/* CKPT_OBJ_SOCK, 0: none */
	__u32 flags;		/* CKPT_SOCK_* */
	__u32 backlog;		/* listen() backlog */
	__u32 shutdown;		/* SHUTDOWN_MASK bits: RCV 1, SEND 2 */
	__u32 laddr_len;
	__u32 raddr_len;
	__u8 laddr[CKPT_SUN_PATH_LEN];
	__u8 raddr[CKPT_SUN_PATH_LEN];
	__u32 sndbuf;
	__u32 rcvbuf;
	__u32 nr_queued;
	__u32 __pad;
};

/*
 * CKPT_HDR_SOCKET_BUFFER: one queued message.
 * Payload:
 *	__u8 data[data_len];
 *	__s32 files[nr_files];	CKPT_OBJ_FILE objrefs of SCM_RIGHTS
 */
struct ckpt_hdr_socket_buffer {
	struct ckpt_hdr h;
	__s32 sender_ref;	/* CKPT_OBJ_SOCK of a datagram's sender, or 0 */
	__u32 data_len;
	__u32 nr_files;
	__u32 __pad;
};

/*
 * Memory
 */

/*
 * CKPT_HDR_MM: an mm_struct. A MM_AUXV record with the nr_auxv words of
 * saved_auxv follows, then nr_vmas VMA records, in address order.
 */
struct ckpt_hdr_mm {
	struct ckpt_hdr h;
	__u32 nr_vmas;
	__s32 exe_ref;		/* CKPT_OBJ_FILE of /proc/PID/exe, or 0 */
	__u64 flags;		/* MMF_* bits of mm->flags (dumpable, ...) */
	__u64 def_flags;	/* VM_* bits of mm->def_flags */
	__u64 start_code;
	__u64 end_code;
	__u64 start_data;
	__u64 end_data;
	__u64 start_brk;
	__u64 brk;
	__u64 start_stack;
	__u64 arg_start;
	__u64 arg_end;
	__u64 env_start;
	__u64 env_end;
	__u32 nr_auxv;		/* words (not pairs) of the MM_AUXV record */
	__u32 __pad;
};

/* struct ckpt_hdr_vma.vma_type */
#define CKPT_VMA_ANON		1	/* private anonymous */
#define CKPT_VMA_STACK		2	/* private anonymous, the main stack */
#define CKPT_VMA_HEAP		3	/* private anonymous, start_brk..brk */
#define CKPT_VMA_FILE		4	/* private mapping of file_ref */
#define CKPT_VMA_ANON_SHARED	5	/* MAP_SHARED|MAP_ANONYMOUS, shm_ref */
#define CKPT_VMA_FILE_SHARED	6	/* shared mapping of file_ref */
#define CKPT_VMA_SHMEM		7	/* shared tmpfs/memfd file, shm_ref */
#define CKPT_VMA_SYSVIPC_SHM	8	/* shmat() of segment ipc_id */
#define CKPT_VMA_VDSO		9	/* the vDSO text */
#define CKPT_VMA_VVAR		10	/* the vDSO data page(s) */

/*
 * CKPT_HDR_VMA: one mapping. PGARR records with its private pages follow
 * (dirty or anonymous pages, by virtual address), then an empty PGARR.
 * Shared memory has no pages here: they are in the CKPT_OBJ_SHMEM object
 * or the IPC_SHM segment, written once for all its mappings; shared file
 * mappings keep their data in the file.
 */
struct ckpt_hdr_vma {
	struct ckpt_hdr h;
	__u32 vma_type;		/* CKPT_VMA_* */
	__s32 file_ref;		/* CKPT_OBJ_FILE of vm_file, or 0 */
	__s32 shm_ref;		/* CKPT_OBJ_SHMEM, or 0 */
	__s32 ipc_id;		/* CKPT_VMA_SYSVIPC_SHM: shmid; else -1 */
	__u64 vm_start;
	__u64 vm_end;
	__u64 vm_page_prot;	/* pgprot_val(): informative, arch-specific */
	__u64 vm_flags;		/* VM_* (restart derives protections) */
	__u64 vm_pgoff;		/* offset in the file or object, in pages */
};
/*
 * A CKPT_VMA_VDSO record has no offset: vm_pgoff holds instead a 64-bit
 * identity of the vDSO's text (a SipHash of its bytes; never 0). Restart
 * refuses a vDSO whose identity differs, because the process may hold
 * the addresses of its functions; 0 (an older image) is not checked.
 */

/*
 * CKPT_HDR_PGARR: a chunk of pages.
 * Payload:
 *	__u64 addrs[nr_pages];
 *	__u8 zeros[pad];
 *	__u8 pages[nr_pages][ckpt_const.page_size];
 * addrs are virtual addresses (after a VMA) or byte offsets in the object
 * (after SHMEM or IPC_SHM), each page-aligned; pages[i] is the content at
 * addrs[i]. nr_pages is at most CKPT_PGARR_MAX_PAGES; 0 (a 16-byte record)
 * ends the pages of the VMA or object. pad (less than a page) makes pages
 * start at an offset from the start of the image that is a multiple of
 * the page size, so that a restart can map them from the image file
 * (RESTART_MAP_IMAGE); a writer may leave it 0, which only loses that.
 */
struct ckpt_hdr_pgarr {
	struct ckpt_hdr h;
	__u32 nr_pages;
	__u32 pad;
};

/*
 * CKPT_HDR_PGARR_CLEAN: pages that CHECKPOINT_DIRTY_ONLY did not write,
 * because nothing wrote them since the soft-dirty bits were cleared.
 * Payload: __u64 addrs[nr_pages], page-aligned virtual addresses in the
 * memory of the task pid (in the checkpointer's pid namespace), in
 * increasing order within the record; they may interleave with those of
 * the VMA's PGARR records. Only in an image whose header has
 * CHECKPOINT_DIRTY_ONLY, which restart refuses: merging the pre-copy in
 * turns these records into PGARR ones.
 */
struct ckpt_hdr_pgarr_clean {
	struct ckpt_hdr h;
	__u32 nr_pages;
	__s32 pid;
};

/*
 * CKPT_HDR_SHMEM: a shared anonymous or shmem (tmpfs, memfd) object that
 * mappings share; PGARR records by byte offset follow, then an empty one.
 */
struct ckpt_hdr_shmem {
	struct ckpt_hdr h;
	__u64 size;		/* i_size in bytes */
};

/*
 * Signals
 */

/* One handler of CKPT_HDR_SIGHAND. */
struct ckpt_sigaction {
	__u64 sa_handler;	/* user address, SIG_DFL (0) or SIG_IGN (1) */
	__u64 sa_flags;		/* SA_* */
	__u64 sa_restorer;	/* user address (x86-64 SA_RESTORER) */
	__u64 sa_mask;		/* bit n-1: signal n */
};

/*
 * CKPT_HDR_SIGHAND: the signal handlers (sighand_struct).
 * Payload: struct ckpt_sigaction action[nr_sigactions], for signals 1 to
 * nr_sigactions (_NSIG).
 */
struct ckpt_hdr_sighand {
	struct ckpt_hdr h;
	__u32 nr_sigactions;
	__u32 __pad;
};

struct ckpt_rlimit {
	__u64 rlim_cur;		/* RLIM_INFINITY: ~0 */
	__u64 rlim_max;
};

/* An interval timer; remaining time and period, ns; 0 0: disarmed. */
struct ckpt_itimer {
	__u64 value;
	__u64 interval;
};

/* CKPT_HDR_SIGNAL flags */
#define CKPT_SIGNAL_LEADER	0x1	/* signal->leader: session leader */

/*
 * CKPT_HDR_SIGNAL: the signal_struct shared by a thread group: resource
 * limits, interval timers, the controlling terminal. The shared pending
 * signals follow as a SIGPENDING record (shared = 1).
 */
struct ckpt_hdr_signal {
	struct ckpt_hdr h;
	__u32 nr_rlimits;	/* RLIM_NLIMITS */
	__u32 flags;		/* CKPT_SIGNAL_* */
	struct ckpt_rlimit rlim[CKPT_RLIM_NLIMITS];
	struct ckpt_itimer it_real;	/* ITIMER_REAL; interval: it_real_incr */
	struct ckpt_itimer it_virt;	/* ITIMER_VIRTUAL */
	struct ckpt_itimer it_prof;	/* ITIMER_PROF */
	__s32 tty_ref;		/* CKPT_OBJ_TTY: controlling terminal, or 0 */
	__s32 tty_old_pgrp;	/* vpid */
	__s32 group_exit_code;
	__u32 __pad;
};

/* CKPT_HDR_SIGNAL_TASK flags */
#define CKPT_SIGNAL_TASK_SAVED_MASK	0x1	/* saved_sigmask is valid */

/*
 * CKPT_HDR_SIGNAL_TASK: a task's own signal state. Its private pending
 * signals follow as a SIGPENDING record (shared = 0).
 */
struct ckpt_hdr_signal_task {
	struct ckpt_hdr h;
	__u64 blocked;		/* bit n-1: signal n */
	__u64 saved_sigmask;	/* set while in sigsuspend/ppoll/... */
	__u64 sas_ss_sp;	/* sigaltstack() */
	__u64 sas_ss_size;
	__u32 sas_ss_flags;	/* SS_AUTODISARM */
	__u32 flags;		/* CKPT_SIGNAL_TASK_* */
};

/*
 * A queued signal: its siginfo as copy_siginfo_to_user() gives it (the
 * user siginfo_t of 128 bytes, in producer byte order), with the header
 * fields also decoded for readers.
 */
struct ckpt_siginfo {
	__s32 si_signo;
	__s32 si_errno;
	__s32 si_code;
	__u32 __pad;
	__u8 raw[128];
};

/*
 * CKPT_HDR_SIGPENDING: a list of pending signals.
 * Payload: struct ckpt_siginfo info[nr_pending], in queue order.
 */
struct ckpt_hdr_sigpending {
	struct ckpt_hdr h;
	__u32 nr_pending;
	__u32 shared;		/* 1: signal->shared_pending; 0: the task's */
	__u64 signal;		/* the pending set, bit n-1: signal n */
};

/*
 * POSIX timers (timer_create())
 */

/*
 * CKPT_HDR_POSIX_TIMERS: the process's POSIX timers, after the task's
 * CPU record; nr_timers POSIX_TIMER records follow, in increasing id
 * order. next_id is the id the next timer_create() tries first
 * (signal->next_posix_timer_id).
 */
struct ckpt_hdr_posix_timers {
	struct ckpt_hdr h;
	__u32 nr_timers;
	__u32 next_id;
};

/* Most POSIX_TIMER records a restart accepts (RLIMIT_SIGPENDING-like). */
#define CKPT_POSIX_TIMERS_MAX	4096

/*
 * CKPT_HDR_POSIX_TIMER: one timer. clock is a clock id (CPU-time clocks
 * are refused at checkpoint); notify, signo and value are the sigevent's
 * sigev_notify (SIGEV_SIGNAL, SIGEV_NONE, or SIGEV_SIGNAL |
 * SIGEV_THREAD_ID, which only names the task itself), sigev_signo and
 * sigev_value. value_ns is the time left to the next expiry (0: the
 * timer is disarmed), interval_ns its period (0: one-shot); overrun is
 * what timer_getoverrun() returns.
 */
struct ckpt_hdr_posix_timer {
	struct ckpt_hdr h;
	__s32 id;
	__s32 clock;
	__s32 notify;
	__s32 signo;
	__u64 value;
	__s64 overrun;
	__u64 interval_ns;
	__u64 value_ns;
};

/*
 * Seccomp
 */

/* CKPT_HDR_SECCOMP modes: those of prctl(PR_GET_SECCOMP). */
#define CKPT_SECCOMP_MODE_DISABLED	0
#define CKPT_SECCOMP_MODE_STRICT	1
#define CKPT_SECCOMP_MODE_FILTER	2

/*
 * CKPT_HDR_SECCOMP flags. SPEC_ALLOW: the task's speculation mitigations
 * were not forced by seccomp (no PR_SPEC_FORCE_DISABLE store-bypass or
 * indirect-branch flag), so its filters are installed again with
 * SECCOMP_FILTER_FLAG_SPEC_ALLOW.
 */
#define CKPT_SECCOMP_SPEC_ALLOW		0x1

/*
 * CKPT_HDR_SECCOMP: the task's seccomp state, after its CPU record;
 * nr_filters SECCOMP_FILTER records follow, oldest (first installed)
 * first.
 */
struct ckpt_hdr_seccomp {
	struct ckpt_hdr h;
	__u32 mode;		/* CKPT_SECCOMP_MODE_* */
	__u32 flags;		/* CKPT_SECCOMP_* */
	__u32 nr_filters;	/* 0 unless mode is FILTER */
	__u32 __pad;
};

/*
 * Most SECCOMP_FILTER records a restart accepts: the kernel's limit of
 * 256 KiB of instructions on any path (with a penalty of 4 per filter)
 * allows fewer.
 */
#define CKPT_SECCOMP_MAX_FILTERS	8192
/* Most instructions of one filter (BPF_MAXINSNS). */
#define CKPT_SECCOMP_MAX_INSNS		4096

/* CKPT_HDR_SECCOMP_FILTER flags */
#define CKPT_SECCOMP_FILTER_LOG		0x1	/* SECCOMP_FILTER_FLAG_LOG */

/*
 * CKPT_HDR_SECCOMP_FILTER: one classic BPF program as it was installed.
 * Payload: len struct sock_filter {__u16 code; __u8 jt, jf; __u32 k;}
 * (8 bytes each, in the producer's byte order).
 */
struct ckpt_hdr_seccomp_filter {
	struct ckpt_hdr h;
	__u32 flags;		/* CKPT_SECCOMP_FILTER_* */
	__u32 len;		/* instructions */
};

/*
 * Filesystem context
 */

/*
 * CKPT_HDR_FS: an fs_struct. Two STRING records follow: the root and
 * the working directory. umask lives here, not in the task, because
 * CLONE_FS tasks share it.
 */
struct ckpt_hdr_fs {
	struct ckpt_hdr h;
	__u32 umask;
	__u32 __pad;
};

#endif /* _UAPI_LINUX_CHECKPOINT_HDR_H */
