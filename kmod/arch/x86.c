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
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/mmap_lock.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/fsgsbase.h>
#include <asm/msr.h>
#include <asm/pkru.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/segment.h>
#include <asm/syscall.h>
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

/*
 * syscall_get_nr() of arch/x86/include/asm/syscall.h is orig_ax as an
 * int: the rax of a SYSCALL, or -1, which every interrupt and exception
 * entry stores ("no syscall to restart", arch/x86/entry/entry_64.S).
 * do_syscall_64() takes the number as an int too, so a negative one is
 * no system call that ran.
 */
int kcr_arch_syscall_nr(struct task_struct *t)
{
	int nr = syscall_get_nr(t, task_pt_regs(t));

	return nr < 0 ? -1 : nr;
}

/*
 * State of t that the image has no record for, and that a restart must
 * therefore not take from the restarter either: TLS descriptors in the
 * GDT (set_thread_area()), an LDT (modify_ldt()), and protection keys
 * allocated with pkey_alloc() or for execute-only memory (the VMAs'
 * keys would be lost with them). 64-bit glibc uses none of them.
 */
static int kcr_x86_check_unsupported(struct ckpt_ctx *ctx,
				     struct task_struct *t)
{
	struct mm_struct *mm;
	int i, ret = 0;

	for (i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++)
		if (!desc_empty(&t->thread.tls_array[i]))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"x86: TLS descriptor %d of the GDT is set (set_thread_area): not supported",
					GDT_ENTRY_TLS_MIN + i);
	mm = get_task_mm(t);
	if (!mm)
		return 0;
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	if (READ_ONCE(mm->context.ldt))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "x86: the process has an LDT (modify_ldt): not supported");
#endif
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	/* init_new_context(): pkey 0 allocated, no execute-only key. */
	if (!ret && cpu_feature_enabled(X86_FEATURE_OSPKE) &&
	    (READ_ONCE(mm->context.pkey_allocation_map) != 0x1 ||
	     READ_ONCE(mm->context.execute_only_pkey) != -1))
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "x86: protection keys are allocated (pkey_alloc map %#x, execute-only pkey %d): not supported",
			       READ_ONCE(mm->context.pkey_allocation_map),
			       READ_ONCE(mm->context.execute_only_pkey));
#endif
	mmput(mm);
	return ret;
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

	ret = kcr_x86_check_unsupported(ctx, t);
	if (ret)
		return ret;

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


/*
 * Restart.
 *
 * kcr_arch_restore_header() refuses an image whose register state this
 * machine cannot hold: capabilities or XSAVE features (XCR0 bits) that
 * are not enabled here, or a larger XSAVE area. kcr_arch_restore_cpu()
 * reads the CPU record and checks every field the way the ptrace regset
 * set functions would (putreg() and set_flags() of
 * arch/x86/kernel/ptrace.c, copy_uabi_to_xstate() of
 * arch/x86/kernel/fpu/xstate.c), so that loading it cannot fail.
 *
 * kcr_arch_load_cpu() runs in current, from a task_work on its way to
 * user mode. The regset set functions cannot be used there: putreg()
 * warns for current (set_segment_reg(), x86_fsbase_write_task()), and
 * xstateregs_set() calls fpu_force_restore(), which warns for current
 * with CONFIG_X86_DEBUG_FPU (Debian sets it) and would not keep the live
 * registers from overwriting the new state. So:
 * - the general registers go into task_pt_regs(current), with the flags
 *   merged as set_flags() does; the way out (IRET after a fork, or
 *   SYSRET only when the registers allow it, else IRET) copes with any
 *   pt_regs, as after a ptrace write;
 * - ds, es, fs and gs are loaded into the CPU, and the FS base and the
 *   inactive (user) GS base written to their MSRs, as
 *   do_arch_prctl_64() does for current (with thread.fsbase/gsbase, which
 *   a CPU without FSGSBASE needs); a selector that cannot be loaded
 *   becomes 0 (the fixup of loadsegment()), as on a context switch;
 * - the FPU state: kernel_fpu_begin() saves the live registers to
 *   current's fpstate and sets TIF_NEED_FPU_LOAD, so that fpstate is the
 *   state current returns to user mode with (switch_fpu_return() on the
 *   way out); then, under fpregs_lock(), the image's area goes into
 *   fpstate through copy_uabi_from_kernel_to_xstate(), the copy of
 *   xstateregs_set(), which is exported as KVM's
 *   fpu_copy_uabi_to_guest_fpstate() (it uses gfpu->fpstate only, and
 *   has the same checks); PKRU, which the way out does not load, is
 *   written to the register and to thread.pkru at once (a context switch
 *   stores the register into thread.pkru).
 */
