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
 * The FPU/vector get functions store current's live registers into its
 * save area first (thread.fpu in 6.1, thread.ufpu in 6.12; see
 * compat.h); a frozen task's are there since it was switched out.
 *
 * 31-bit (compat) tasks, and tasks that use guarded storage or runtime
 * instrumentation (state the record has no room for), are refused rather
 * than checkpointed without that state.
 */
#include <linux/build_bug.h>
#include <linux/elf.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <asm/ptrace.h>

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
	 * The vector facility as the kernel uses it: a task may hold state
	 * in v16-v31 and in the low halves of v0-v15 only then.
	 */
	h->cpu_caps = kcr_s390_has_vx() ? CKPT_S390_CAP_VX : 0;
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

/*
 * syscall_get_nr() of arch/s390/include/asm/syscall.h answers "none" with
 * -1 converted to the unsigned int of int_code, which is 4294967295 as
 * its long: not negative. The svc number is the low 16 bits of int_code
 * (__do_syscall() puts r1's number there for svc 0), valid while
 * PIF_SYSCALL is set.
 */
int kcr_arch_syscall_nr(struct task_struct *t)
{
	u32 sc = kcr_s390_system_call(t);

	return sc ? sc & 0xffff : -1;
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

	if (!kcr_s390_has_vx())
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
	h->restart_addr = t->restart_block.arch_data;

	ret = ckpt_write_obj(ctx, &h->h);
	if (ret)
		ckpt_err(ctx, ret, "s390: cannot write the registers");
out:
	ckpt_hdr_put(ctx, h);
	return ret;
}

/*
 * Restart. The image must not need the vector facility when this machine
 * does not have it (or the kernel does not use it: novx).
 */
int kcr_arch_restore_header(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_header_arch *h)
{
	if (h->xstate_size || h->xfeatures)
		return ckpt_err(ctx, -EINVAL,
				"s390: arch header: xstate size %u features %#llx",
				h->xstate_size, h->xfeatures);
	if (h->cpu_caps & ~(u64)CKPT_S390_CAP_VX)
		return ckpt_err(ctx, -EINVAL, "s390: arch header: caps %#llx",
				h->cpu_caps);
	if ((h->cpu_caps & CKPT_S390_CAP_VX) && !kcr_s390_has_vx())
		return ckpt_err(ctx, -EOPNOTSUPP,
				"s390: the image needs the vector facility, which this machine does not have or use");
	return 0;
}

/* The instruction lengths of an svc: svc itself, EX and EXRL of it. */
static bool kcr_s390_valid_ilc(u32 ilc)
{
	return ilc == 2 || ilc == 4 || ilc == 6;
}

/*
 * The checks of __poke_user() in arch/s390/kernel/ptrace.c for a PSW
 * that ptrace may set: only the PSW_MASK_USER bits may differ from
 * PSW_USER_BITS (problem state, DAT on, primary space, interrupts
 * enabled), no home-space mode; and, as 31-bit tasks are not
 * checkpointed, 64-bit addressing. The runtime-instrumentation bit is
 * refused: checkpoint refuses tasks that use it.
 */
static int kcr_s390_check_psw(struct ckpt_ctx *ctx,
			      const struct ckpt_hdr_cpu_s390 *h)
{
	u64 mask = h->psw_mask;

	if ((mask ^ PSW_USER_BITS) & ~PSW_MASK_USER)
		return ckpt_err(ctx, -EINVAL,
				"s390: PSW mask %#llx is not a user PSW",
				mask);
	if ((mask & PSW_MASK_ASC) == PSW_ASC_HOME)
		return ckpt_err(ctx, -EINVAL,
				"s390: PSW mask %#llx: home space mode", mask);
	if ((mask & (PSW_MASK_EA | PSW_MASK_BA)) !=
	    (PSW_MASK_EA | PSW_MASK_BA))
		return ckpt_err(ctx, -EINVAL,
				"s390: PSW mask %#llx: not 64-bit addressing",
				mask);
	if (h->psw_addr & 1)
		return ckpt_err(ctx, -EINVAL, "s390: PSW address %#llx is odd",
				h->psw_addr);
	return 0;
}

static int kcr_s390_check_fp(struct ckpt_ctx *ctx,
			     const struct ckpt_hdr_cpu_s390 *h)
{
	static const u64 zero[2];
	int i;

	if (kcr_s390_test_fpc(h->fpc))
		return ckpt_err(ctx, -EINVAL,
				"s390: invalid floating-point control %#x",
				h->fpc);
	for (i = 0; i < __NUM_VXRS; i++) {
		/* Without VX the record has no vector registers. */
		if (!(h->flags & CKPT_S390_CAP_VX)) {
			if (memcmp(h->vxrs[i], zero, sizeof(zero)))
				return ckpt_err(ctx, -EINVAL,
						"s390: vector register %d without the vector facility",
						i);
		} else if (i < __NUM_FPRS && h->vxrs[i][0] != h->fprs[i]) {
			/* Both copies of the fprs were written. */
			return ckpt_err(ctx, -EINVAL,
					"s390: fpr %d differs from vector register %d",
					i, i);
		}
	}
	return 0;
}

