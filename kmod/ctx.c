// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the checkpoint/restart context, image I/O and messages.
 *
 * Image I/O goes through kernel_write()/kernel_read() on the caller's
 * file, streaming: a record is written as soon as it is built.
 *
 * File position. A seekable image file is written or read at its own
 * f_pos, as write(2)/read(2) would, so that a caller can put an image
 * after other data in a file and find the file offset past the image
 * afterwards. fdget_pos() is not available to modules, but the mutex it
 * takes is: a checkpoint holds the image's file->f_pos_lock (of a file
 * with FMODE_ATOMIC_POS, as fdget_pos() would) from start to end, and each
 * ckpt_read() of a restart holds it for the call, so a concurrent
 * write(2) or read(2) on the same open file (another thread of the
 * caller) cannot interleave inside a record.
 * Stream files (pipes, sockets: FMODE_STREAM) have no position.
 *
 * Blocking. Pipes and sockets accept partial writes; the loops below go
 * on until all bytes are through. A descriptor in O_NONBLOCK mode (Go's
 * os.Pipe gives such descriptors) answers -EAGAIN when full or empty; we
 * then sleep until poll reports it ready, as a blocking descriptor would
 * have slept inside the file system. A signal ends the wait with -EINTR:
 * an image cannot be continued from the middle by restarting the ioctl,
 * so -ERESTART* would be wrong.
 *
 * Messages never go to the kernel log: whatever the caller can cause is
 * reported on logfd only.
 */
#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/user_namespace.h>
#include <linux/wait.h>

#include "kcr.h"

/* Checkpoint ids: positive, unique while the module is loaded. */
static atomic64_t kcr_ckpt_id = ATOMIC64_INIT(0);

/*
 * __kernel_write()/__kernel_read() refuse files that have no ->write_iter
 * (->read_iter) or that have both ->write and ->write_iter, and say so in
 * the kernel log. Refuse them here first, with a message on logfd only.
 */
static bool kcr_can_kernel_write(struct file *file)
{
	return file->f_op->write_iter && !file->f_op->write &&
	       (file->f_mode & FMODE_CAN_WRITE);
}

static bool kcr_can_kernel_read(struct file *file)
{
	return file->f_op->read_iter && !file->f_op->read &&
	       (file->f_mode & FMODE_CAN_READ);
}

/*
 * Waiting for an O_NONBLOCK pipe or socket, modelled on do_select(): the
 * wake function only marks the wait as triggered and wakes the task, so
 * that ->poll() runs in TASK_RUNNING and the sleep cannot miss a wakeup.
 */
#define KCR_POLL_QUEUES 2	/* a pipe has two wait queues */

struct kcr_poll_entry {
	wait_queue_head_t *head;
	wait_queue_entry_t wait;
};

struct kcr_pollwait {
	poll_table pt;
	struct task_struct *task;
	bool triggered;
	int n;
	struct kcr_poll_entry e[KCR_POLL_QUEUES];
};

static int kcr_pollwake(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct kcr_poll_entry *e = container_of(wait, struct kcr_poll_entry,
					       wait);
	struct kcr_pollwait *pw = wait->private;
	struct wait_queue_entry dummy = { .private = pw->task };
	__poll_t events = key ? key_to_poll(key) : 0;

	/*
	 * POLLFREE: the queue is going away (its owner frees it after an
	 * RCU grace period). Leave it now, called under its lock, and
	 * never touch it again (kcr_wait_file() sees head NULL).
	 */
	if (events & POLLFREE) {
		list_del_init(&wait->entry);
		/* Pairs with the smp_load_acquire() in kcr_wait_file(). */
		smp_store_release(&e->head, NULL);
	} else if (key && !(events & pw->pt._key)) {
		return 0;
	}
	/* Pairs with set_current_state() in kcr_wait_file(). */
	smp_wmb();
	WRITE_ONCE(pw->triggered, true);
	return default_wake_function(&dummy, mode, sync, key);
}

