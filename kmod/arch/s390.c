// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: s390x CPU state, after linux-cr's arch/s390/kernel/checkpoint.c.
 *
 * Checkpoint writes CKPT_HDR_CPU_S390 from the ptrace regsets:
 *  - NT_PRSTATUS (s390_regs): PSW, gprs, access registers, orig_gpr2.
 *    s390_regs_get() stores current's access registers first and gives
 *    a cleaned PSW mask (__peek_user() in arch/s390/kernel/ptrace.c);
 *  - NT_PRFPREG (s390_fp_regs): fpc and the 16 fprs, taken from the
 *    vector registers when the machine has them;
 *  - with the vector facility, NT_S390_VXRS_LOW (bits 64-127 of v0-v15)
 *    and NT_S390_VXRS_HIGH (v16-v31).
 * The FPU/vector get functions call save_fpu_regs() for current, which
 * stores the live registers into thread.fpu; a frozen task's are there
 * since it was switched out.
 *
 * 31-bit (compat) tasks, and tasks that use guarded storage or runtime
 * instrumentation (state the record has no room for), are refused rather
 * than checkpointed without that state.
 */
#include <linux/build_bug.h>
#include <linux/elf.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <asm/ptrace.h>
#include <asm/setup.h>

#include "../kcr.h"
#include "arch.h"

/* The regsets' layouts, as the record's fields take them. */
struct kcr_s390_fp {
	u32 fpc;
	u32 pad;
	u64 fprs[16];
};

static void kcr_s390_check_layout(void)
{
	/* psw_mask .. orig_gpr2 are s390_regs as it is in memory. */
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_s390, psw_addr) -
		     offsetof(struct ckpt_hdr_cpu_s390, psw_mask) !=
		     offsetof(s390_regs, psw.addr));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_s390, gprs) -
		     offsetof(struct ckpt_hdr_cpu_s390, psw_mask) !=
		     offsetof(s390_regs, gprs));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_s390, acrs) -
		     offsetof(struct ckpt_hdr_cpu_s390, psw_mask) !=
		     offsetof(s390_regs, acrs));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_s390, orig_gpr2) -
		     offsetof(struct ckpt_hdr_cpu_s390, psw_mask) !=
		     offsetof(s390_regs, orig_gpr2));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_s390, fpc) -
		     offsetof(struct ckpt_hdr_cpu_s390, psw_mask) !=
		     sizeof(s390_regs));
	BUILD_BUG_ON(sizeof(struct kcr_s390_fp) != sizeof(s390_fp_regs));
	BUILD_BUG_ON(__NUM_VXRS_LOW != 16 || __NUM_VXRS_HIGH != 16);
}

int kcr_arch_header(struct ckpt_ctx *ctx, struct ckpt_hdr_header_arch *h)
{
	h->xstate_size = 0;
	h->xfeatures = 0;
	/*
	 * The vector facility as the kernel uses it (MACHINE_HAS_VX, which
	 * is off with novx): a task may hold state in v16-v31 and in the
	 * low halves of v0-v15 only then.
	 */
	h->cpu_caps = MACHINE_HAS_VX ? CKPT_S390_CAP_VX : 0;
	return 0;
}

/*
 * The svc a task is in, as arch_do_signal_or_restart() would record it
 * in thread.system_call (arch/s390/kernel/signal.c): regs->int_code while
 * PIF_SYSCALL is set, else 0. NT_S390_SYSTEM_CALL is not used: it returns
 * thread.system_call, which is only written when the task enters signal
 * delivery and is stale for a task frozen in a freezable sleep inside a
 * system call (6.1 freezes TASK_FREEZABLE sleepers where they sleep).
 */
static u32 kcr_s390_system_call(struct task_struct *t)
{
	struct pt_regs *regs = task_pt_regs(t);

	return test_pt_regs_flag(regs, PIF_SYSCALL) ? regs->int_code : 0;
}

static int kcr_s390_get_regs(struct ckpt_ctx *ctx, struct task_struct *t,
			     const struct user_regset_view *view,
			     struct ckpt_hdr_cpu_s390 *h)
{
	struct kcr_s390_fp fp;
	u64 low[__NUM_VXRS_LOW];
	int i, ret;