#if !IS_ENABLED(CONFIG_KVM)
#error "kcr: x86 CPU restore uses fpu_copy_uabi_to_guest_fpstate() (CONFIG_KVM)"
#endif

#define KCR_X86_CAPS	(CKPT_X86_CAP_FXSR | CKPT_X86_CAP_XSAVE |	\
			 CKPT_X86_CAP_FSGSBASE)

/* The smallest XSAVE area: the FXSAVE region and the XSAVE header. */
#define KCR_X86_XSAVE_MIN	(sizeof(struct fxregs_state) +		\
				 sizeof(struct xstate_header))

/* The RFLAGS bits user mode may set: FLAG_MASK of ptrace.c. */
#define KCR_X86_FLAG_MASK	(X86_EFLAGS_CF | X86_EFLAGS_PF |	\
				 X86_EFLAGS_AF | X86_EFLAGS_ZF |	\
				 X86_EFLAGS_SF | X86_EFLAGS_TF |	\
				 X86_EFLAGS_DF | X86_EFLAGS_OF |	\
				 X86_EFLAGS_RF | X86_EFLAGS_AC |	\
				 X86_EFLAGS_NT)

/* What kcr_arch_restore_cpu() gives kcr_arch_load_cpu(). */
struct kcr_x86_cpu {
	struct user_regs_struct regs;	/* checked; orig_ax decided */
	u32 fpu_size;			/* bytes of fpu[] */
	u32 __pad;
	/*
	 * The FPU state in the standard XSAVE format of NT_X86_XSTATE (an
	 * FXSAVE image gets an XSAVE header saying FP and SSE), at least
	 * KCR_X86_XSAVE_MIN bytes.
	 */
	u64 fpu[];
};

/*
 * The address space is rebuilt in current's own mm, a copy of the
 * restarter's (or the restarter's itself with RESTART_TASKSELF), which
 * holds the restarter's LDT: modules cannot free an LDT, and the image
 * never has one (checkpoint refuses it), so a restarter with an LDT is
 * refused rather than leaving its descriptors to the restored task.
 */
static int kcr_x86_check_restarter(struct ckpt_ctx *ctx)
{
#ifdef CONFIG_MODIFY_LDT_SYSCALL
	if (current->mm && READ_ONCE(current->mm->context.ldt))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: the restarter has an LDT (modify_ldt), which the restored task would inherit");
#endif
	return 0;
}

