// SPDX-License-Identifier: GPL-2.0
/*
 * kcr: ppc64le CPU state, after linux-cr's arch/powerpc/kernel/checkpoint.c.
 *
 * Checkpoint writes CKPT_HDR_CPU_PPC64 from the ptrace regsets:
 *  - NT_PRFPREG: fpr[32] and fpscr;
 *  - NT_PPC_VMX (Altivec): vr[32], then the VSCR and VRSAVE quadwords;
 *  - NT_PPC_VSX: doubleword 1 of vs0-vs31;
 *  - NT_PRSTATUS: struct user_pt_regs, gpr[0] to result;
 *  - NT_PPC_PPR (pt_regs), NT_PPC_DSCR, NT_PPC_TAR (thread_struct).
 * The FP and vector get functions flush current's live registers into
 * thread_struct first (flush_fp_to_thread(), flush_altivec_to_thread(),
 * flush_vsx_to_thread() in arch/powerpc/kernel/process.c); a frozen task's
 * are there since __switch_to() called giveup_all(). VRSAVE, DSCR and TAR
 * are different: save_sprs() copies them into thread_struct only when the
 * task is switched out, so for current thread_struct has the values of
 * its last context switch and they are read from the SPRs instead.
 *
 * The FP and vector sets are read before the GPRs: giving up the FPU
 * clears MSR_FP/MSR_VEC/MSR_VSX in current's saved MSR, so the MSR of the
 * record says the same for current as for a task that was switched out.
 *
 * Not saved (no room in the record): the memory protection key registers
 * (NT_PPC_PKEY), EBB and PMU registers. A task inside a hardware
 * transaction is refused; Debian's kernel has no transactional memory.
 */
#include <linux/build_bug.h>
#include <linux/elf.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <asm/cpu_has_feature.h>
#include <asm/cputable.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/reg.h>

#include "../kcr.h"
#include "arch.h"

/* CR0.SO: the error flag of the sc system call convention. */
#define KCR_PPC_CR0_SO		0x10000000UL

/* Interrupt vectors of pt_regs.trap (TRAP() of asm/ptrace.h). */
#define KCR_PPC_TRAP_SC		0xc00
#define KCR_PPC_TRAP_SCV	0x3000

/* NT_PPC_VMX: 32 vector registers, then VSCR and VRSAVE in a quadword each. */
struct kcr_ppc_vmx {
	__vector128 vr[32];
	__vector128 vscr;
	__vector128 vrsave;
};

static void kcr_ppc_check_layout(void)
{
	/* gpr .. result are struct user_pt_regs. */
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_ppc64, fpr) -
		     offsetof(struct ckpt_hdr_cpu_ppc64, gpr) !=
		     sizeof(struct user_pt_regs));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_ppc64, nip) -
		     offsetof(struct ckpt_hdr_cpu_ppc64, gpr) !=
		     offsetof(struct user_pt_regs, nip));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_ppc64, trap) -
		     offsetof(struct ckpt_hdr_cpu_ppc64, gpr) !=
		     offsetof(struct user_pt_regs, trap));
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_ppc64, result) -
		     offsetof(struct ckpt_hdr_cpu_ppc64, gpr) !=
		     offsetof(struct user_pt_regs, result));
	/* NT_PRFPREG is fpr[32] and fpscr, in a row. */
	BUILD_BUG_ON(offsetof(struct ckpt_hdr_cpu_ppc64, fpscr) -
		     offsetof(struct ckpt_hdr_cpu_ppc64, fpr) != 32 * 8);
	BUILD_BUG_ON(ELF_NFPREG != 33);
	BUILD_BUG_ON(sizeof(struct kcr_ppc_vmx) != 34 * 16);
}

int kcr_arch_header(struct ckpt_ctx *ctx, struct ckpt_hdr_header_arch *h)
{
	h->xstate_size = 0;
	h->xfeatures = 0;
	h->cpu_caps = 0;
	if (cpu_has_feature(CPU_FTR_ALTIVEC))
		h->cpu_caps |= CKPT_PPC64_CAP_ALTIVEC;
	if (cpu_has_feature(CPU_FTR_VSX))
		h->cpu_caps |= CKPT_PPC64_CAP_VSX;
	/* ISA 2.07 (POWER8) brought user TAR, DSCR and PPR. */
	if (cpu_has_feature(CPU_FTR_ARCH_207S))
		h->cpu_caps |= CKPT_PPC64_CAP_ISA207;
	return 0;
}