static void kcr_poll_queue(struct file *file, wait_queue_head_t *head,
			   poll_table *pt)
{
	struct kcr_pollwait *pw = container_of(pt, struct kcr_pollwait, pt);
	struct kcr_poll_entry *e;

	/*
	 * A file with more queues than we have room for still works: the
	 * sleep below is bounded, so we poll again after a while.
	 */
	if (pw->n >= KCR_POLL_QUEUES)
		return;
	e = &pw->e[pw->n++];
	e->head = head;
	init_waitqueue_func_entry(&e->wait, kcr_pollwake);
	e->wait.private = pw;
	add_wait_queue(head, &e->wait);
}

/* Sleep until file is ready for events (EPOLLIN/EPOLLOUT) or a signal. */
static int kcr_wait_file(struct file *file, __poll_t events)
{
	struct kcr_pollwait pw = { .task = current };
	__poll_t mask;
	int i;

	init_poll_funcptr(&pw.pt, kcr_poll_queue);
	pw.pt._key = events | EPOLLERR | EPOLLHUP;
	mask = vfs_poll(file, &pw.pt);
	if (!(mask & pw.pt._key)) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!READ_ONCE(pw.triggered) && !signal_pending(current))
			schedule_timeout(HZ);
		__set_current_state(TASK_RUNNING);
	}
	/* As ep_remove_wait_queue(): a POLLFREE'd head is gone. */
	rcu_read_lock();
	for (i = 0; i < pw.n; i++) {
		/* Pairs with the smp_store_release() in kcr_pollwake(). */
		wait_queue_head_t *head = smp_load_acquire(&pw.e[i].head);

		if (head)
			remove_wait_queue(head, &pw.e[i].wait);
	}
	rcu_read_unlock();
	return signal_pending(current) ? -EINTR : 0;
}

/* An interrupted transfer is -EINTR, never -ERESTART*: see the top. */
static int kcr_io_errno(ssize_t ret)
{
	switch (ret) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	default:
		return ret;
	}
}

/*
 * Transfer the bytes of iter, which it is advanced over; *done gets how
 * many went through, also on error. write: true to write them to file,
 * false to read into them. A read that meets end of file returns 0 with
 * iter not empty. lock_pos: take f_pos_lock for the transfer (false when
 * the caller holds it, or must not take it).
 *
 * vfs_iter_write()/vfs_iter_read(), not kernel_write()/kernel_read(): the
 * same checks and calls, but for any iterator, so that a chunk of pages
 * goes through in one call from the pages themselves (ITER_BVEC).
 */
static int kcr_file_io(struct file *file, struct iov_iter *iter, bool write,
		       bool lock_pos, size_t *done)
{
	bool stream = file->f_mode & FMODE_STREAM;
	bool pos_lock = lock_pos && (file->f_mode & FMODE_ATOMIC_POS);
	loff_t pos = 0;
	int ret = 0;

	*done = 0;
	/*
	 * As fdget_pos() for read(2): only files with FMODE_ATOMIC_POS, and
	 * killable, since another thread may hold the lock in a read that
	 * never ends (a stalled FUSE server).
	 */
	if (pos_lock && mutex_lock_killable(&file->f_pos_lock))
		return -EINTR;
	if (!stream)
		pos = file->f_pos;
	while (iov_iter_count(iter)) {
		/* As read(2) and write(2), at most MAX_RW_COUNT at once. */
		size_t left = iov_iter_count(iter);
		size_t chunk = min_t(size_t, left, MAX_RW_COUNT);
		ssize_t n;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		iov_iter_truncate(iter, chunk);
		if (write)
			n = kcr_iter_write(file, iter, stream ? NULL : &pos);
		else
			n = vfs_iter_read(file, iter, stream ? NULL : &pos, 0);
		iov_iter_reexpand(iter, left - (n > 0 ? n : 0));
		if (n > 0) {
			*done += n;
			cond_resched();
			continue;
		}
		if (n == 0) {
			/* A writer making no progress would loop forever. */
			ret = write ? -EIO : 0;
			break;
		}
		if (n == -EAGAIN) {
			ret = kcr_wait_file(file, write ? EPOLLOUT : EPOLLIN);
			if (ret)
				break;
			/* A file that polls ready but still says -EAGAIN. */
			cond_resched();
			continue;
		}
		ret = kcr_io_errno(n);
		break;
	}
	if (!stream)
		file->f_pos = pos;
	if (pos_lock)
		mutex_unlock(&file->f_pos_lock);
	return ret;
}

