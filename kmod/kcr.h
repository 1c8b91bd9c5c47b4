/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcr: the checkpoint/restart context and the internal API that the
 * subsystem files (checkpoint.c, process.c, creds.c, signal.c, files.c,
 * memory.c, arch/<arch>.c) share. Modelled on linux-cr's
 * include/linux/checkpoint.h.
 *
 * Conventions:
 *  - every function returns 0 or a negative errno;
 *  - the first error of a checkpoint or restart is reported with
 *    ckpt_err(), which logs it to logfd (and, for a checkpoint, makes
 *    checkpoint.c write an error record into the image at the end);
 *  - records are built in kmalloc'ed buffers from ckpt_hdr_get_type() and
 *    written whole with ckpt_write_obj(); page contents are written
 *    straight from the pages with ckpt_write().
 */
#ifndef _KCR_KCR_H
#define _KCR_KCR_H

#include <linux/fs.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/types.h>

#include <linux/checkpoint.h>
#include <linux/checkpoint_hdr.h>

#include "compat.h"

/*
 * The end of the user address space, for checking addresses in an image:
 * TASK_SIZE, except on s390, whose TASK_SIZE covers all 64 bits (page
 * tables are added as a task maps higher) while no page table reaches
 * beyond _REGION1_SIZE (8 PiB).
 */
#ifdef CONFIG_S390
#include <asm/pgtable.h>
#define KCR_USER_END	min_t(unsigned long, TASK_SIZE, _REGION1_SIZE)
#else
#define KCR_USER_END	TASK_SIZE
#endif

#define CKPT_CTX_CHECKPOINT	1
#define CKPT_CTX_RESTART	2

struct bio_vec;
struct ckpt_obj_hash;
struct nsproxy;

/*
 * Nested definitions (an object whose body starts with the definition of
 * another) are as deep as the object graph: a file table, a file, its
 * credentials, their user namespace. Deeper nesting is a crafted image
 * that would otherwise recurse without bound.
 */
#define KCR_MAX_OBJ_DEPTH	8

/*
 * Checkpoint: a task's context switch counts from when it was found
 * frozen; if they move, it ran (checkpoint.c).
 */
struct kcr_still {
	unsigned long nvcsw;
	unsigned long nivcsw;
};

struct ckpt_ctx {
	int kind;			/* CKPT_CTX_* */
	u64 uflags;			/* CHECKPOINT_* or RESTART_* of the caller */
	u64 id;				/* checkpoint id, > 0 */

	struct file *file;		/* the image */
	loff_t pos;			/* bytes of image written or read */
	bool pos_locked;		/* file's f_pos_lock held throughout */
	struct file *logfile;		/* NULL: no messages */

	struct task_struct *root_task;	/* checkpoint: root of the tree */
	struct task_struct **tasks;	/* checkpoint: tasks, TREE order */
	struct kcr_still *still;	/* checkpoint: per task, checkpoint.c */
	int nr_tasks;
	struct task_struct *tsk;	/* the task being worked on, or NULL */
	/*
	 * Checkpoint: the user namespace of the root task (a reference is
	 * held); the image's uids and gids are as seen from it.
	 */
	struct user_namespace *user_ns;

	struct ckpt_obj_hash *objhash;

	int err;			/* first error (negative errno) */
	char *err_msg;			/* its message, for the error record */
	loff_t err_pos;			/* ctx->pos when it was reported */
	pid_t err_pid;			/* vpid of ctx->tsk then, or 0 */
	struct mutex msg_mutex;		/* serialises logfd messages */
	char *msg_buf;			/* PAGE_SIZE, under msg_mutex */

	struct ckpt_hdr_header *header;	/* restart: the image's header */

