// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: x86-64 CPU state, after linux-cr's arch/x86/kernel/checkpoint.c.
 *
 * Checkpoint writes CKPT_HDR_CPU_X86: the general registers as the
 * NT_PRSTATUS regset gives them (struct user_regs_struct, fs_base and
 * gs_base included) and, as payload, the FPU state as the NT_X86_XSTATE
 * regset gives it (the standard-format XSAVE area of PTRACE_GETREGSET,
 * PKRU included), or the NT_PRFPREG FXSAVE area on a CPU or kernel without
 * XSAVE.
 *
 * The task is either frozen or current. A frozen task was switched out, so
 * its registers are in pt_regs and thread_struct and its FPU state in its
 * fpstate. For current, the regset code reads fs/gs/ds/es and the FS/GS
 * bases from the CPU (get_segment_reg(), x86_fsbase_read_task() in
 * arch/x86/kernel/ptrace.c and process_64.c) and xstateregs_get() saves
 * the live FPU registers first (sync_fpstate() -> fpu_sync_fpstate(), which
 * only warns for a task that is not current). PKRU is the exception, see
 * kcr_x86_sync_pkru().
 */
#include <linux/build_bug.h>
#include <linux/elf.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/stddef.h>

#include <asm/cpufeature.h>
#include <asm/fpu/xcr.h>
#include <asm/pkru.h>
#include <asm/user.h>

#include "../kcr.h"
#include "arch.h"

/* The general registers of the record are struct user_regs_struct. */
#define KCR_X86_SAME_REG(f)						\
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_x86, f) -		\
		     offsetof(struct ckpt_hdr_cpu_x86, r15) !=		\
		     offsetof(struct user_regs_struct, f))

static void kcr_x86_check_layout(void)
{
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_x86, fpu_format) -
		     offsetof(struct ckpt_hdr_cpu_x86, r15) !=
		     sizeof(struct user_regs_struct));
	KCR_X86_SAME_REG(r15);
	KCR_X86_SAME_REG(bx);
	KCR_X86_SAME_REG(ax);
	KCR_X86_SAME_REG(orig_ax);
	KCR_X86_SAME_REG(ip);
	KCR_X86_SAME_REG(flags);
	KCR_X86_SAME_REG(sp);
	KCR_X86_SAME_REG(fs_base);
	KCR_X86_SAME_REG(gs_base);
	KCR_X86_SAME_REG(gs);
	/* The FPU payload follows the struct at an 8-byte boundary. */
	BUILD_BUG_ON(sizeof(struct ckpt_hdr_cpu_x86) % 8);
}

int kcr_arch_header(struct ckpt_ctx *ctx, struct ckpt_hdr_header_arch *h)
{
	const struct user_regset *rs;

	h->cpu_caps = 0;
	h->xstate_size = 0;
	h->xfeatures = 0;

	if (cpu_feature_enabled(X86_FEATURE_FXSR))
		h->cpu_caps |= CKPT_X86_CAP_FXSR;
	/*
	 * The kernel sets CR4.FSGSBASE whenever it keeps this feature bit
	 * (arch/x86/kernel/cpu/common.c), so user code may have written
	 * its bases with WRFSBASE/WRGSBASE and expect to do so again.
	 */
	if (cpu_feature_enabled(X86_FEATURE_FSGSBASE))
		h->cpu_caps |= CKPT_X86_CAP_FSGSBASE;

	/*
	 * X86_FEATURE_XSAVE is cleared when the kernel does not use XSAVE
	 * (noxsave, or fpu__init_system_xstate() failing), and
	 * xstateregs_get() refuses then: test what the regset tests.
	 */
	if (!cpu_feature_enabled(X86_FEATURE_XSAVE) ||
	    !cpu_feature_enabled(X86_FEATURE_OSXSAVE))
		return 0;

	/*
	 * fpu_user_cfg is not exported. The XSTATE regset's size is its
	 * max_size (update_regset_xstate_info() in arch/x86/kernel/ptrace.c,
	 * for the 64-bit and the 32-bit view alike), and XCR0 holds its
	 * max_features: fpu__init_cpu_xstate() writes it there and nothing
	 * changes it while the host runs. Both are what every task's
	 * NT_X86_XSTATE can hold, AMX tile data included; which of them a
	 * task uses is in the XSTATE_BV of its own area.
	 */
	rs = kcr_arch_regset(task_user_regset_view(current), NT_X86_XSTATE);
	if (!rs)
		return ckpt_err(ctx, -ENODEV, "x86: no XSTATE regset");
	h->cpu_caps |= CKPT_X86_CAP_XSAVE;
	h->xstate_size = kcr_arch_regset_size(rs);
	h->xfeatures = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	return 0;
}