	ret = kcr_arch_regset_get(t, view, NT_PRSTATUS, &h->psw_mask,
				  sizeof(s390_regs));
	if (ret)
		return ckpt_err(ctx, ret,
				"s390: cannot read the general registers");

	ret = kcr_arch_regset_get(t, view, NT_PRFPREG, &fp, sizeof(fp));
	if (ret)
		return ckpt_err(ctx, ret, "s390: cannot read the fprs");
	h->fpc = fp.fpc;
	memcpy(h->fprs, fp.fprs, sizeof(h->fprs));

	if (!MACHINE_HAS_VX)
		return 0;

	ret = kcr_arch_regset_get(t, view, NT_S390_VXRS_LOW, low, sizeof(low));
	if (ret)
		return ckpt_err(ctx, ret, "s390: cannot read the vxrs (low)");
	/* Bits 0-63 of v0-v15 are the fprs (fpregs_store() and friends). */
	for (i = 0; i < __NUM_VXRS_LOW; i++) {
		h->vxrs[i][0] = fp.fprs[i];
		h->vxrs[i][1] = low[i];
	}
	ret = kcr_arch_regset_get(t, view, NT_S390_VXRS_HIGH,
				  &h->vxrs[__NUM_VXRS_LOW],
				  __NUM_VXRS_HIGH * sizeof(h->vxrs[0]));
	if (ret)
		return ckpt_err(ctx, ret, "s390: cannot read the vxrs (high)");
	h->flags |= CKPT_S390_CAP_VX;
	return 0;
}

int kcr_arch_checkpoint_cpu(struct ckpt_ctx *ctx, struct task_struct *t)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	struct ckpt_hdr_cpu_s390 *h;
	int ret;

	kcr_s390_check_layout();

	if (test_tsk_thread_flag(t, TIF_31BIT))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"s390: cannot checkpoint a 31-bit task");
	/*
	 * Guarded storage and runtime instrumentation control blocks are
	 * allocated on first use (s390_guarded_storage(),
	 * s390_runtime_instr()): a task that never used them has none.
	 */
	if (t->thread.gs_cb || t->thread.gs_bc_cb || t->thread.ri_cb)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"s390: cannot checkpoint guarded storage or runtime instrumentation");

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_CPU_S390);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "s390: no memory for registers");

	ret = kcr_s390_get_regs(ctx, t, view, h);
	if (ret)
		goto out;

	if (t == current) {
		/*
		 * Self checkpoint, inside the CHECKPOINT ioctl: record the
		 * return of that ioctl with 0, as a fork child sees it
		 * (copy_thread() in arch/s390/kernel/process.c:
		 * childregs.gprs[2] = 0, childregs.flags = 0).
		 * - psw_addr is already past the svc: __do_syscall() copies
		 *   the SVC old PSW, which points after the instruction,
		 *   and a restart has to rewind it by the ilc in int_code
		 *   (__rewind_psw() in arch/s390/kernel/signal.c);
		 * - gprs[2] is the result (do_syscall() in
		 *   arch/s390/kernel/syscall.c);
		 * - system_call 0: not in a system call, so that signal
		 *   delivery after restart does not look at gprs[2] for
		 *   -ERESTART* (arch_do_signal_or_restart() restarts only
		 *   with PIF_SYSCALL, which the fork child does not have).
		 * orig_gpr2 keeps the ioctl's first argument, as the child's
		 * does: only a restart of the system call reads it.
		 */
		h->gprs[2] = 0;
		h->system_call = 0;
	} else {
		h->system_call = kcr_s390_system_call(t);
	}

	ret = ckpt_write_obj(ctx, &h->h);
	if (ret)
		ckpt_err(ctx, ret, "s390: cannot write the registers");
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/* Restart: not written yet. */
int kcr_arch_restore_header(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_header_arch *h)
{
	return ckpt_err(ctx, -EOPNOTSUPP, "CPU restore: not implemented yet");
}

void *kcr_arch_restore_cpu(struct ckpt_ctx *ctx)
{
	return ERR_PTR(ckpt_err(ctx, -EOPNOTSUPP,
				"CPU restore: not implemented yet"));
}

int kcr_arch_load_cpu(void *state)
{
	return -EOPNOTSUPP;
}