	/*
	 * Restart, the task being restored (tasks are restored one after
	 * the other, so one set of fields serves them all):
	 * restore_creds() leaves the credentials the task gets here (a
	 * reference each), and restart.c commits them once everything else
	 * is restored: until then current acts with the restarter's
	 * credentials, so files are opened with the restarter's rights.
	 */
	struct cred *restore_cred;	/* task->real_cred */
	struct cred *restore_ecred;	/* task->cred */
	/*
	 * Restart: the task whose records are being read, which alone may
	 * define objects and have them applied (grammar.c); NULL while the
	 * coordinator reads the image's header and tail.
	 */
	struct task_struct *restore_task;
	u32 restore_nr_tasks;		/* restart: tasks in TREE */
	bool restore_container;		/* restart: a container image */
	struct task_struct *restarter;	/* restart: the caller (a reference) */
	/*
	 * Set by restart.c once current has been changed: from then on an
	 * error kills the task instead of returning to its old self.
	 */
	bool restore_changed;
	/*
	 * The image's dumpable mode (SUID_DUMP_*), or -1: memory_restore.c
	 * sets it, restart.c applies it again after commit_creds().
	 */
	int restore_dumpable;
	/*
	 * The namespaces restore_task_ns() prepared for the task (a
	 * reference), or NULL: restore_task_ns_commit() installs them
	 * (ns_restore.c).
	 */
	struct nsproxy *restore_nsproxy;
	int obj_depth;			/* nested object definitions */
	u32 obj_stack[KCR_MAX_OBJ_DEPTH];	/* their CKPT_OBJ_* types */
	/*
	 * Restart, applied by restore_signal_finish() once every record of
	 * the task is read, so that neither a restored timer nor an
	 * unblocked pending signal interrupts the reading of the image.
	 */
	bool restore_blocked_set;
	u64 restore_blocked;		/* the task's blocked mask */
	bool restore_itimers_set;
	struct ckpt_itimer restore_itimers[3];	/* real, virtual, prof */
};

/* ctx.c: context, image I/O, messages */

/*
 * A context with the image file (fd open for writing for a checkpoint,
 * for reading for a restart, else -EBADF), the log file (logfd writable,
 * or CHECKPOINT_FD_NONE), an empty objhash and a new positive id; an
 * ERR_PTR on error.
 */
struct ckpt_ctx *ckpt_ctx_alloc(int kind, int fd, u64 uflags, int logfd);
/*
 * Drops everything the context holds: the objhash (first), every tasks[]
 * entry (references taken with get_task_struct(); tasks itself is
 * kfree()d), root_task, user_ns, the files, and header (freed like a
 * ckpt_hdr_put() buffer).
 */
void ckpt_ctx_free(struct ckpt_ctx *ctx);

/*
 * Write or read exactly len bytes at the image's current position (the
 * file's f_pos for a seekable file). Any failure is reported with
 * ckpt_err() here already; a signal is -EINTR, end of file on read is
 * -EINVAL (truncated image).
 */
int ckpt_write(struct ckpt_ctx *ctx, const void *buf, size_t len);
loff_t ckpt_map_offset(struct ckpt_ctx *ctx);
int ckpt_skip(struct ckpt_ctx *ctx, size_t len);
int ckpt_read(struct ckpt_ctx *ctx, void *buf, size_t len);
/* nr whole pages; bv: room for nr struct bio_vec (<linux/bvec.h>). */
int ckpt_write_pages(struct ckpt_ctx *ctx, struct page **pages,
		     struct bio_vec *bv, unsigned int nr);
int ckpt_read_pages(struct ckpt_ctx *ctx, struct page **pages,
		    struct bio_vec *bv, unsigned int nr);
/*
 * Checkpoint: hold the image's f_pos_lock (killably; -EINTR) from before
 * the target's exec_update_lock to the end, in the order of a read(2) of
 * a /proc/PID file, instead of taking it inside that lock for each
 * write. Released by the same task.
 */
int ckpt_lock_image_pos(struct ckpt_ctx *ctx);
void ckpt_unlock_image_pos(struct ckpt_ctx *ctx);

/*
 * A zeroed record buffer of len bytes with h.type and h.len set; free it
 * with ckpt_hdr_put(). Returns NULL when out of memory.
 */
