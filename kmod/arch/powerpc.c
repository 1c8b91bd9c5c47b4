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
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pkeys.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include <asm/cpu_has_feature.h>
#include <asm/cputable.h>
#include <asm/hw_irq.h>
#include <asm/processor.h>
#include <asm/ptrace.h>
#include <asm/reg.h>
#include <asm/switch_to.h>
#include <asm/syscall.h>
#include <asm/thread_info.h>

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

/*
 * syscall_get_nr() of arch/powerpc/include/asm/syscall.h is r0 as an int
 * when trap says sc or scv, else -1 (an interrupt stopped user mode).
 * A negative r0 is no system call either: system_call_exception()
 * refuses every number from NR_syscalls up, as unsigned.
 */
int kcr_arch_syscall_nr(struct task_struct *t)
{
	int nr = syscall_get_nr(t, task_pt_regs(t));

	return nr < 0 ? -1 : nr;
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

/*
 * Memory protection keys (hash MMU only; a radix MMU has none): the
 * image has no record for the key registers (AMR, IAMR) nor for the
 * VMAs' keys, so a task that changed its key permissions or a mapping
 * with a key of its own (pkey_mprotect(), or the execute-only key of an
 * mprotect(PROT_EXEC)) cannot be checkpointed: a restart would give it
 * the restarter's registers and key 0 everywhere.
 */
static int kcr_ppc_check_pkeys(struct ckpt_ctx *ctx, struct task_struct *t)
{
#ifdef CONFIG_PPC_MEM_KEYS
	struct vma_iterator vmi = { };
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	int ret = 0;

	if (!mmu_has_feature(MMU_FTR_PKEY))
		return 0;
	if (t->thread.regs->amr != default_amr)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"ppc64: memory protection key permissions are set (AMR %#lx, default %#llx): not supported",
				t->thread.regs->amr, default_amr);
	mm = get_task_mm(t);
	if (!mm)
		return 0;
	ret = mmap_read_lock_killable(mm);
	if (!ret) {
		vma_iter_init(&vmi, mm, 0);
		for_each_vma(vmi, vma) {
			if (!vma_pkey(vma))
				continue;
			ret = ckpt_err(ctx, -EOPNOTSUPP,
				       "ppc64: mapping %#lx-%#lx has memory protection key %d: not supported",
				       vma->vm_start, vma->vm_end,
				       vma_pkey(vma));
			break;
		}
		mmap_read_unlock(mm);
	}
	mmput(mm);
	return ret;
#else
	return 0;
#endif
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
	ret = kcr_ppc_check_pkeys(ctx, t);
	if (ret)
		return ret;

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

/* Restart */

#define KCR_PPC_CAPS	(CKPT_PPC64_CAP_ALTIVEC | CKPT_PPC64_CAP_VSX | \
			 CKPT_PPC64_CAP_ISA207)

/* The register sets of caps that this CPU lacks, 0 if none. */
static u64 kcr_ppc_missing(u64 caps)
{
	u64 missing = 0;

	if ((caps & CKPT_PPC64_CAP_ALTIVEC) &&
	    !(IS_ENABLED(CONFIG_ALTIVEC) && cpu_has_feature(CPU_FTR_ALTIVEC)))
		missing |= CKPT_PPC64_CAP_ALTIVEC;
	if ((caps & CKPT_PPC64_CAP_VSX) &&
	    !(IS_ENABLED(CONFIG_VSX) && cpu_has_feature(CPU_FTR_VSX)))
		missing |= CKPT_PPC64_CAP_VSX;
	if ((caps & CKPT_PPC64_CAP_ISA207) &&
	    !cpu_has_feature(CPU_FTR_ARCH_207S))
		missing |= CKPT_PPC64_CAP_ISA207;
	return missing;
}

static const char *kcr_ppc_cap_name(u64 cap)
{
	if (cap & CKPT_PPC64_CAP_ALTIVEC)
		return "Altivec (VMX)";
	if (cap & CKPT_PPC64_CAP_VSX)
		return "VSX";
	return "ISA 2.07 (POWER8) registers";
}

int kcr_arch_restore_header(struct ckpt_ctx *ctx,
			    const struct ckpt_hdr_header_arch *h)
{
	u64 missing;

	if (h->xstate_size || h->xfeatures)
		return ckpt_err(ctx, -EINVAL,
				"ppc64: arch header: xstate size %u features %#llx",
				h->xstate_size, h->xfeatures);
	if (h->cpu_caps & ~(u64)KCR_PPC_CAPS)
		return ckpt_err(ctx, -EINVAL, "ppc64: arch header: caps %#llx",
				h->cpu_caps);
	missing = kcr_ppc_missing(h->cpu_caps);
	if (missing)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"ppc64: the image needs %s, which this CPU does not have",
				kcr_ppc_cap_name(missing));
	return 0;
}