int ckpt_lock_image_pos(struct ckpt_ctx *ctx)
{
	if (!(ctx->file->f_mode & FMODE_ATOMIC_POS))
		return 0;
	if (mutex_lock_killable(&ctx->file->f_pos_lock))
		return -EINTR;
	ctx->pos_locked = true;
	return 0;
}

void ckpt_unlock_image_pos(struct ckpt_ctx *ctx)
{
	if (ctx->pos_locked)
		mutex_unlock(&ctx->file->f_pos_lock);
	ctx->pos_locked = false;
}

static int kcr_write_iter(struct ckpt_ctx *ctx, struct iov_iter *iter)
{
	size_t len = iov_iter_count(iter), done;
	int ret;

	ret = kcr_file_io(ctx->file, iter, true, !ctx->pos_locked, &done);
	ctx->pos += done;
	if (ret)
		return ckpt_err(ctx, ret, "writing %zu bytes of the image",
				len);
	return 0;
}

static int kcr_read_iter(struct ckpt_ctx *ctx, struct iov_iter *iter)
{
	size_t len = iov_iter_count(iter), done;
	int ret;

	ret = kcr_file_io(ctx->file, iter, false, !ctx->pos_locked, &done);
	ctx->pos += done;
	if (ret)
		return ckpt_err(ctx, ret, "reading %zu bytes of the image",
				len);
	if (done < len)
		return ckpt_err(ctx, -EINVAL,
				"image truncated: %zu of %zu bytes before end of file",
				done, len);
	return 0;
}

/*
 * Restart: the offset in the image file of the next byte to read, if the
 * image is a regular file that can be mapped; -1 otherwise.
 */
loff_t ckpt_map_offset(struct ckpt_ctx *ctx)
{
	struct file *file = ctx->file;
	bool lock = !ctx->pos_locked && (file->f_mode & FMODE_ATOMIC_POS);
	loff_t pos;

	if (!S_ISREG(file_inode(file)->i_mode) || !file->f_op->mmap ||
	    !(file->f_mode & FMODE_READ) || (file->f_mode & FMODE_STREAM))
		return -1;
	if (lock && mutex_lock_killable(&file->f_pos_lock))
		return -1;
	pos = file->f_pos;
	if (lock)
		mutex_unlock(&file->f_pos_lock);
	return pos;
}

/*
 * Restart: go past len bytes of a regular-file image (what was mapped
 * instead of read); past its end, the image is truncated.
 */
int ckpt_skip(struct ckpt_ctx *ctx, size_t len)
{
	struct file *file = ctx->file;
	bool lock = !ctx->pos_locked && (file->f_mode & FMODE_ATOMIC_POS);
	int ret = 0;

	if (lock && mutex_lock_killable(&file->f_pos_lock))
		return ckpt_err(ctx, -EINTR, "interrupted reading the image");
	if (file->f_pos + len > i_size_read(file_inode(file)))
		ret = -EINVAL;
	else
		file->f_pos += len;
	if (lock)
		mutex_unlock(&file->f_pos_lock);
	if (ret)
		return ckpt_err(ctx, ret,
				"image truncated: %zu bytes of pages past its end",
				len);
	ctx->pos += len;
	return 0;
}

int ckpt_write(struct ckpt_ctx *ctx, const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	return kcr_write_iter(ctx, &iter);
}

int ckpt_read(struct ckpt_ctx *ctx, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, len);
	return kcr_read_iter(ctx, &iter);
}

/*
 * nr whole pages, in one call for the chunk: the file system copies from
 * (into) each page itself, with no mapping of ours in between. bv is the
 * caller's room for nr entries.
 */
static void kcr_pages_bvec(struct bio_vec *bv, struct page **pages,
			   unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		bv[i].bv_page = pages[i];
		bv[i].bv_len = PAGE_SIZE;
		bv[i].bv_offset = 0;
	}
}

int ckpt_write_pages(struct ckpt_ctx *ctx, struct page **pages,
		     struct bio_vec *bv, unsigned int nr)
{
	struct iov_iter iter;