void *ckpt_hdr_get_type(struct ckpt_ctx *ctx, size_t len, u32 type);
void ckpt_hdr_put(struct ckpt_ctx *ctx, void *h);

/* Write a record built by ckpt_hdr_get_type(): h->len bytes. */
int ckpt_write_obj(struct ckpt_ctx *ctx, struct ckpt_hdr *h);
/*
 * Write a STRING record of s / a BUFFER record. For a string, len is the
 * size of s: it ends at its first NUL or after len bytes, and the record
 * always gets one terminating NUL (so strlen(s) and strlen(s) + 1 both
 * work).
 */
int ckpt_write_string(struct ckpt_ctx *ctx, const char *s, size_t len);
int ckpt_write_buffer(struct ckpt_ctx *ctx, const void *buf, size_t len);
/* Write a record's header alone, its payload to follow with ckpt_write(). */
int ckpt_write_hdr(struct ckpt_ctx *ctx, u32 type, u32 len);

/*
 * Read one record that must be of the given type and exactly len bytes
 * long (len: the struct, no payload). Returns a buffer to free with
 * ckpt_hdr_put() or an ERR_PTR; a wrong type or length is -EINVAL with a
 * message naming the position.
 */
void *ckpt_read_obj_type(struct ckpt_ctx *ctx, size_t len, u32 type);
/*
 * Read a record of the given type whose struct is len bytes, followed by
 * at most max_payload bytes of payload that stay in the buffer after the
 * struct; *payload gets their number.
 */
void *ckpt_read_obj_payload(struct ckpt_ctx *ctx, size_t len, u32 type,
			    size_t max_payload, size_t *payload);
/*
 * Read a STRING record of at most max bytes (NUL included); kfree() it.
 * An ERR_PTR on error.
 */
char *ckpt_read_string(struct ckpt_ctx *ctx, size_t max);

/*
 * Report an error: the first one is kept in ctx->err (and its message in
 * ctx->err_msg); every one is written to logfd as
 * "[err N][pos P][pid X comm] message". Returns err, so that callers can
 * write "return ckpt_err(ctx, -EINVAL, "...")". Both may sleep (they write
 * to logfd): never call them under a spinlock or RCU. err 0 is a plain
 * message.
 */
__printf(3, 4) int ckpt_err(struct ckpt_ctx *ctx, int err,
			    const char *fmt, ...);
/* A message on logfd that is not an error. */
__printf(2, 3) void ckpt_msg(struct ckpt_ctx *ctx, const char *fmt, ...);

/* objhash.c: shared objects, written once and then referred to by objref */

struct ckpt_obj_ops {
	u32 objtype;			/* CKPT_OBJ_* */
	void (*grab)(void *ptr);	/* take a reference while hashed */
	void (*drop)(void *ptr);	/* and drop it; either may be NULL */
};

int ckpt_obj_hash_alloc(struct ckpt_ctx *ctx);
void ckpt_obj_hash_free(struct ckpt_ctx *ctx);
/*
 * Checkpoint: the objref of ptr, adding it if new (then *first is true and
 * the caller writes the OBJREF record and the object's body).
 */
int ckpt_obj_lookup_add(struct ckpt_ctx *ctx, void *ptr,
			const struct ckpt_obj_ops *ops, bool *first);
/* Checkpoint: the objref of ptr as objtype, 0 if not (yet) hashed. */
int ckpt_obj_lookup(struct ckpt_ctx *ctx, void *ptr, u32 objtype);
/*
 * Checkpoint, for the leak check of container checkpoints (leaks.c):
 * count one more reference from the tree (from the task of vpid holder)
 * to ptr if it is hashed, returning the count (0: not hashed); the
 * references counted, with its objref and the first holder; call fn on
 * every object of objtype, in objref order, until it returns non-zero.
 */