/*
 * The MSR a restored task returns with: the kernel's user MSR
 * (start_thread() uses MSR_USER64), without MSR_HV when the kernel does
 * not run in hypervisor mode (a guest's user MSR has it clear), and its
 * endianness (MSR_LE is set by prctl(PR_SET_ENDIAN)).
 */
static unsigned long kcr_ppc_user_msr(void)
{
	unsigned long msr = MSR_USER64 & ~MSR_LE;

	if (!cpu_has_feature(CPU_FTR_HVMODE))
		msr &= ~MSR_HV;
	return msr;
}

/*
 * MSR bits a user task may have besides kcr_ppc_user_msr(): its
 * endianness, the floating-point exception mode (prctl(PR_SET_FPEXC),
 * get_user_msr() ORs thread.fpexc_mode in), the lazy FP/VMX/VSX
 * availability bits, and the trace bits that ptrace sets
 * (MSR_DEBUGCHANGE; a restored task is not traced: not restored).
 */
#define KCR_PPC_MSR_OPTIONAL	(MSR_LE | MSR_FE0 | MSR_FE1 | MSR_FP | \
				 MSR_VEC | MSR_VSX | MSR_SE | MSR_BE)

static int kcr_ppc_check_msr(struct ckpt_ctx *ctx,
			     const struct ckpt_hdr_cpu_ppc64 *h)
{
	unsigned long need = kcr_ppc_user_msr();

	if ((h->msr & need) != need ||
	    (h->msr & ~(need | KCR_PPC_MSR_OPTIONAL)))
		return ckpt_err(ctx, -EINVAL,
				"ppc64: MSR %#llx is not that of a 64-bit user task (%#lx, optionally %#lx)",
				h->msr, need, (unsigned long)KCR_PPC_MSR_OPTIONAL);
	if (((h->msr & MSR_VEC) && !(h->flags & CKPT_PPC64_CAP_ALTIVEC)) ||
	    ((h->msr & MSR_VSX) && !(h->flags & CKPT_PPC64_CAP_VSX)))
		return ckpt_err(ctx, -EINVAL,
				"ppc64: MSR %#llx uses registers that the record does not have (flags %#x)",
				h->msr, h->flags);
	return 0;
}

static bool kcr_ppc_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* VSCR: non-Java mode and saturation are its only bits. */
#define KCR_PPC_VSCR_BITS	0x00010001U
/* FPSCR: the decimal rounding mode (bits 29-31) is its upper word. */
#define KCR_PPC_FPSCR_BITS	0x00000007ffffffffULL
/* DSCR: bits 39-63 (ISA 2.07). */
#define KCR_PPC_DSCR_BITS	0x0000000001ffffffULL
/* PPR: the thread priority, bits 11-13. */
#define KCR_PPC_PPR_BITS	(7ULL << 50)
/*
 * The highest priority problem state can set: medium (or 2,2,2 or
 * mtspr PPR; medium high and high are privileged, very high is the
 * hypervisor's). The exit to user mode loads regs->ppr with a privileged
 * mtspr, so a higher value from the image would be granted.
 */
#define KCR_PPC_PPR_USER_MAX	(4ULL << 50)