/*
 * VSCR is bits 96-127 of the VSCR quadword, as stvx stores it from mfvscr
 * (save_altivec() in arch/powerpc/kernel/vector.S). stvx reverses the
 * quadword's bytes in little-endian mode, so that word is the first in
 * memory there and the last in big-endian mode (gdb's
 * ppc32_le_linux_vrregmap and ppc32_be_linux_vrregmap agree). VRSAVE is
 * always the first word of its quadword (vr_get()).
 */
static u32 kcr_ppc_vscr(const struct kcr_ppc_vmx *vmx)
{
	return IS_ENABLED(CONFIG_CPU_LITTLE_ENDIAN) ? vmx->vscr.u[0] :
						      vmx->vscr.u[3];
}

static int kcr_ppc_get_vmx(struct ckpt_ctx *ctx, struct task_struct *t,
			   const struct user_regset_view *view,
			   struct ckpt_hdr_cpu_ppc64 *h)
{
	struct kcr_ppc_vmx *vmx;
	int ret;

	/* Not on the stack: 544 bytes. */
	vmx = kmalloc(sizeof(*vmx), GFP_KERNEL);
	if (vmx)
		ret = kcr_arch_regset_get(t, view, NT_PPC_VMX, vmx,
					  sizeof(*vmx));
	else
		ret = -ENOMEM;
	if (ret) {
		ckpt_err(ctx, ret, "ppc64: cannot read the VMX registers");
		goto out;
	}
	BUILD_BUG_ON(sizeof(h->vr) != sizeof(vmx->vr));
	memcpy(h->vr, vmx->vr, sizeof(h->vr));
	h->vscr = kcr_ppc_vscr(vmx);
	h->vrsave = vmx->vrsave.u[0];
	/* vr_get() gives thread.vrsave, stale for current (see top). */
	if (t == current)
		h->vrsave = mfspr(SPRN_VRSAVE);
	h->flags |= CKPT_PPC64_CAP_ALTIVEC;
out:
	kfree(vmx);
	return ret;
}

static int kcr_ppc_get_spr(struct ckpt_ctx *ctx, struct task_struct *t,
			   const struct user_regset_view *view,
			   unsigned int note, u64 *val, const char *name)
{
	int ret = kcr_arch_regset_get(t, view, note, val, sizeof(*val));

	if (ret)
		return ckpt_err(ctx, ret, "ppc64: cannot read %s", name);
	return 0;
}

static int kcr_ppc_get_regs(struct ckpt_ctx *ctx, struct task_struct *t,
			    const struct user_regset_view *view,
			    struct ckpt_hdr_cpu_ppc64 *h)
{
	int ret;

	ret = kcr_arch_regset_get(t, view, NT_PRFPREG, h->fpr,
				  ELF_NFPREG * sizeof(u64));
	if (ret)
		return ckpt_err(ctx, ret, "ppc64: cannot read the FP registers");

	if (cpu_has_feature(CPU_FTR_ALTIVEC)) {
		ret = kcr_ppc_get_vmx(ctx, t, view, h);
		if (ret)
			return ret;
	}

	if (cpu_has_feature(CPU_FTR_VSX)) {
		ret = kcr_arch_regset_get(t, view, NT_PPC_VSX, h->vsx,
					  sizeof(h->vsx));
		if (ret)
			return ckpt_err(ctx, ret,
					"ppc64: cannot read the VSX registers");
		h->flags |= CKPT_PPC64_CAP_VSX;
	}

	if (cpu_has_feature(CPU_FTR_ARCH_207S)) {
		ret = kcr_ppc_get_spr(ctx, t, view, NT_PPC_PPR, &h->ppr, "PPR");
		if (!ret)
			ret = kcr_ppc_get_spr(ctx, t, view, NT_PPC_DSCR,
					      &h->dscr, "DSCR");
		if (!ret)
			ret = kcr_ppc_get_spr(ctx, t, view, NT_PPC_TAR,
					      &h->tar, "TAR");
		if (ret)
			return ret;
		/*
		 * thread.dscr and thread.tar are stale for current (see
		 * top); copy_thread() reads the DSCR of the parent from the
		 * SPR as well. The system call entry does not save PPR in
		 * pt_regs, and its exit sets the default priority
		 * (HMT_MEDIUM_LOW in interrupt_64.S), as copy_thread() does
		 * for a child (childregs->ppr = DEFAULT_PPR): that is the
		 * PPR the ioctl returns with.
		 */
		if (t == current) {
			if (cpu_has_feature(CPU_FTR_DSCR))
				h->dscr = mfspr(SPRN_DSCR);
			h->tar = mfspr(SPRN_TAR);
			h->ppr = DEFAULT_PPR;
		}
		h->flags |= CKPT_PPC64_CAP_ISA207;
	}

