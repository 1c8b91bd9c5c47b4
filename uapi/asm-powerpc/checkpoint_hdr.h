/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr image format: the ppc64le records.
 *
 * <linux/checkpoint_hdr.h> includes this on every architecture, so that a
 * reader anywhere can decode a ppc64le image; include that instead. Same
 * layout rules as there: explicit widths, no implicit padding, sizes a
 * multiple of 8.
 */
#ifndef _UAPI_ASM_POWERPC_CHECKPOINT_HDR_H
#define _UAPI_ASM_POWERPC_CHECKPOINT_HDR_H

#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#error "include <linux/checkpoint_hdr.h> instead of this header"
#endif

#include <linux/types.h>

/*
 * ckpt_hdr_header_arch.cpu_caps on ppc64le, and ckpt_hdr_cpu_ppc64.flags:
 * which optional register sets the record holds.
 */
#define CKPT_PPC64_CAP_ALTIVEC	0x1	/* VMX: vr, vscr, vrsave valid */
#define CKPT_PPC64_CAP_VSX	0x2	/* vsx valid */
#define CKPT_PPC64_CAP_ISA207	0x4	/* POWER8 SPRs: ppr, dscr, tar valid */

/*
 * CKPT_HDR_CPU_PPC64: the user registers of a ppc64le task, as the ptrace
 * regsets give them (NT_PRSTATUS, NT_PRFPREG, NT_PPC_VMX, NT_PPC_VSX,
 * NT_PPC_PPR, NT_PPC_DSCR, NT_PPC_TAR). gpr to result are struct
 * user_pt_regs of <asm/ptrace.h>, in its order.
 */
struct ckpt_hdr_cpu_ppc64 {
	struct ckpt_hdr h;
	__u64 gpr[32];		/* gpr[13]: TLS pointer */
	__u64 nip;
	__u64 msr;
	__u64 orig_gpr3;	/* first system call argument, for restarts */
	__u64 ctr;
	__u64 link;
	__u64 xer;
	__u64 ccr;
	__u64 softe;
	__u64 trap;		/* 0xc00: stopped in a system call */
	__u64 dar;
	__u64 dsisr;
	__u64 result;
	__u64 fpr[32];
	__u64 fpscr;
	/* VMX registers v0-v31, 16 bytes each as in memory (NT_PPC_VMX). */
	__u64 vr[32][2];
	__u32 vscr;
	__u32 vrsave;
	/*
	 * Doubleword 1 of VSX registers 0-31 (NT_PPC_VSX); doubleword 0 is
	 * fpr[], and VSX registers 32-63 are vr[].
	 */
	__u64 vsx[32];
	__u64 ppr;		/* program priority */
	__u64 dscr;		/* data stream control */
	__u64 tar;		/* target address */
	__u32 flags;		/* CKPT_PPC64_CAP_* */
	__u32 __pad;
};

#endif /* _UAPI_ASM_POWERPC_CHECKPOINT_HDR_H */