static int kcr_ppc_check_sets(struct ckpt_ctx *ctx,
			      const struct ckpt_hdr_cpu_ppc64 *h)
{
	u64 missing;

	if (h->flags & ~(u32)KCR_PPC_CAPS)
		return ckpt_err(ctx, -EINVAL, "ppc64: register flags %#x",
				h->flags);
	missing = kcr_ppc_missing(h->flags);
	if (missing)
		return ckpt_err(ctx, -EOPNOTSUPP,
				"ppc64: the task's registers need %s, which this CPU does not have",
				kcr_ppc_cap_name(missing));
	if ((h->flags & CKPT_PPC64_CAP_VSX) &&
	    !(h->flags & CKPT_PPC64_CAP_ALTIVEC))
		return ckpt_err(ctx, -EINVAL,
				"ppc64: VSX registers without VMX registers");
	if (h->fpscr & ~KCR_PPC_FPSCR_BITS)
		return ckpt_err(ctx, -EINVAL, "ppc64: FPSCR %#llx", h->fpscr);

	/* A set that the record does not have is zero. */
	if (h->flags & CKPT_PPC64_CAP_ALTIVEC) {
		if (h->vscr & ~KCR_PPC_VSCR_BITS)
			return ckpt_err(ctx, -EINVAL, "ppc64: VSCR %#x",
					h->vscr);
	} else if (!kcr_ppc_zero(h->vr, sizeof(h->vr)) || h->vscr ||
		   h->vrsave) {
		return ckpt_err(ctx, -EINVAL,
				"ppc64: VMX registers without the VMX flag");
	}
	if (!(h->flags & CKPT_PPC64_CAP_VSX) &&
	    !kcr_ppc_zero(h->vsx, sizeof(h->vsx)))
		return ckpt_err(ctx, -EINVAL,
				"ppc64: VSX registers without the VSX flag");
	if (h->flags & CKPT_PPC64_CAP_ISA207) {
		if (h->dscr & ~KCR_PPC_DSCR_BITS)
			return ckpt_err(ctx, -EINVAL, "ppc64: DSCR %#llx",
					h->dscr);
		if ((h->ppr & ~KCR_PPC_PPR_BITS) ||
		    h->ppr > KCR_PPC_PPR_USER_MAX)
			return ckpt_err(ctx, -EINVAL,
					"ppc64: PPR %#llx: priority %llu, user mode may set at most %llu",
					h->ppr, h->ppr >> 50 & 7,
					KCR_PPC_PPR_USER_MAX >> 50);
	} else if (h->ppr || h->dscr || h->tar) {
		return ckpt_err(ctx, -EINVAL,
				"ppc64: POWER8 registers without their flag");
	}
	return 0;
}

static int kcr_ppc_check_regs(struct ckpt_ctx *ctx,
			      const struct ckpt_hdr_cpu_ppc64 *h)
{
	u64 vector = h->trap & ~(u64)TRAP_FLAGS_MASK;

	if ((h->nip & 3) || h->nip >= TASK_SIZE_USER64)
		return ckpt_err(ctx, -EINVAL,
				"ppc64: nip %#llx is not a user instruction address",
				h->nip);
	/* CR and the defined XER fields are 32 bits; DSISR too. */
	if (h->ccr >> 32 || h->xer >> 32 || h->dsisr >> 32)
		return ckpt_err(ctx, -EINVAL,
				"ppc64: cr %#llx xer %#llx dsisr %#llx: more than 32 bits",
				h->ccr, h->xer, h->dsisr);
	/*
	 * The interrupt the task entered the kernel with: a vector (0x10
	 * aligned, at most the 0x7ff0 of an unsupported scv) and the
	 * norestart flag. 0 is a kernel thread's.
	 */
	if (!vector || vector > 0x7ff0 || (vector & 0xf))
		return ckpt_err(ctx, -EINVAL, "ppc64: trap %#llx", h->trap);
	/*
	 * The soft interrupt mask that pt_regs.softe saved: user mode
	 * always runs with interrupts enabled, so the value is not loaded,
	 * but it must be one of the kernel's masks.
	 */
	if (h->softe > IRQS_ALL_DISABLED)
		return ckpt_err(ctx, -EINVAL, "ppc64: softe %#llx", h->softe);
	if (h->__pad)
		return ckpt_err(ctx, -EINVAL, "ppc64: register padding %#x",
				h->__pad);
	return 0;
}

void *kcr_arch_restore_cpu(struct ckpt_ctx *ctx)
{
	struct ckpt_hdr_cpu_ppc64 *h, *state = NULL;
	int ret;

	kcr_ppc_check_layout();

	h = ckpt_read_obj_type(ctx, sizeof(*h), CKPT_HDR_CPU_PPC64);
	if (IS_ERR(h))
		return h;
	ret = kcr_ppc_check_sets(ctx, h);
	if (!ret)
		ret = kcr_ppc_check_msr(ctx, h);
	if (!ret)
		ret = kcr_ppc_check_regs(ctx, h);
	if (ret)
		goto out;
	state = kvmalloc(sizeof(*state), GFP_KERNEL);
	if (state)
		memcpy(state, h, sizeof(*state));
	else
		ret = ckpt_err(ctx, -ENOMEM, "ppc64: no memory for registers");
out:
	ckpt_hdr_put(ctx, h);
	return ret ? ERR_PTR(ret) : state;
}