	ret = kcr_arch_regset_get(t, view, NT_PRSTATUS, h->gpr,
				  sizeof(struct user_pt_regs));
	if (ret)
		return ckpt_err(ctx, ret,
				"ppc64: cannot read the general registers");
	return 0;
}

/*
 * Self checkpoint, inside the CHECKPOINT ioctl: make the record the
 * return of that ioctl with 0, as a fork child sees it. The child leaves
 * through ret_from_fork (sc) or ret_from_fork_scv (scv) with r3 = 0 and
 * the system call exit path of arch/powerpc/kernel/interrupt_64.S, which
 * the register values below follow so that a restart that restores every
 * register shows the task what a plain system call return would have.
 * The pt_regs of a system call hold (system_call_common and
 * system_call_vectored in interrupt_64.S): nip = the instruction after
 * sc/scv, r0 = the system call number, r3-r8 = the arguments, r9-r12, ctr
 * and xer = 0, ccr with CR0.SO cleared, trap = 0xc00 or 0x3000.
 */
static void kcr_ppc_self(struct ckpt_hdr_cpu_ppc64 *h)
{
	int i;

	/* The result; regs->result is set to it by syscall_exit_prepare(). */
	h->gpr[3] = 0;
	h->result = 0;

	if ((h->trap & ~0xfUL) == KCR_PPC_TRAP_SCV) {
		/*
		 * scv: the exit restores r0 and r4-r8, zeroes r9-r12 and
		 * returns with rfscv to LR, which thus holds nip. ctr and
		 * xer are volatile in the scv ABI (the exit clobbers them):
		 * they keep the zeroes of pt_regs.
		 */
		for (i = 9; i <= 12; i++)
			h->gpr[i] = 0;
		h->link = h->nip;
	} else {
		/*
		 * sc: a successful return zeroes r0 and r4-r12, ctr and xer
		 * (ZEROIZE_GPRS(4, 12), mtctr/mtspr XER); an error would
		 * set CR0.SO, which the entry cleared in the saved ccr.
		 */
		h->gpr[0] = 0;
		for (i = 4; i <= 12; i++)
			h->gpr[i] = 0;
		h->ctr = 0;
		h->xer = 0;
		h->ccr &= ~KCR_PPC_CR0_SO;
	}

	/*
	 * Not a system call to restart: check_syscall_restart() in
	 * arch/powerpc/kernel/signal.c skips a trap with the norestart flag
	 * (bit 0, set_trap_norestart(), which sigreturn sets too in
	 * signal_64.c). trap keeps saying sc or scv: a restart needs to know
	 * which return convention the task's code expects.
	 */
	h->trap |= 0x1;
}

int kcr_arch_checkpoint_cpu(struct ckpt_ctx *ctx, struct task_struct *t)
{
	const struct user_regset_view *view = task_user_regset_view(t);
	const struct user_regset *gp;
	struct ckpt_hdr_cpu_ppc64 *h;
	int ret;

	kcr_ppc_check_layout();

	/* A 32-bit task gets the 32-bit view, whose registers do not fit. */
	gp = kcr_arch_regset(view, NT_PRSTATUS);
	if (!gp || kcr_arch_regset_size(gp) != ELF_NGREG * sizeof(u64))
		return ckpt_err(ctx, -EOPNOTSUPP,
				"ppc64: not a 64-bit task: cannot checkpoint it");
	if (!t->thread.regs)
		return ckpt_err(ctx, -EINVAL, "ppc64: task has no user registers");
	/*
	 * Transactional state (the checkpointed registers, TEXASR, ...)
	 * has no room in the record.
	 */
	if (MSR_TM_ACTIVE(t->thread.regs->msr))
		return ckpt_err(ctx, -EBUSY,
				"ppc64: task is inside a hardware transaction");

	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_CPU_PPC64);
	if (!h)
		return ckpt_err(ctx, -ENOMEM, "ppc64: no memory for registers");

	ret = kcr_ppc_get_regs(ctx, t, view, h);
	if (ret)
		goto out;

	if (t == current)
		kcr_ppc_self(h);

	ret = ckpt_write_obj(ctx, &h->h);
	if (ret)
		ckpt_err(ctx, ret, "ppc64: cannot write the registers");
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