/*
 * copy_xstate_to_uabi_buf() takes PKRU from thread.pkru, not from the
 * XSAVE buffer, and thread.pkru is only valid while the task is switched
 * out (arch/x86/include/asm/processor.h): for current it is the value of
 * its last context switch, and a WRPKRU since then would be lost. Store
 * the register, as copy_thread() does for a child in
 * arch/x86/kernel/process.c. Nothing reads thread.pkru of a running task,
 * and switching out stores the same register again, so this is safe even
 * if preempted in between.
 */
static void kcr_x86_sync_pkru(struct task_struct *t)
{
	if (t == current && cpu_feature_enabled(X86_FEATURE_OSPKE))
		current->thread.pkru = read_pkru();
}

int kcr_arch_checkpoint_cpu(struct ckpt_ctx *ctx, struct task_struct *t)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	const struct user_regset *gp, *fp;
	struct ckpt_hdr_cpu_x86 *h;
	unsigned int fp_note;
	u32 fpu_format, fpu_size;
	int ret;

	kcr_x86_check_layout();

	/*
	 * task_user_regset_view() gives the 32-bit view to a task whose CS
	 * is not the 64-bit user code segment: its registers do not fit
	 * the record (x32 tasks run in 64-bit mode and do).
	 */
	gp = kcr_arch_regset(view, NT_PRSTATUS);
	if (!gp || kcr_arch_regset_size(gp) != sizeof(struct user_regs_struct))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: not a 64-bit task: cannot checkpoint it");

	if (cpu_feature_enabled(X86_FEATURE_XSAVE)) {
		fp_note = NT_X86_XSTATE;
		fpu_format = CKPT_X86_FPU_XSAVE;
	} else {
		fp_note = NT_PRFPREG;
		fpu_format = CKPT_X86_FPU_FXSAVE;
	}
	fp = kcr_arch_regset(view, fp_note);
	if (!fp)
		return ckpt_err(ctx, -ENODEV, "x86: no FPU regset %#x",
				fp_note);
	/* The size of the whole area, as header_arch.xstate_size says. */
	fpu_size = kcr_arch_regset_size(fp);

	h = ckpt_hdr_get_type(ctx, sizeof(*h) + fpu_size, CKPT_HDR_CPU_X86);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "x86: no memory for registers");
	h->fpu_format = fpu_format;
	h->fpu_size = fpu_size;

	ret = kcr_arch_regset_get(t, view, NT_PRSTATUS, &h->r15,
				  sizeof(struct user_regs_struct));
	if (ret) {
		ckpt_err(ctx, ret, "x86: cannot read the general registers");
		goto out;
	}

	kcr_x86_sync_pkru(t);
	ret = kcr_arch_regset_get(t, view, fp_note, h + 1, fpu_size);
	if (ret) {
		ckpt_err(ctx, ret, "x86: cannot read the FPU state");
		goto out;
	}

	if (t == current) {
		/*
		 * Self checkpoint, inside the CHECKPOINT ioctl: record the
		 * return of that ioctl with 0, as a fork child leaves
		 * ret_from_fork with ax = 0 (arch/x86/kernel/process.c
		 * copy_thread(): childregs->ax = 0).
		 * - ip is already past the SYSCALL instruction: SYSCALL puts
		 *   the return address in rcx and entry_SYSCALL_64 pushes
		 *   rcx as pt_regs->ip (arch/x86/entry/entry_64.S); cx and
		 *   r11 in pt_regs are the return ip and rflags, as user
		 *   mode sees them after SYSCALL.
		 * - ax is -ENOSYS in pt_regs until the ioctl returns
		 *   (PUSH_AND_CLEAR_REGS rax=$-ENOSYS): 0 is the result.
		 * - orig_ax is the system call number; -1 says "not in a
		 *   system call", so that no signal delivery after restart
		 *   looks at ax for -ERESTART* (handle_signal() and
		 *   arch_do_signal_or_restart() in arch/x86/kernel/signal.c
		 *   test syscall_get_nr() != -1, i.e. orig_ax).
		 */
		h->ax = 0;
		h->orig_ax = (u64)-1;
	}

	ret = ckpt_write_obj(ctx, &h->h);
	if (ret)
		ckpt_err(ctx, ret, "x86: cannot write the registers");
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