	kcr_pages_bvec(bv, pages, nr);
	iov_iter_bvec(&iter, ITER_SOURCE, bv, nr, (size_t)nr * PAGE_SIZE);
	return kcr_write_iter(ctx, &iter);
}

int ckpt_read_pages(struct ckpt_ctx *ctx, struct page **pages,
		    struct bio_vec *bv, unsigned int nr)
{
	struct iov_iter iter;

	kcr_pages_bvec(bv, pages, nr);
	iov_iter_bvec(&iter, ITER_DEST, bv, nr, (size_t)nr * PAGE_SIZE);
	return kcr_read_iter(ctx, &iter);
}

void *ckpt_hdr_get_type(struct ckpt_ctx *ctx, size_t len, u32 type)
{
	struct ckpt_hdr *h;

	if (len < sizeof(*h) || len > U32_MAX)
		return NULL;
	h = kvzalloc(len, GFP_KERNEL_ACCOUNT);
	if (!h)
		return NULL;
	h->type = type;
	h->len = len;
	return h;
}

void ckpt_hdr_put(struct ckpt_ctx *ctx, void *h)
{
	kvfree(h);
}

int ckpt_write_obj(struct ckpt_ctx *ctx, struct ckpt_hdr *h)
{
	return ckpt_write(ctx, h, h->len);
}

int ckpt_write_hdr(struct ckpt_ctx *ctx, u32 type, u32 len)
{
	struct ckpt_hdr h = { .type = type, .len = len };

	if (len < sizeof(h))
		return ckpt_err(ctx, -EINVAL, "record %u: length %u too short",
				type, len);
	return ckpt_write(ctx, &h, sizeof(h));
}

/* A record of type whose payload is the len bytes of buf, plus pad NULs. */
static int kcr_write_payload(struct ckpt_ctx *ctx, u32 type, const void *buf,
			     size_t len, size_t nul)
{
	static const char zero;
	int ret;

	if (len + nul > U32_MAX - sizeof(struct ckpt_hdr))
		return ckpt_err(ctx, -E2BIG, "record %u: %zu bytes too long",
				type, len);
	ret = ckpt_write_hdr(ctx, type, sizeof(struct ckpt_hdr) + len + nul);
	if (!ret && len)
		ret = ckpt_write(ctx, buf, len);
	if (!ret && nul)
		ret = ckpt_write(ctx, &zero, 1);
	return ret;
}

/*
 * len is the size of s: the string ends at its first NUL or after len
 * bytes, whichever comes first, and the record always ends with one NUL.
 * So both ckpt_write_string(ctx, s, strlen(s)) and (..., strlen(s) + 1)
 * write the same record.
 */
int ckpt_write_string(struct ckpt_ctx *ctx, const char *s, size_t len)
{
	return kcr_write_payload(ctx, CKPT_HDR_STRING, s, strnlen(s, len), 1);
}

int ckpt_write_buffer(struct ckpt_ctx *ctx, const void *buf, size_t len)
{
	return kcr_write_payload(ctx, CKPT_HDR_BUFFER, buf, len, 0);
}

/*
 * Nested definitions (an object whose body starts with the definition of
 * another) are as deep as the object graph: a file table, a file, its
 * credentials, their user namespace. Deeper nesting is a crafted image
 * that would otherwise recurse without bound.
 */
