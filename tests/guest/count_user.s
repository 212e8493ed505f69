# 64-bit long mode at CPL 3: counts forever in the qword at 0x200000 and
# writes each count's low byte to port 0x80 (unclaimed: a PIO exit that
# KVM must complete before a paused vCPU's state is consistent). Used by
# the pause test: while paused the count must not move.
	.code64
	.text
	.globl _start
_start:
	mov	$0x200000, %rbx
	mov	$0x80, %dx
1:	incq	(%rbx)
	mov	(%rbx), %rax
	out	%al, (%dx)
	jmp	1b
