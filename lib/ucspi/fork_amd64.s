#include "textflag.h"

// func vforkExit(code uintptr) (pid uintptr, errno uintptr)
TEXT ·vforkExit(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	code+0(FP), R13
	// The parent keeps its return address in R12 (kept across syscalls),
	// so nothing of its own lies below the stack pointer while the
	// child, on the same stack, runs.
	POPQ	R12
	MOVQ	$56, AX		// SYS_clone
	MOVQ	$0x4111, DI	// CLONE_VM|CLONE_VFORK|SIGCHLD
	XORQ	SI, SI		// same stack
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	CMPQ	AX, $0
	JNE	parent
	MOVQ	R13, DI
child:
	MOVQ	$231, AX	// SYS_exit_group
	SYSCALL
	JMP	child
parent:
	PUSHQ	R12
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	NEGQ	AX
	MOVQ	$0, pid+8(FP)
	MOVQ	AX, errno+16(FP)
	RET
ok:
	MOVQ	AX, pid+8(FP)
	MOVQ	$0, errno+16(FP)
	RET