/*
 * The coordinator's child is made by kernel_clone() with a function:
 * copy_thread() zeroed its pt_regs at the top of the stack. 6.1 makes it
 * a kernel thread there and leaves thread.regs NULL ("no user register
 * state"), which the signal code, the FP/VMX flush functions and ptrace
 * need: it is pointed at them, as arch_setup_new_exec() does when a
 * kernel thread execs. 6.12 makes a user thread that runs a function
 * first (ret_from_kernel_user_thread) and sets thread.regs itself.
 */
static struct pt_regs *kcr_ppc_user_regs(void)
{
	struct pt_regs *regs = current->thread.regs;

	if (!regs) {
		regs = current_pt_regs();
		current->thread.regs = regs;
	}
	return regs;
}

/*
 * The memory protection key registers of the child (not in the image)
 * are the restarter's, as for a fork child, rather than the zeroes of its
 * pt_regs, which the exit to user mode would load (kuap_user_restore()).
 */
static void kcr_ppc_inherit_keys(struct pt_regs *regs)
{
#ifdef CONFIG_PPC_PKEY
	struct task_struct *parent;

	rcu_read_lock();
	parent = rcu_dereference(current->real_parent);
	if (parent->thread.regs) {
		regs->amr = parent->thread.regs->amr;
		regs->iamr = parent->thread.regs->iamr;
	}
	rcu_read_unlock();
#endif
}

/*
 * The restored task's start (KCR_RESTART_CHILD_FN in kcr.h). kernel_clone()
 * with a function makes a task that starts in ret_from_kernel_thread
 * (6.12: ret_from_kernel_user_thread), which calls the function at
 * ppc_function_entry(), which skips an ELF ABI v2 global entry sequence
 * (addis r2,r12 / addi r2,r2): a module function would then run with the
 * kernel's TOC in r2. This entry does not start with that sequence, so
 * it is called at its address with r12 holding it; it sets the module's
 * TOC from r12, calls kcr_ppc_restart_child() and gives the kernel's TOC
 * back to its caller, which goes on into the system call exit without
 * reloading r2.
 */
asm(".pushsection .text\n"
	".balign 4\n"
	".globl kcr_ppc_restart_child_entry\n"
	".type kcr_ppc_restart_child_entry, @function\n"
	"kcr_ppc_restart_child_entry:\n"
	"	nop\n"
	"	addis 11,12,(.TOC.-kcr_ppc_restart_child_entry)@ha\n"
	"	addi 11,11,(.TOC.-kcr_ppc_restart_child_entry)@l\n"
	"	mflr 0\n"
	"	std 0,16(1)\n"
	"	stdu 1,-48(1)\n"
	"	std 2,32(1)\n"
	"	mr 2,11\n"
	"	bl kcr_ppc_restart_child\n"
	"	nop\n"
	"	ld 2,32(1)\n"
	"	addi 1,1,48\n"
	"	ld 0,16(1)\n"
	"	mtlr 0\n"
	"	blr\n"
	".size kcr_ppc_restart_child_entry, .-kcr_ppc_restart_child_entry\n"
	".popsection");

/*
 * Called from kcr_ppc_restart_child_entry with the module's TOC. In 6.1
 * the task has no user register state yet (thread.regs NULL), but it
 * leaves through the system call exit, and do_notify_resume() BUG()s
 * unless thread.regs is the frame it exits with, even for a task that
 * only dies of the SIGKILL of a failed restart: set it before anything
 * else.
 */
static int __used kcr_ppc_restart_child(void *arg)
{
	kcr_ppc_inherit_keys(kcr_ppc_user_regs());
	return kcr_restart_child(arg);
}

/*
 * FP, VMX and VSX: as restore_sigcontext() in
 * arch/powerpc/kernel/signal_64.c does for current, the live registers
 * are given up to thread_struct first (which clears MSR_FP/VEC/VSX in
 * regs->msr), then thread_struct is written; the registers are loaded
 * from there lazily, by restore_math() on the way out or on first use.
 * VRSAVE, DSCR and TAR are SPRs that thread_struct only holds while the
 * task is switched out (save_sprs()): for current they are written to
 * the SPR and to thread_struct, with preemption off so that a switch
 * does not save the old value over the new one.
 */