/* An ERROR record where another was expected: the image of a failure. */
static int kcr_read_error(struct ckpt_ctx *ctx, const struct ckpt_hdr *h,
			  loff_t pos)
{
	struct ckpt_hdr_error *e;
	char *msg = "";
	int ret;

	if (h->len < sizeof(*e) || h->len > sizeof(*e) + PAGE_SIZE)
		return ckpt_err(ctx, -EINVAL,
				"error record at %lld: length %u", pos, h->len);
	e = kzalloc(h->len + 1, GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	ret = ckpt_read(ctx, &e->h + 1, h->len - sizeof(*h));
	if (!ret) {
		if (h->len > sizeof(*e))
			msg = (char *)(e + 1);
		ret = ckpt_err(ctx, -EINVAL,
			       "the image ends with the error of a failed checkpoint (at %lld): errno %d, pid %d: %s",
			       pos, -e->err, e->pid, msg);
	}
	kfree(e);
	return ret;
}

/*
 * An OBJREF record where a record of type was expected: restore that
 * object, if the grammar (grammar.c) allows its definition here.
 */
static int kcr_read_objref(struct ckpt_ctx *ctx, const struct ckpt_hdr *h,
			   loff_t pos, u32 type)
{
	struct ckpt_hdr_objref o;
	u32 allowed;
	int ret;

	if (h->len != sizeof(o))
		return ckpt_err(ctx, -EINVAL,
				"objref record at %lld: length %u, expected %zu",
				pos, h->len, sizeof(o));
	ret = ckpt_read(ctx, &o.h + 1, sizeof(o) - sizeof(o.h));
	if (ret)
		return ret;
	if (o.objref <= 0)
		return ckpt_err(ctx, -EINVAL, "objref record at %lld: objref %d",
				pos, o.objref);
	if (!ctx->restore_task || ctx->restore_task != current)
		return ckpt_err(ctx, -EINVAL,
				"objref record at %lld: object definitions belong inside a task's records",
				pos);
	if (ctx->obj_depth >= KCR_MAX_OBJ_DEPTH)
		return ckpt_err(ctx, -EINVAL,
				"objref record at %lld: definitions nested deeper than %d",
				pos, KCR_MAX_OBJ_DEPTH);
	allowed = ctx->obj_depth ?
		  kcr_objs_within(ctx->obj_stack[ctx->obj_depth - 1]) :
		  kcr_objs_before(type);
	if (o.objtype >= 32 || !(allowed & BIT(o.objtype))) {
		if (ctx->obj_depth)
			return ckpt_err(ctx, -EINVAL,
					"objref record at %lld: an object of type %u cannot be defined inside one of type %u",
					pos, o.objtype,
					ctx->obj_stack[ctx->obj_depth - 1]);
		return ckpt_err(ctx, -EINVAL,
				"objref record at %lld: an object of type %u cannot be defined before a record of type %u",
				pos, o.objtype, type);
	}
	ctx->obj_stack[ctx->obj_depth++] = o.objtype;
	ret = restore_obj(ctx, ctx->restore_task, o.objtype, o.objref);
	ctx->obj_depth--;
	return ret;
}

/*
 * Read a record header; a record of another type, or whose length is not
 * within [min, max], is a bad image. On restart, object definitions and
 * error records in the way are handled here.
 */
static int kcr_read_hdr(struct ckpt_ctx *ctx, struct ckpt_hdr *h, u32 type,
			size_t min, size_t max)
{
	loff_t pos;
	int ret;

	for (;;) {
		pos = ctx->pos;
		ret = ckpt_read(ctx, h, sizeof(*h));
		if (ret)
			return ret;
		if (h->type == type || ctx->kind != CKPT_CTX_RESTART)
			break;
		if (h->type == CKPT_HDR_OBJREF)
			ret = kcr_read_objref(ctx, h, pos, type);
		else if (h->type == CKPT_HDR_ERROR)
			ret = kcr_read_error(ctx, h, pos);
		else
			break;
		if (ret)
			return ret;
	}
	if (h->type != type)
		return ckpt_err(ctx, -EINVAL,
				"record at %lld: type %u, expected %u",
				pos, h->type, type);
	if (h->len < min || h->len > max)
		return ckpt_err(ctx, -EINVAL,
				"record at %lld (type %u): length %u, expected %zu..%zu",
				pos, type, h->len, min, max);
	return 0;
}

int ckpt_read_hdr_type(struct ckpt_ctx *ctx, struct ckpt_hdr *h, u32 type,
		       size_t min, size_t max)
{
	return kcr_read_hdr(ctx, h, type, min, max);
}

void *ckpt_read_obj_payload(struct ckpt_ctx *ctx, size_t len, u32 type,
			    size_t max_payload, size_t *payload)
{
	struct ckpt_hdr hdr, *h;
	int ret;

	if (len < sizeof(hdr) || max_payload > U32_MAX - len)
		return ERR_PTR(-EINVAL);
	ret = kcr_read_hdr(ctx, &hdr, type, len, len + max_payload);
	if (ret)
		return ERR_PTR(ret);
	h = kvzalloc(hdr.len, GFP_KERNEL_ACCOUNT);
	if (!h)
		return ERR_PTR(ckpt_err(ctx, -ENOMEM,
					"record type %u: %u bytes", type,
					hdr.len));
	*h = hdr;
	ret = ckpt_read(ctx, h + 1, hdr.len - sizeof(hdr));
	if (ret) {
		kvfree(h);
		return ERR_PTR(ret);
	}
	if (payload)
		*payload = hdr.len - len;
	return h;
}

void *ckpt_read_obj_type(struct ckpt_ctx *ctx, size_t len, u32 type)
{
	return ckpt_read_obj_payload(ctx, len, type, 0, NULL);
}

char *ckpt_read_string(struct ckpt_ctx *ctx, size_t max)
{
	struct ckpt_hdr hdr;
	char *s;
	int ret;

	if (!max || max > U32_MAX - sizeof(hdr))
		return ERR_PTR(-EINVAL);
	ret = kcr_read_hdr(ctx, &hdr, CKPT_HDR_STRING, sizeof(hdr) + 1,
			   sizeof(hdr) + max);
	if (ret)
		return ERR_PTR(ret);
	s = kmalloc(hdr.len - sizeof(hdr), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	ret = ckpt_read(ctx, s, hdr.len - sizeof(hdr));
	if (ret) {
		kfree(s);
		return ERR_PTR(ret);
	}
	if (s[hdr.len - sizeof(hdr) - 1] != '\0' ||
	    strlen(s) != hdr.len - sizeof(hdr) - 1) {
		kfree(s);
		return ERR_PTR(ckpt_err(ctx, -EINVAL,
					"string record before %lld: bad NUL termination",
					ctx->pos));
	}
	return s;
}

/* Format the message into msg_buf; msg_mutex held. Returns its length. */
static size_t kcr_format_msg(struct ckpt_ctx *ctx, int err, const char *fmt,
			     va_list ap)
{
	struct task_struct *t = ctx->tsk ? ctx->tsk : current;
	char comm[TASK_COMM_LEN];
	size_t n;

	get_task_comm(comm, t);
	n = scnprintf(ctx->msg_buf, PAGE_SIZE, "[err %d][pos %lld][pid %d %s] ",
		      err, ctx->pos, task_pid_vnr(t), comm);
	n += vscnprintf(ctx->msg_buf + n, PAGE_SIZE - n, fmt, ap);
	/* Keep room for the newline. */
	if (n >= PAGE_SIZE - 1)
		n = PAGE_SIZE - 2;
	return n;
}

/*
 * Errors of the log file itself are ignored: the log is best effort. Its
 * f_pos_lock is not taken: messages are written while a checkpoint holds
 * its target's exec_update_lock, which reading /proc/PID files takes
 * inside f_pos_lock (lockdep saw the inversion); a concurrent write(2) of
 * another thread to the same log may interleave with a message.
 */
static void kcr_log_write(struct ckpt_ctx *ctx, size_t n)
{
	struct kvec kv = { .iov_base = ctx->msg_buf, .iov_len = n + 1 };
	struct iov_iter iter;
	size_t done;

	if (!ctx->logfile)
		return;
	ctx->msg_buf[n] = '\n';
	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, n + 1);
	kcr_file_io(ctx->logfile, &iter, true, false, &done);
	ctx->msg_buf[n] = '\0';
}

int ckpt_err(struct ckpt_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	mutex_lock(&ctx->msg_mutex);
	va_start(ap, fmt);
	n = kcr_format_msg(ctx, err, fmt, ap);
	va_end(ap);
	if (err && !ctx->err) {
		struct task_struct *t = ctx->tsk;

		ctx->err = err;
		ctx->err_pos = ctx->pos;
		ctx->err_pid = t ? task_pid_vnr(t) : 0;
		kfree(ctx->err_msg);
		ctx->err_msg = kstrndup(ctx->msg_buf, n, GFP_KERNEL);
	}
	kcr_log_write(ctx, n);
	mutex_unlock(&ctx->msg_mutex);
	return err;
}

void ckpt_msg(struct ckpt_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!ctx->logfile)
		return;
	mutex_lock(&ctx->msg_mutex);
	va_start(ap, fmt);
	n = kcr_format_msg(ctx, 0, fmt, ap);
	va_end(ap);
	kcr_log_write(ctx, n);
	mutex_unlock(&ctx->msg_mutex);
}

