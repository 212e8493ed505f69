# 64-bit long mode at CPL 3: prints 0, 1, 2, ... on COM1, one number per
# line as eight hex digits, forever, spinning r9 times between lines (a
# default when r9 is 0) so that the output grows at a steady, modest rate.
# Used by the API test: a pause must stop the sequence and a resume must
# continue it with no number missing or repeated. The number lives in
# memory (the qword at 0x200000, its own page), not only in a register, so
# that the snapshot test sees a restore that loses guest memory, and a Diff
# snapshot has a dirtied page to carry.
	.code64
	.text
	.globl _start
_start:
	mov	$0x200000, %r10		# the number to print, in memory
	test	%r9, %r9
	jnz	0f
	mov	$0x40000, %r9
0:	lea	hex(%rip), %rsi
	mov	$0x3f8, %dx
1:	mov	(%r10), %r8d
	mov	%r8d, %edi
	mov	$8, %ecx
2:	rol	$4, %edi		# the next nibble, most significant first
	mov	%edi, %ebx
	and	$0xf, %ebx
	movzbl	(%rsi,%rbx), %eax
	out	%al, (%dx)
	dec	%ecx
	jnz	2b
	mov	$'\n', %al
	out	%al, (%dx)
	incl	(%r10)
	mov	%r9, %rcx
3:	dec	%rcx
	jnz	3b
	jmp	1b
hex:	.ascii	"0123456789abcdef"