int kcr_arch_restore_header(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_header_arch *h)
{
	struct ckpt_hdr_header_arch here = { };
	u64 missing;
	int ret;

	if (h->cpu_caps & ~(u64)KCR_X86_CAPS)
		return ckpt_err(ctx, -EINVAL,
				"x86: unknown CPU capabilities %#llx in the image",
				h->cpu_caps & ~(u64)KCR_X86_CAPS);
	if (!(h->cpu_caps & CKPT_X86_CAP_XSAVE)) {
		if (h->xfeatures || h->xstate_size)
			return ckpt_err(ctx, -EINVAL,
					"x86: XSAVE features %#llx (%u bytes) in an image without XSAVE",
					h->xfeatures, h->xstate_size);
	} else if ((h->xfeatures & XFEATURE_MASK_FPSSE) !=
		   XFEATURE_MASK_FPSSE ||
		   h->xstate_size < KCR_X86_XSAVE_MIN) {
		/* XCR0 always has x87 (and SSE under Linux). */
		return ckpt_err(ctx, -EINVAL,
				"x86: XSAVE features %#llx, area of %u bytes",
				h->xfeatures, h->xstate_size);
	}

	ret = kcr_x86_check_restarter(ctx);
	if (ret)
		return ret;
	ret = kcr_arch_header(ctx, &here);
	if (ret)
		return ret;
	missing = h->cpu_caps & ~here.cpu_caps;
	if (missing)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: the image needs CPU capabilities %#llx (%s%s%s) which this machine does not have or enable",
				missing,
				missing & CKPT_X86_CAP_FXSR ? " FXSR" : "",
				missing & CKPT_X86_CAP_XSAVE ? " XSAVE" : "",
				missing & CKPT_X86_CAP_FSGSBASE ?
				" FSGSBASE" : "");
	missing = h->xfeatures & ~here.xfeatures;
	if (missing)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: the image has XSAVE features %#llx that this machine does not enable (XCR0 %#llx, the image's %#llx)",
				missing, here.xfeatures, h->xfeatures);
	if (h->xstate_size > here.xstate_size)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: the image's XSAVE area has %u bytes, this machine's %u",
				h->xstate_size, here.xstate_size);
	return 0;
}

/* Bytes of the largest FPU payload this machine can load. */
static unsigned int kcr_x86_fpu_max(void)
{
	const struct user_regset *rs;

	if (!cpu_feature_enabled(X86_FEATURE_XSAVE) ||
	    !cpu_feature_enabled(X86_FEATURE_OSXSAVE))
		return sizeof(struct fxregs_state);
	rs = kcr_arch_regset(task_user_regset_view(current), NT_X86_XSTATE);
	return rs ? kcr_arch_regset_size(rs) : sizeof(struct fxregs_state);
}

/*
 * The MXCSR bits this CPU accepts: mxcsr_feature_mask of the kernel
 * (arch/x86/kernel/fpu/init.c), found the same way.
 */
static u32 kcr_x86_mxcsr_mask(void)
{
	struct fxregs_state fx;

	memset(&fx, 0, sizeof(fx));
	kernel_fpu_begin();
	asm volatile("fxsaveq %[fx]" : [fx] "=m" (fx));
	kernel_fpu_end();
	return fx.mxcsr_mask ? fx.mxcsr_mask : 0x0000ffbf;
}

/* A selector that putreg() would take (invalid_selector()). */
static int kcr_x86_check_sel(struct ckpt_ctx *ctx, const char *name, u64 v,
			     bool null_ok)
{
	if ((null_ok && !v) ||
	    (v <= 0xffff && (v & SEGMENT_RPL_MASK) == USER_RPL))
		return 0;
	return ckpt_err(ctx, -EINVAL, "x86: %s %#llx is not a user selector",
			name, v);
}

static int kcr_x86_check_regs(struct ckpt_ctx *ctx,
			      const struct ckpt_hdr_cpu_x86 *h)
{
	int ret;

	/* The record holds 64-bit registers: checkpoint refuses others. */
	if (h->cs != __USER_CS)
		return ckpt_err(ctx, -EINVAL,
				"x86: cs %#llx is not the 64-bit user code segment %#x",
				h->cs, __USER_CS);
	ret = kcr_x86_check_sel(ctx, "ss", h->ss, false);
	if (!ret)
		ret = kcr_x86_check_sel(ctx, "ds", h->ds, true);
	if (!ret)
		ret = kcr_x86_check_sel(ctx, "es", h->es, true);
	if (!ret)
		ret = kcr_x86_check_sel(ctx, "fs", h->fs, true);
	if (!ret)
		ret = kcr_x86_check_sel(ctx, "gs", h->gs, true);
	if (ret)
		return ret;
	if (h->fs_base >= TASK_SIZE_MAX || h->gs_base >= TASK_SIZE_MAX)
		return ckpt_err(ctx, -EINVAL,
				"x86: fs base %#llx, gs base %#llx: not user addresses",
				h->fs_base, h->gs_base);
	return 0;
}