struct ckpt_ctx *ckpt_ctx_alloc(int kind, int fd, u64 uflags, int logfd)
{
	struct ckpt_ctx *ctx;
	int ret;

	if (kind != CKPT_CTX_CHECKPOINT && kind != CKPT_CTX_RESTART)
		return ERR_PTR(-EINVAL);

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	ctx->kind = kind;
	ctx->restore_dumpable = -1;
	ctx->uflags = uflags;
	mutex_init(&ctx->msg_mutex);

	ctx->msg_buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	ret = -ENOMEM;
	if (!ctx->msg_buf)
		goto err;

	/* The log first, so that the checks below can explain themselves. */
	if (logfd != CHECKPOINT_FD_NONE) {
		ret = -EBADF;
		ctx->logfile = fget(logfd);
		if (!ctx->logfile)
			goto err;
		if (!(ctx->logfile->f_mode & FMODE_WRITE)) {
			fput(ctx->logfile);
			ctx->logfile = NULL;
			goto err;
		}
		if (!kcr_can_kernel_write(ctx->logfile)) {
			fput(ctx->logfile);
			ctx->logfile = NULL;
			ret = -EINVAL;
			goto err;
		}
	}

	ctx->file = fget(fd);
	if (!ctx->file) {
		ret = ckpt_err(ctx, -EBADF, "image fd %d is not open", fd);
		goto err;
	}
	if (kind == CKPT_CTX_CHECKPOINT) {
		if (!(ctx->file->f_mode & FMODE_WRITE)) {
			ret = ckpt_err(ctx, -EBADF,
				       "image fd %d is not open for writing",
				       fd);
			goto err;
		}
		if (!kcr_can_kernel_write(ctx->file)) {
			ret = ckpt_err(ctx, -EINVAL,
				       "image fd %d (%pD): this kind of file cannot be written from the kernel",
				       fd, ctx->file);
			goto err;
		}
	} else {
		if (!(ctx->file->f_mode & FMODE_READ)) {
			ret = ckpt_err(ctx, -EBADF,
				       "image fd %d is not open for reading",
				       fd);
			goto err;
		}
		if (!kcr_can_kernel_read(ctx->file)) {
			ret = ckpt_err(ctx, -EINVAL,
				       "image fd %d (%pD): this kind of file cannot be read from the kernel",
				       fd, ctx->file);
			goto err;
		}
	}

