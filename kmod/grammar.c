// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: the image grammar that restart enforces.
 *
 * An image is
 *
 *	HEADER HEADER_ARCH CONTAINER TREE task... TAIL
 *
 * and a task is
 *
 *	TASK [cred defs] TASK_CREDS [ns defs] TASK_NS [task obj defs]
 *	TASK_OBJS SIGNAL_TASK RESTART_BLOCK THREAD CPU
 *
 * Each restore step reads the record it expects; ctx.c calls the
 * functions below for every OBJREF record (an object definition) met on
 * the way, and refuses a definition that the grammar does not allow
 * there. So objects are defined only inside a task's records, by the
 * task being restored, and only where the checkpoint writes them: never
 * before the HEADER, in the coordinator, or where restoring them would
 * change the task before the step that owns that state.
 *
 * Definitions are either at the top level of a task, before the record
 * that uses them (kcr_objs_before()), or nested at the start of another
 * object's body (kcr_objs_within(): a CRED starts with its user namespace,
 * user and groups, a file table with its files, an mm with its mapped
 * files).
 */
#include <linux/bits.h>

#include "kcr.h"

#define O(t)		BIT(CKPT_OBJ_##t)
#define KCR_CRED_OBJS	(O(CRED) | O(USER_NS) | O(USER) | O(GROUPINFO))

u32 kcr_objs_before(u32 type)
{
	switch (type) {
	case CKPT_HDR_TASK_CREDS:
		return O(CRED);
	case CKPT_HDR_TASK_NS:
		return O(NS);
	case CKPT_HDR_TASK_OBJS:
		return O(FILE_TABLE) | O(FILE) | O(FS) | O(MM) | O(SIGHAND) |
		       O(SIGNAL);
	default:
		return 0;
	}
}

u32 kcr_objs_within(u32 objtype)
{
	switch (objtype) {
	case CKPT_OBJ_USER_NS:
		return O(USER_NS);
	case CKPT_OBJ_USER:
		return O(USER_NS);
	case CKPT_OBJ_CRED:
		return O(USER_NS) | O(USER) | O(GROUPINFO);
	case CKPT_OBJ_NS:
		return O(UTS_NS) | O(IPC_NS);
	case CKPT_OBJ_FILE_TABLE:
		return O(FILE) | KCR_CRED_OBJS;
	case CKPT_OBJ_FILE:
		return KCR_CRED_OBJS;
	case CKPT_OBJ_MM:
		return O(FILE) | KCR_CRED_OBJS;
	default:
		return 0;
	}
}

/*
 * Whether restoring an object of objtype changes the task: from the
 * first such definition on, a failed restart kills the task instead of
 * returning (RESTART_TASKSELF) to a caller that is no longer itself.
 * The others (credentials, namespaces, files opened but not installed)
 * are only prepared, and dropped with the context or applied after the
 * point of no return (restore_task_ns_commit()).
 */
bool kcr_obj_changes_task(u32 objtype)
{
	switch (objtype) {
	case CKPT_OBJ_FILE_TABLE:
	case CKPT_OBJ_FS:
	case CKPT_OBJ_MM:
	case CKPT_OBJ_SIGHAND:
	case CKPT_OBJ_SIGNAL:
		return true;
	default:
		return false;
	}
}
