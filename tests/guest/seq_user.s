# 64-bit long mode at CPL 3: prints 0, 1, 2, ... on COM1, one number per
# line as eight hex digits, forever, spinning r9 times between lines (a
# default when r9 is 0) so that the output grows at a steady, modest rate.
# Used by the API test: a pause must stop the sequence and a resume must
# continue it with no number missing or repeated.
	.code64
	.text
	.globl _start
_start:
	xor	%r8d, %r8d		# the number to print
	test	%r9, %r9
	jnz	0f
	mov	$0x40000, %r9
0:	lea	hex(%rip), %rsi
	mov	$0x3f8, %dx
1:	mov	%r8d, %edi
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
	inc	%r8d
	mov	%r9, %rcx
3:	dec	%rcx
	jnz	3b
	jmp	1b
hex:	.ascii	"0123456789abcdef"