/*
 * orig_ax: the system call whose restart the signal code does on the way
 * out (arch_do_signal_or_restart(), handle_signal()) when ax says
 * -ERESTART*; a self checkpoint records -1. Any other value would only
 * make the signal code look at ax for nothing: -1.
 */
static u64 kcr_x86_orig_ax(const struct ckpt_hdr_cpu_x86 *h)
{
	switch ((s64)h->ax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return h->orig_ax;
	}
	return (u64)-1;
}

/* The XSAVE area of the record: what copy_uabi_to_xstate() will accept. */
static int kcr_x86_check_xsave(struct ckpt_ctx *ctx, const u8 *area,
			       u32 size)
{
	const struct fpstate *fps = current->thread.fpu.fpstate;
	struct xstate_header hdr;
	u64 xcr0, bad;
	u32 mxcsr;
	int i;

	memcpy(&hdr, area + sizeof(struct fxregs_state), sizeof(hdr));
	xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (hdr.xfeatures & ~xcr0)
		return ckpt_err(ctx, -EINVAL,
				"x86: XSAVE area with features %#llx, this machine enables %#llx",
				hdr.xfeatures, xcr0);
	/* Dynamic features (AMX) that the task has no permission for. */
	bad = hdr.xfeatures & (~fps->user_xfeatures | fps->xfd);
	if (bad)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"x86: XSAVE features %#llx are not enabled for this task (arch_prctl ARCH_REQ_XCOMP_PERM)",
				bad);
	if (hdr.xcomp_bv || memchr_inv(hdr.reserved, 0, sizeof(hdr.reserved)))
		return ckpt_err(ctx, -EINVAL,
				"x86: XSAVE header: compacted format %#llx or reserved bytes set",
				hdr.xcomp_bv);
	if (hdr.xfeatures & (XFEATURE_MASK_FPSSE | XFEATURE_MASK_YMM)) {
		memcpy(&mxcsr, area + offsetof(struct fxregs_state, mxcsr),
		       sizeof(mxcsr));
		if (mxcsr & ~kcr_x86_mxcsr_mask())
			return ckpt_err(ctx, -EINVAL,
					"x86: MXCSR %#x has reserved bits set",
					mxcsr);
	}
	/* Each extended component must lie within the area. */
	for (i = FIRST_EXTENDED_XFEATURE; i < 64; i++) {
		u32 csize, off, ecx, edx;

		if (!(hdr.xfeatures & BIT_ULL(i)))
			continue;
		cpuid_count(XSTATE_CPUID, i, &csize, &off, &ecx, &edx);
		if (off < KCR_X86_XSAVE_MIN || off > size || csize > size - off)
			return ckpt_err(ctx, -EINVAL,
					"x86: XSAVE component %d (%u bytes at %u) is not inside the %u-byte area",
					i, csize, off, size);
	}
	return 0;
}

static int kcr_x86_check_fpu(struct ckpt_ctx *ctx,
			     const struct ckpt_hdr_cpu_x86 *h, size_t payload,
			     unsigned int max)
{
	const u8 *area = (const u8 *)(h + 1);
	u32 mxcsr;

	if (h->fpu_size != payload)
		return ckpt_err(ctx, -EINVAL,
				"x86: FPU state of %u bytes, the record has %zu",
				h->fpu_size, payload);
	switch (h->fpu_format) {
	case CKPT_X86_FPU_FXSAVE:
		if (h->fpu_size != sizeof(struct fxregs_state))
			return ckpt_err(ctx, -EINVAL,
					"x86: FXSAVE area of %u bytes",
					h->fpu_size);
		if (!cpu_feature_enabled(X86_FEATURE_FXSR))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"x86: FXSAVE state, this machine has no FXSR");
		memcpy(&mxcsr, area + offsetof(struct fxregs_state, mxcsr),
		       sizeof(mxcsr));
		if (mxcsr & ~kcr_x86_mxcsr_mask())
			return ckpt_err(ctx, -EINVAL,
					"x86: MXCSR %#x has reserved bits set",
					mxcsr);
		return 0;
	case CKPT_X86_FPU_XSAVE:
		if (!cpu_feature_enabled(X86_FEATURE_XSAVE) ||
		    !cpu_feature_enabled(X86_FEATURE_OSXSAVE))
			return ckpt_err(ctx, -EOPNOTSUPP,
					"x86: XSAVE state, this machine does not use XSAVE");
		if (h->fpu_size < KCR_X86_XSAVE_MIN || h->fpu_size > max)
			return ckpt_err(ctx, -EINVAL,
					"x86: XSAVE area of %u bytes (from %zu to %u here)",
					h->fpu_size, KCR_X86_XSAVE_MIN, max);
		return kcr_x86_check_xsave(ctx, area, h->fpu_size);
	}
	return ckpt_err(ctx, -EINVAL, "x86: FPU state format %u",
			h->fpu_format);
}

