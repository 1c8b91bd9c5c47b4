/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kcr image format: the s390x records.
 *
 * <linux/checkpoint_hdr.h> includes this on every architecture, so that a
 * reader anywhere can decode an s390x image; include that instead. Same
 * layout rules as there: explicit widths, no implicit padding, sizes a
 * multiple of 8. s390x images are big endian.
 */
#ifndef _UAPI_ASM_S390_CHECKPOINT_HDR_H
#define _UAPI_ASM_S390_CHECKPOINT_HDR_H

#ifndef _UAPI_LINUX_CHECKPOINT_HDR_H
#error "include <linux/checkpoint_hdr.h> instead of this header"
#endif

#include <linux/types.h>

/*
 * ckpt_hdr_header_arch.cpu_caps on s390x, and ckpt_hdr_cpu_s390.flags:
 * which optional register sets the record holds.
 */
#define CKPT_S390_CAP_VX	0x1	/* vector facility: vxrs are valid */

/*
 * CKPT_HDR_CPU_S390: the user registers of an s390x task, as the ptrace
 * regsets give them (NT_PRSTATUS, NT_PRFPREG, NT_S390_VXRS_LOW/HIGH,
 * NT_S390_SYSTEM_CALL).
 */
struct ckpt_hdr_cpu_s390 {
	struct ckpt_hdr h;
	__u64 psw_mask;
	__u64 psw_addr;
	__u64 gprs[16];
	__u32 acrs[16];		/* access registers; acrs[0..1]: TLS pointer */
	__u64 orig_gpr2;	/* first system call argument, for restarts */
	__u32 fpc;		/* floating-point control */
	__u32 flags;		/* CKPT_S390_CAP_* */
	__u64 fprs[16];
	/*
	 * Vector registers v0-v31, 16 bytes each as in memory (leftmost
	 * doubleword first). Bits 0-63 of v0-v15 are fprs[0-15]: with VX
	 * both are written and a restart takes vxrs.
	 */
	__u64 vxrs[32][2];
	__u32 system_call;	/* interrupted svc number (int_code) */
	__u32 __pad;
	/*
	 * restart_block.arch_data: where sys_restart_syscall() returns to
	 * (the address after the interrupted svc) while the task is on its
	 * way to the vDSO's restart_syscall; 1 when there is none.
	 */
	__u64 restart_addr;
};

#endif /* _UAPI_ASM_S390_CHECKPOINT_HDR_H */