unsigned int ckpt_obj_add_user(struct ckpt_ctx *ctx, void *ptr, u32 objtype,
			       pid_t holder);
unsigned int ckpt_obj_users(struct ckpt_ctx *ctx, void *ptr, u32 objtype,
			    int *objref, pid_t *holder);
int ckpt_obj_for_each(struct ckpt_ctx *ctx, u32 objtype,
		      int (*fn)(struct ckpt_ctx *ctx, void *ptr, void *arg),
		      void *arg);
/* Write the CKPT_HDR_OBJREF record that starts an object's definition. */
int ckpt_write_objref(struct ckpt_ctx *ctx, u32 objtype, int objref);
/*
 * Restart: remember / find the object defined with objref. An objref
 * defined twice, or not defined or of another type when fetched, is
 * -EINVAL with a message; ckpt_obj_fetch() returns it as an ERR_PTR.
 */
int ckpt_obj_insert(struct ckpt_ctx *ctx, void *ptr, int objref,
		    const struct ckpt_obj_ops *ops);
void *ckpt_obj_fetch(struct ckpt_ctx *ctx, int objref, u32 objtype);

/* Per-subsystem checkpoint of one task, in image order (checkpoint.c) */

int checkpoint_task(struct ckpt_ctx *ctx, struct task_struct *t);
/* leaks.c: a container checkpoint's objects are the tree's alone */
int kcr_check_leaks(struct ckpt_ctx *ctx);
int checkpoint_creds(struct ckpt_ctx *ctx, struct task_struct *t);	/* creds.c */
int checkpoint_task_ns(struct ckpt_ctx *ctx, struct task_struct *t);	/* ns.c */
int checkpoint_files(struct ckpt_ctx *ctx, struct task_struct *t, int *ref);	/* files.c */
int checkpoint_fs(struct ckpt_ctx *ctx, struct task_struct *t, int *ref);	/* files.c */
/* files.c: a file referred to by a mapping or the mm's executable */
int checkpoint_obj_file(struct ckpt_ctx *ctx, struct task_struct *t,
			struct file *file, const char *desc, int *ref);
int checkpoint_mm(struct ckpt_ctx *ctx, struct task_struct *t, int *ref);	/* memory.c */
/*
 * The ops of the shared object types, one per type for checkpoint and
 * restart alike (defined in the checkpoint file of each type).
 */
extern const struct ckpt_obj_ops kcr_cred_ops;		/* creds.c */
extern const struct ckpt_obj_ops kcr_user_ns_ops;	/* creds.c */
extern const struct ckpt_obj_ops kcr_groupinfo_ops;	/* creds.c */
extern const struct ckpt_obj_ops kcr_file_table_ops;	/* files.c */
extern const struct ckpt_obj_ops kcr_fs_ops;		/* files.c */
extern const struct ckpt_obj_ops kcr_file_ops;		/* files.c */
extern const struct ckpt_obj_ops kcr_sighand_ops;	/* signal.c */
extern const struct ckpt_obj_ops kcr_signal_ops;	/* signal.c */
extern const struct ckpt_obj_ops kcr_ns_ops;		/* ns.c */
extern const struct ckpt_obj_ops kcr_uts_ns_ops;	/* ns.c */
extern const struct ckpt_obj_ops kcr_mm_ops;		/* memory.c */
/* memory.c, also for restart: special mapping names */
struct vm_area_struct;
/* "[vdso]", "[vvar]", ... for a special mapping; NULL for others */
const char *kcr_vma_special_name(struct vm_area_struct *vma);
/* pagetable.c: reading the page tables of a frozen task's mm */
unsigned long kcr_next_mapped(struct mm_struct *mm, unsigned long addr,
			      unsigned long end, unsigned long *run_end);
bool kcr_page_soft_dirty(struct mm_struct *mm, unsigned long addr);
unsigned long kcr_clean_run(struct mm_struct *mm, unsigned long addr,
			    unsigned long end, bool *clean);