	ret = ckpt_obj_hash_alloc(ctx);
	if (ret)
		goto err;

	ctx->id = atomic64_inc_return(&kcr_ckpt_id);
	return ctx;

err:
	ckpt_ctx_free(ctx);
	return ERR_PTR(ret);
}

void ckpt_ctx_free(struct ckpt_ctx *ctx)
{
	int i;

	if (!ctx)
		return;
	/* Objects first: their drop functions may still need the tasks. */
	ckpt_obj_hash_free(ctx);
	if (ctx->tasks) {
		for (i = 0; i < ctx->nr_tasks; i++)
			if (ctx->tasks[i])
				put_task_struct(ctx->tasks[i]);
		kvfree(ctx->tasks);
	}
	kvfree(ctx->still);
	if (ctx->root_task)
		put_task_struct(ctx->root_task);
	if (ctx->restarter)
		put_task_struct(ctx->restarter);
	if (ctx->user_ns)
		put_user_ns(ctx->user_ns);
	if (ctx->file)
		fput(ctx->file);
	if (ctx->logfile)
		fput(ctx->logfile);
	kvfree(ctx->header);
	kfree(ctx->err_msg);
	kfree(ctx->msg_buf);
	mutex_destroy(&ctx->msg_mutex);
	kfree(ctx);
}