static void kcr_ppc_load_math(const struct ckpt_hdr_cpu_ppc64 *h)
{
	struct thread_struct *t = &current->thread;
	int i;

	flush_fp_to_thread(current);
	if (cpu_has_feature(CPU_FTR_ALTIVEC))
		flush_altivec_to_thread(current);
	if (cpu_has_feature(CPU_FTR_VSX))
		flush_vsx_to_thread(current);

	for (i = 0; i < 32; i++)
		t->TS_FPR(i) = h->fpr[i];
	t->fp_state.fpscr = h->fpscr;
	/* The exception mode is applied to the MSR with MSR_FP. */
	t->fpexc_mode = h->msr & (MSR_FE0 | MSR_FE1);
#ifdef CONFIG_VSX
	if (cpu_has_feature(CPU_FTR_VSX)) {
		for (i = 0; i < 32; i++)
			t->fp_state.fpr[i][TS_VSRLOWOFFSET] = h->vsx[i];
		/* Signal frames carry the VSX halves only then. */
		t->used_vsr = !!(h->flags & CKPT_PPC64_CAP_VSX);
	}
#endif
#ifdef CONFIG_ALTIVEC
	if (cpu_has_feature(CPU_FTR_ALTIVEC)) {
		BUILD_BUG_ON(sizeof(t->vr_state.vr) != sizeof(h->vr));
		memcpy(t->vr_state.vr, h->vr, sizeof(t->vr_state.vr));
		/* The word of VSCR as kcr_ppc_vscr() read it. */
		memset(&t->vr_state.vscr, 0, sizeof(t->vr_state.vscr));
		t->vr_state.vscr.u[IS_ENABLED(CONFIG_CPU_LITTLE_ENDIAN) ? 0 : 3] =
			h->vscr;
		t->used_vr = !!(h->flags & CKPT_PPC64_CAP_ALTIVEC);
		preempt_disable();
		t->vrsave = h->vrsave;
		mtspr(SPRN_VRSAVE, h->vrsave);
		preempt_enable();
	}
#endif
	if (h->flags & CKPT_PPC64_CAP_ISA207) {
		preempt_disable();
		/*
		 * A task that never wrote DSCR runs with the CPU's default
		 * (dscr_inherit 0): keep it so unless the value differs.
		 */
		if (cpu_has_feature(CPU_FTR_DSCR) &&
		    h->dscr != mfspr(SPRN_DSCR)) {
			t->dscr = h->dscr;
			t->dscr_inherit = 1;
			mtspr(SPRN_DSCR, h->dscr);
		}
		t->tar = h->tar;
		mtspr(SPRN_TAR, h->tar);
		preempt_enable();
	}
}

/*
 * Load the registers into current, from a task_work on its way to user
 * mode: do_notify_resume() -> do_signal() -> get_signal() ran it, inside
 * interrupt_exit_user_prepare_main() after syscall_exit_prepare() stored
 * the ioctl's or the fork child's return value. That loop saw the
 * TIF_SIGPENDING that restart.c set and added _TIF_RESTOREALL to the
 * result, so the exit restores every GPR, CTR and XER from pt_regs (the
 * .Lsyscall_restore_regs path of interrupt_64.S), not only r1-r3 and r13.
 * TIF_RESTOREALL itself is not set: it would be consumed by the next
 * system call's exit, which would then not store its result.
 * After get_signal(), do_signal() sees the restored trap, ccr and gpr3:
 * check_syscall_restart() restarts an interrupted system call as usual.
 */
int kcr_arch_load_cpu(void *state)
{
	const struct ckpt_hdr_cpu_ppc64 *h = state;
	struct pt_regs *regs = kcr_ppc_user_regs();

	kcr_ppc_load_math(h);

	BUILD_BUG_ON(sizeof(regs->gpr) != sizeof(h->gpr));
	memcpy(regs->gpr, h->gpr, sizeof(regs->gpr));
	/* These invalidate the SRR0/1 that the exit would otherwise reuse. */
	regs_set_return_ip(regs, h->nip);
	regs_set_return_msr(regs, kcr_ppc_user_msr() | (h->msr & MSR_LE));
	regs->orig_gpr3 = h->orig_gpr3;
	regs->ctr = h->ctr;
	regs->link = h->link;
	regs->xer = h->xer;
	regs->ccr = h->ccr;
	regs->softe = IRQS_ENABLED;
	regs->trap = h->trap;
	regs->dar = h->dar;
	regs->dsisr = h->dsisr;
	regs->result = h->result;
	if (h->flags & CKPT_PPC64_CAP_ISA207)
		regs->ppr = h->ppr;
	else
		regs->ppr = DEFAULT_PPR;
	/*
	 * A 64-bit task; ppc64le binaries are ELF ABI v2 (no function
	 * descriptors), which signal delivery must know. A kernel_clone()
	 * child has neither flag from an exec.
	 */
	clear_thread_flag(TIF_32BIT);
	if (IS_ENABLED(CONFIG_CPU_LITTLE_ENDIAN))
		set_thread_flag(TIF_ELF2ABI);
	return 0;
}