/* vdso.c: what tells one vDSO's code from another's */
int kcr_vdso_id(struct mm_struct *mm, unsigned long start, unsigned long end,
		u64 *id);
int checkpoint_sighand(struct ckpt_ctx *ctx, struct task_struct *t, int *ref);	/* signal.c */
int checkpoint_signal(struct ckpt_ctx *ctx, struct task_struct *t, int *ref);	/* signal.c */
int checkpoint_signal_task(struct ckpt_ctx *ctx, struct task_struct *t);	/* signal.c */
int checkpoint_restart_block(struct ckpt_ctx *ctx, struct task_struct *t);	/* process.c */
int checkpoint_thread(struct ckpt_ctx *ctx, struct task_struct *t);	/* process.c */

/* arch/<arch>.c */

/* Fill the HEADER_ARCH record's fields beyond h and arch_id. */
int kcr_arch_header(struct ckpt_ctx *ctx, struct ckpt_hdr_header_arch *h);
/*
 * Write the CPU record of t (CKPT_HDR_CPU with its payload). For a
 * self-checkpoint (t == current, inside the CHECKPOINT ioctl) the saved
 * state is that of a return from the ioctl with value 0, as fork's child
 * sees it, and the task is not in a system call to restart.
 */
int kcr_arch_checkpoint_cpu(struct ckpt_ctx *ctx, struct task_struct *t);
/*
 * The number of the system call the frozen task t is in, or -1 when it
 * is not in one (stopped in user mode by an interrupt). Each arch's
 * syscall_get_nr() says "none" its own way: s390's is (unsigned int)-1
 * as a long, which is positive.
 */
int kcr_arch_syscall_nr(struct task_struct *t);

/*
 * Restart. The records of a task are read by the task being restored
 * (current): the coordinator's child made by kernel_clone(), or the
 * caller itself with RESTART_TASKSELF. Each restore_*() function reads
 * its records in the order checkpoint_task() wrote them and changes
 * current accordingly, or returns a negative errno after ckpt_err()
 * (ckpt_read*() report their own errors). An error kills a task that is
 * already changed (restart.c), so that nothing returns to user mode half
 * restored: a restore function need not undo what it did.
 *
 * Shared objects: the reading functions of ctx.c restore the definitions
 * (OBJREF records) they meet before the record they were asked for, with
 * the restore_obj_*() function of the object type, where the image
 * grammar (grammar.c) allows them and only in the task being restored
 * (ctx->restore_task, which is current): never in the coordinator.
 * That function reads the object's body, creates or applies it, inserts
 * it under objref with ckpt_obj_insert() (the hash takes its own
 * reference) and returns 0 or a negative errno. Records that use an
 * object fetch it by objref.
 *
 * Per-task objects (file table, fs, mm, sighand, signal) are applied to
 * current when they are defined; the TASK_OBJS record that follows only
 * checks that the task uses those objects.
 */