void *kcr_arch_restore_cpu(struct ckpt_ctx *ctx)
{
	unsigned int max = kcr_x86_fpu_max();
	struct ckpt_hdr_cpu_x86 *h;
	struct kcr_x86_cpu *c = NULL;
	struct xregs_state *xs;
	size_t payload;
	u32 size;
	int ret;

	kcr_x86_check_layout();

	h = ckpt_read_obj_payload(ctx, sizeof(*h), CKPT_HDR_CPU_X86, max,
				  &payload);
	if (IS_ERR(h))
		return h;
	ret = kcr_x86_check_restarter(ctx);
	if (!ret)
		ret = kcr_x86_check_regs(ctx, h);
	if (!ret)
		ret = kcr_x86_check_fpu(ctx, h, payload, max);
	if (ret)
		goto out;

	size = max_t(u32, h->fpu_size, KCR_X86_XSAVE_MIN);
	c = kvzalloc(sizeof(*c) + size, GFP_KERNEL);
	if (!c) {
		ret = ckpt_err(ctx, -ENOMEM, "x86: no memory for registers");
		goto out;
	}
	memcpy(&c->regs, &h->r15, sizeof(c->regs));
	c->regs.orig_ax = kcr_x86_orig_ax(h);
	c->fpu_size = size;
	memcpy(c->fpu, h + 1, h->fpu_size);
	/*
	 * An FXSAVE area on an XSAVE machine: restorable as FP and SSE, as
	 * fpu_copy_guest_fpstate_to_uabi() makes it. Without XSAVE the
	 * header stays 0, which the FXSAVE path of
	 * fpu_copy_uabi_to_guest_fpstate() wants.
	 */
	if (h->fpu_format == CKPT_X86_FPU_FXSAVE &&
	    cpu_feature_enabled(X86_FEATURE_XSAVE)) {
		xs = (struct xregs_state *)c->fpu;
		xs->header.xfeatures = XFEATURE_MASK_FPSSE;
	}
out:
	ckpt_hdr_put(ctx, h);
	return ret ? ERR_PTR(ret) : c;
}

static int kcr_x86_load_fpu(struct kcr_x86_cpu *c)
{
	struct fpu *fpu = &current->thread.fpu;
	struct fpu_guest gfpu = { .fpstate = fpu->fpstate };
	u32 pkru = 0;
	int ret;

	/* Live registers to fpstate, TIF_NEED_FPU_LOAD set. */
	kernel_fpu_begin_mask(0);
	kernel_fpu_end();

	fpregs_lock();
	set_thread_flag(TIF_NEED_FPU_LOAD);
	/* __fpu_invalidate_fpregs_state(): reload even on this CPU. */
	fpu->last_cpu = -1;
	/* PKRU is 0 (its init value) if the area does not hold it. */
	ret = fpu_copy_uabi_to_guest_fpstate(&gfpu, c->fpu,
					     fpu->fpstate->user_xfeatures,
					     &pkru);
	if (!ret && cpu_feature_enabled(X86_FEATURE_OSPKE)) {
		current->thread.pkru = pkru;
		write_pkru(pkru);
	}
	fpregs_unlock();
	return ret;
}

/*
 * Without FSGSBASE, a selector above 3 takes its base from the
 * descriptor (load_seg_legacy() in arch/x86/kernel/process_64.c).
 */
