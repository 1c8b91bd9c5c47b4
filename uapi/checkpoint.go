package uapi

// Values of uapi/linux/checkpoint.h. Written by hand until the generator of
// gen/ takes over (it checks these against the C compilers of every arch).
const (
	KCR_ABI_VERSION  = 1
	CKPT_DEVICE_NAME = "checkpoint"
	CKPT_IOC_MAGIC   = 0xCC
	// _IO(0xCC, 0x00): the ioctl encoding is the same (dir 0, size 0) on
	// x86-64, s390x and ppc64le.
	CKPT_IOC_VERSION = 0xCC00
)