/* files_restore.c */
void kcr_close_all_fds(void);
int restore_obj_file_table(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_file(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_fs(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
/* memory_restore.c */
int restore_obj_mm(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
/* signal_restore.c */
int restore_obj_sighand(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_signal(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
/* creds_restore.c */
int restore_obj_cred(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_user(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_user_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_groupinfo(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
/* ns_restore.c */
int restore_obj_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_uts_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
int restore_obj_ipc_ns(struct ckpt_ctx *ctx, struct task_struct *t, int objref);
/*
 * TASK_NS: check the task's namespaces and prepare new ones where the
 * image asks for them, without changing current; restore_task_ns_commit()
 * applies them, right after the point of no return (ns_restore.c).
 */
int restore_task_ns(struct ckpt_ctx *ctx, struct task_struct *t);
void restore_task_ns_commit(struct ckpt_ctx *ctx, struct task_struct *t);
/*
 * ns.c: the name of a CKPT_NS_* kind ("IPC", "mount", ...), and the
 * identities of t's namespaces by kind (-ESRCH when t is exiting).
 */
const char *kcr_ns_name(unsigned int kind);
int kcr_task_namespaces(struct task_struct *t,
			const void *ns[CKPT_NS_NKINDS]);
/*
 * ns.c: what a task's namespaces are compared with, those of t (the
 * checkpointer or restarter), with t's own pid and time namespaces as
 * the *_FOR_CHILDREN ones.
 */
int kcr_reference_namespaces(struct task_struct *t,
			     const void *ns[CKPT_NS_NKINDS]);

/*
 * TASK_CREDS: check and prepare the credentials (ctx->restore_cred and
 * restore_ecred); never more than the restarter has (creds_restore.c).
 */
int restore_creds(struct ckpt_ctx *ctx, struct task_struct *t);
/*
 * SIGNAL_TASK and the task's SIGPENDING: blocked mask, saved mask,
 * sigaltstack, the task's pending signals (signal_restore.c).
 */
int restore_signal_task(struct ckpt_ctx *ctx, struct task_struct *t);
/* RESTART_BLOCK: an interrupted nanosleep & co. (signal_restore.c) */
int restore_restart_block(struct ckpt_ctx *ctx, struct task_struct *t);
/* THREAD: in-syscall state, TIF_RESTORE_SIGMASK (signal_restore.c) */
int restore_thread(struct ckpt_ctx *ctx, struct task_struct *t);
/*
 * After the task's last record: arm the interval timers and set the
 * blocked mask that restore_obj_signal() and restore_signal_task() kept
 * in ctx (signal_restore.c).
 */
int restore_signal_finish(struct ckpt_ctx *ctx, struct task_struct *t);

/*
 * arch/<arch>.c, restart. kcr_arch_restore_header() says whether this
 * machine can load the image's register state (xstate features, vector
 * facilities). kcr_arch_restore_cpu() reads and checks the CPU record
 * without changing current and returns the state to load (free it with
 * kvfree()) or an ERR_PTR. kcr_arch_load_cpu() loads it into current: it
 * runs from a task_work (TWA_SIGNAL) on the way to user mode, after the
 * fork or ioctl return path wrote its own return value and before
 * pending signals are handled, so a restored system call restart
 * (-ERESTART* with TIF_SIGPENDING set by restart.c) is fixed up by the
 * arch's signal code as usual. An error kills the task.
 */
int kcr_arch_restore_header(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_header_arch *h);
void *kcr_arch_restore_cpu(struct ckpt_ctx *ctx);
int kcr_arch_load_cpu(void *state);

/*
 * ctx.c, restart: read the next record's header, which must be of type
 * and between min and max bytes long; object definitions before it are
 * restored first. For records whose payload the caller reads itself with
 * ckpt_read() (page contents).
 */
int ckpt_read_hdr_type(struct ckpt_ctx *ctx, struct ckpt_hdr *h, u32 type,
		       size_t min, size_t max);

/* restart.c */
long kcr_ioctl_restart(struct file *dev, void __user *uarg);
/* The restored task's function, started by kernel_clone() with arg. */
int kcr_restart_child(void *arg);
/*
 * What kernel_clone() is given as that function. On ppc64 (ELF ABI v2)
 * it cannot be a module function: ret_from_kernel_thread calls fn at its
 * local entry point (ppc_function_entry()) with the kernel's TOC in r2,
 * which a module function does not set up. arch/powerpc.c has an entry
 * that sets the module's TOC and calls kcr_restart_child().
 */
#ifdef CONFIG_PPC64
int kcr_ppc_restart_child_entry(void *arg);	/* arch/powerpc.c */
#define KCR_RESTART_CHILD_FN	kcr_ppc_restart_child_entry
#else
#define KCR_RESTART_CHILD_FN	kcr_restart_child
#endif
/*
 * Every restore function is given the task it restores, and runs in it:
 * the kernel paths it calls (vm_mmap(), commit_creds(), the system calls
 * of usercall.c) act on current. ctx.c and restore_obj() refuse an image
 * that would restore an object elsewhere, so a mismatch here is a bug of
 * kcr's own: warn once and fail the restart.
 */
static inline int kcr_restore_target(struct ckpt_ctx *ctx,
				     struct task_struct *t)
{
	if (WARN_ON_ONCE(t != current || t != ctx->restore_task))
		return -EINVAL;
	return 0;
}

/* Restore the object that an OBJREF record just read defines. */
int restore_obj(struct ckpt_ctx *ctx, struct task_struct *t, u32 objtype,
		int objref);

/*
 * grammar.c: which object definitions (CKPT_OBJ_* bits) may come before
 * a record of type at the top level of a task's records, and inside the
 * body of an object of objtype; whether restoring an object changes the
 * task being restored.
 */
u32 kcr_objs_before(u32 type);
u32 kcr_objs_within(u32 objtype);
bool kcr_obj_changes_task(u32 objtype);

/* objhash.c: module parameter max_objects */
extern unsigned int kcr_max_objects;

/*
 * main.c: the device number of /dev/checkpoint, as registered (a path
 * can name another node in another mount or chroot).
 */
dev_t kcr_devt(void);

/*
 * Seccomp, POSIX timers and state refused at checkpoint (seccomp.c,
 * timers.c, unsupported.c). checkpoint_unsupported() runs before a
 * task's first record; POSIX_TIMERS then SECCOMP follow its CPU record.
 */
int checkpoint_unsupported(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t);
int checkpoint_seccomp(struct ckpt_ctx *ctx, struct task_struct *t);
/*
 * Restart, the last steps of a task's restore, after its credentials are
 * committed and in this order: the POSIX timers are made and armed
 * (the restarter's are deleted), then the seccomp filters are installed
 * (timers_restore.c, seccomp_restore.c).
 */
int restore_posix_timers(struct ckpt_ctx *ctx, struct task_struct *t);
int restore_seccomp(struct ckpt_ctx *ctx, struct task_struct *t);

/* sysctl.c */
extern int kcr_unpriv_allowed;		/* kernel.ckpt_unpriv_allowed */
int kcr_sysctl_init(void);
void kcr_sysctl_exit(void);

/*
 * A process that has exited and waits for its parent's wait(): its image
 * is its TASK record alone, and it is restored as such a zombie.
 */
static inline bool kcr_zombie(struct task_struct *t)
{
	return READ_ONCE(t->exit_state) == EXIT_ZOMBIE &&
	       thread_group_leader(t);
}

/* tree.c: ctx->tasks and ctx->still for the tree of ctx->root_task */
int kcr_collect_tasks(struct ckpt_ctx *ctx);

/* checkpoint.c */
long kcr_ioctl_checkpoint(struct file *dev, void __user *uarg);

/* clone_pids.c: CKPT_IOC_CLONE_WITH_PIDS, returns like fork() */
long kcr_ioctl_clone_with_pids(struct file *dev, void __user *uarg);
/*
 * freezer.c: CKPT_IOC_FREEZER_GET/SET, and the CHECKPOINTING state of the
 * cgroups of a checkpoint's frozen root task: begin (0, -ENOMEM or -EINTR)
 * once the target is found frozen, end in every exit path of the
 * checkpoint (a no-op when begin did not hold anything).
 */
long kcr_ioctl_freezer_get(struct file *dev, void __user *uarg);
long kcr_ioctl_freezer_set(struct file *dev, void __user *uarg);
int kcr_freezer_checkpoint_begin(struct ckpt_ctx *ctx, struct task_struct *root);
void kcr_freezer_checkpoint_end(struct ckpt_ctx *ctx);
/* freezer.c: RESTART_FROZEN's cgroup.freeze, and freezing it */
struct file *kcr_freezer_restart_open(struct ckpt_ctx *ctx, int fd);
int kcr_freezer_restart_freeze(struct ckpt_ctx *ctx, struct file *f);

#endif /* _KCR_KCR_H */
