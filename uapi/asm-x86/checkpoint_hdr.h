/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr image format: the x86-64 records.
 *
 * <linux/checkpoint_hdr.h> includes this on every architecture, so that a
 * reader anywhere can decode an x86-64 image; include that instead. Same
 * layout rules as there: explicit widths, no implicit padding, sizes a
 * multiple of 8.
 */
#ifndef _UAPI_ASM_X86_CHECKPOINT_HDR_H
#define _UAPI_ASM_X86_CHECKPOINT_HDR_H

#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#error "include <linux/checkpoint_hdr.h> instead of this header"
#endif

#include <linux/types.h>

/* ckpt_hdr_header_arch.cpu_caps on x86-64 */
#define CKPT_X86_CAP_FXSR	0x1	/* FXSAVE/FXRSTOR */
#define CKPT_X86_CAP_XSAVE	0x2	/* XSAVE; header_arch.xfeatures valid */
#define CKPT_X86_CAP_FSGSBASE	0x4	/* user-mode RD/WR{FS,GS}BASE enabled */

/* ckpt_hdr_cpu_x86.fpu_format */
#define CKPT_X86_FPU_FXSAVE	1	/* 512-byte FXSAVE area */
/*
 * XSAVE area in the standard (non-compacted) format of PTRACE_GETREGSET
 * NT_X86_XSTATE, header_arch.xstate_size bytes; its XSTATE_BV says which
 * components it holds.
 */
#define CKPT_X86_FPU_XSAVE	2

/*
 * CKPT_HDR_CPU_X86: the user registers of an x86-64 task.
 * Payload: fpu_size bytes of FPU state in fpu_format.
 * The general registers are struct user_regs_struct of <asm/user_64.h>,
 * in its order, so that the kernel can copy the ptrace regset as a whole.
 */
struct ckpt_hdr_cpu_x86 {
	struct ckpt_hdr h;
	__u64 r15;
	__u64 r14;
	__u64 r13;
	__u64 r12;
	__u64 bp;
	__u64 bx;
	__u64 r11;
	__u64 r10;
	__u64 r9;
	__u64 r8;
	__u64 ax;
	__u64 cx;
	__u64 dx;
	__u64 si;
	__u64 di;
	__u64 orig_ax;		/* system call number, or -1 */
	__u64 ip;
	__u64 cs;
	__u64 flags;		/* RFLAGS */
	__u64 sp;
	__u64 ss;
	__u64 fs_base;		/* TLS of 64-bit code (arch_prctl) */
	__u64 gs_base;
	__u64 ds;
	__u64 es;
	__u64 fs;
	__u64 gs;
	__u32 fpu_format;	/* CKPT_X86_FPU_* */
	__u32 fpu_size;
};

#endif /* _UAPI_ASM_X86_CHECKPOINT_HDR_H */