void *kcr_arch_restore_cpu(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_cpu_s390 *h, *state = NULL;
	u32 ilc = 0;
	int i, ret;

	kcr_s390_check_layout();

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_CPU_S390);
	if (IS_ERR(h))
		return h;

	ret = kcr_s390_check_psw(ctx, h);
	if (ret)
		goto out;
	if (h->flags & ~(u32)CKPT_S390_CAP_VX) {
		ret = ckpt_err(ctx, -EINVAL, "s390: register flags %#x",
			       h->flags);
		goto out;
	}
	if ((h->flags & CKPT_S390_CAP_VX) && !kcr_s390_has_vx()) {
		ret = ckpt_err(ctx, -EOPNOTSUPP,
			       "s390: the task's vector registers need the vector facility");
		goto out;
	}
	ret = kcr_s390_check_fp(ctx, h);
	if (ret)
		goto out;
	/* int_code: the instruction length, then the svc number. */
	if (h->system_call) {
		ilc = h->system_call >> 16;
		if (!kcr_s390_valid_ilc(ilc)) {
			ret = ckpt_err(ctx, -EINVAL,
				       "s390: system call %#x: instruction length %u",
				       h->system_call, ilc);
			goto out;
		}
	}
	if (h->__pad) {
		ret = ckpt_err(ctx, -EINVAL, "s390: register padding %#x",
			       h->__pad);
		goto out;
	}
	/*
	 * do_syscall() in arch/s390/kernel/syscall.c jumps to an even
	 * arch_data on sys_restart_syscall and sets it to 1 after; only
	 * the signal code stores an address there (a PSW address: even).
	 */
	if (h->restart_addr != 1 && (h->restart_addr & 1)) {
		ret = ckpt_err(ctx, -EINVAL,
			       "s390: restart block address %#llx is odd",
			       h->restart_addr);
		goto out;
	}

	/*
	 * Without VX the record's vxrs are zero (kcr_s390_check_fp()):
	 * the fprs go in their leftmost doublewords, where a machine with
	 * VX, and 6.12's save area always, keep them, so that loading
	 * takes the vxrs alone.
	 */
	if (!(h->flags & CKPT_S390_CAP_VX))
		for (i = 0; i < __NUM_FPRS; i++)
			h->vxrs[i][0] = h->fprs[i];

	state = kvmalloc(sizeof(*state), GFP_KERNEL);
	if (state)
		memcpy(state, h, sizeof(*state));
	else
		ret = ckpt_err(ctx, -ENOMEM, "s390: no memory for registers");
out:
	ckpt_hdr_put(ctx, h);
	return ret ? ERR_PTR(ret) : state;
}

/*
 * Load the registers into current, on its way to user mode from a
 * task_work: arch_do_signal_or_restart() -> get_signal() ran it, after
 * the ioctl or the fork child's exit wrote gprs[2]. As in sys_sigreturn
 * (arch/s390/kernel/signal.c: store_sigregs(), restore_sigregs(),
 * restore_sigregs_ext(), load_sigregs()):
 *  - the FPU/vector registers go to the save area that the exit to
 *    user mode loads (kcr_s390_load_user_fpu() in compat.h);
 *  - the access registers are live, thread.acrs only holds them while
 *    the task is switched out: both are written (restore_access_regs);
 *  - psw, gprs and orig_gpr2 are pt_regs, which the exit loads whole.
 * The system call state: arch_do_signal_or_restart() took
 * thread.system_call from PIF_SYSCALL and int_code before get_signal(),
 * and decides about a restart (-ERESTART* in gprs[2]) from it after:
 * it is set here to what checkpoint saw, with int_code and PIF_SYSCALL
 * to match.
 */
int kcr_arch_load_cpu(void *state)
{
	const struct ckpt_hdr_cpu_s390 *h = state;
	struct pt_regs *regs = task_pt_regs(current);

	/* kcr_arch_restore_cpu() put the fprs into the vxrs. */
	kcr_s390_load_user_fpu(h->fpc, h->vxrs);

	BUILD_BUG_ON(sizeof(current->thread.acrs) != sizeof(h->acrs));
	memcpy(current->thread.acrs, h->acrs, sizeof(current->thread.acrs));
	restore_access_regs(current->thread.acrs);

	/* The PER bit and the rest of the mask are the kernel's. */
	regs->psw.mask = PSW_USER_BITS | (h->psw_mask & PSW_MASK_USER);
	regs->psw.addr = h->psw_addr;
	BUILD_BUG_ON(sizeof(regs->gprs) != sizeof(h->gprs));
	memcpy(regs->gprs, h->gprs, sizeof(regs->gprs));
	regs->orig_gpr2 = h->orig_gpr2;

	clear_pt_regs_flag(regs, PIF_SYSCALL_RET_SET);
	if (h->system_call) {
		regs->int_code = h->system_call;
		set_pt_regs_flag(regs, PIF_SYSCALL);
	} else {
		clear_pt_regs_flag(regs, PIF_SYSCALL);
	}
	current->thread.system_call = h->system_call;
	/*
	 * After restore_restart_block(), which rebuilt the restart block
	 * from zeroes: an arch_data of 0 would send the next
	 * restart_syscall to address 0.
	 */
	current->restart_block.arch_data = h->restart_addr;
	return 0;
}