static bool kcr_x86_base_applies(unsigned short sel)
{
	return cpu_feature_enabled(X86_FEATURE_FSGSBASE) || sel <= 3;
}

static void kcr_x86_load_segments(const struct user_regs_struct *r)
{
	struct thread_struct *t = &current->thread;
	unsigned short sel;

	preempt_disable();
	loadsegment(ds, r->ds);
	savesegment(ds, t->ds);
	loadsegment(es, r->es);
	savesegment(es, t->es);

	loadsegment(fs, r->fs);
	savesegment(fs, sel);
	t->fsindex = sel;
	if (kcr_x86_base_applies(sel))
		x86_fsbase_write_cpu(r->fs_base);
	t->fsbase = r->fs_base;

	load_gs_index(r->gs);
	savesegment(gs, sel);
	t->gsindex = sel;
	/* The user's GS base is the inactive one while in the kernel. */
	if (kcr_x86_base_applies(sel))
		wrmsrl(MSR_KERNEL_GS_BASE, r->gs_base);
	t->gsbase = r->gs_base;
	preempt_enable();
}

static void kcr_x86_load_pt_regs(const struct user_regs_struct *r)
{
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long flags = r->flags;

	regs->r15 = r->r15;
	regs->r14 = r->r14;
	regs->r13 = r->r13;
	regs->r12 = r->r12;
	regs->bp = r->bp;
	regs->bx = r->bx;
	regs->r11 = r->r11;
	regs->r10 = r->r10;
	regs->r9 = r->r9;
	regs->r8 = r->r8;
	regs->ax = r->ax;
	regs->cx = r->cx;
	regs->dx = r->dx;
	regs->si = r->si;
	regs->di = r->di;
	regs->orig_ax = r->orig_ax;
	regs->ip = r->ip;
	regs->cs = r->cs;
	regs->sp = r->sp;
	regs->ss = r->ss;

	/* set_flags() of ptrace.c: a debugger's TF stays hidden. */
	if (flags & X86_EFLAGS_TF)
		clear_thread_flag(TIF_FORCED_TF);
	else if (test_thread_flag(TIF_FORCED_TF))
		flags |= X86_EFLAGS_TF;
	regs->flags = (regs->flags & ~KCR_X86_FLAG_MASK) |
		      (flags & KCR_X86_FLAG_MASK);

#ifdef CONFIG_COMPAT
	/*
	 * These are 64-bit registers: a restart of their system call must
	 * not take the 32-bit paths (syscall_get_error(),
	 * get_nr_restart_syscall()) because the restarter came in through
	 * a compat system call.
	 */
	current_thread_info()->status &= ~(TS_COMPAT | TS_I386_REGS_POKED);
#endif
}

/*
 * What current has of the restarter and the image has not (checkpoint
 * refuses tasks that use them): TLS descriptors, cleared in
 * thread_struct and in this CPU's GDT (a context switch loads them from
 * there, load_TLS()), before the segment registers are loaded; and the
 * pkey allocation map of the mm, reset to that of a new mm
 * (init_new_context()): the restored mappings all have key 0.
 */
static void kcr_x86_reset_inherited(void)
{
	struct thread_struct *t = &current->thread;
	struct mm_struct *mm = current->mm;

	preempt_disable();
	memset(t->tls_array, 0, sizeof(t->tls_array));
	load_TLS(t, smp_processor_id());
	preempt_enable();
#ifdef CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS
	if (mm && cpu_feature_enabled(X86_FEATURE_OSPKE)) {
		mmap_write_lock(mm);
		mm->context.pkey_allocation_map = 0x1;
		mm->context.execute_only_pkey = -1;
		mmap_write_unlock(mm);
	}
#endif
}

int kcr_arch_load_cpu(void *state)
{
	struct kcr_x86_cpu *c = state;
	int ret;

	ret = kcr_x86_load_fpu(c);
	if (ret)
		return ret;
	kcr_x86_reset_inherited();
	kcr_x86_load_segments(&c->regs);
	kcr_x86_load_pt_regs(&c->regs);
	return 0;
}
