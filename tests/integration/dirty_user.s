# 64-bit long mode at CPL 3, for the dirty-page test (vm_dirty.c): writes a
# qword into every other page of [0x300000, 0x320000) once, so the pages in
# between stay clean, and at %rsi and %r8 when they are not 0 (set with
# --reg: pages on either side of the MMIO hole in a machine above 3 GiB);
# then counts forever in the qword at 0x200000 as count_user does (with its
# port 0x80 write: a PIO exit each round).
	.code64
	.text
	.globl _start
_start:
	mov	$0x300000, %rdi
	mov	$16, %ecx
1:	movq	$0x5a, (%rdi)
	add	$0x2000, %rdi
	dec	%ecx
	jnz	1b
	test	%rsi, %rsi
	jz	2f
	movq	$0x5a, (%rsi)
2:	test	%r8, %r8
	jz	3f
	movq	$0x5a, (%r8)
3:	mov	$0x200000, %rbx
	mov	$0x80, %dx
4:	incq	(%rbx)
	mov	(%rbx), %rax
	out	%al, (%dx)
	jmp	4b
