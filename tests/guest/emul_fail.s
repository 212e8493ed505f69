# 64-bit long mode at CPL 0. On hosts where CPL-0 guest code goes through
# KVM's instruction emulator (the PVM hosts of HOST-NOTES.md), cmpxchg16b is
# not emulated: KVM reports an emulation failure and kite must stop cleanly.
	.code64
	.text
	.globl _start
_start:
	lea	buf(%rip), %rdi
	xor	%eax, %eax
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	lock cmpxchg16b (%rdi)
	mov	$0x501, %dx
	mov	$0, %al
	out	%al, (%dx)
	hlt
	.balign 16
buf:	.quad 0, 0
