# 64-bit long mode at CPL 3: echoes every byte received on COM1 back to it,
# polling LSR.DR, until it sees '.', then prints a newline and ends kite with
# debug-exit status 0. Exercises the UART receive path with stdin.
	.code64
	.text
	.globl _start
_start:
1:	mov	$0x3fd, %dx		# LSR
	in	(%dx), %al
	test	$1, %al			# data ready
	jz	1b
	mov	$0x3f8, %dx
	in	(%dx), %al		# RBR
	out	%al, (%dx)		# THR
	cmp	$'.', %al
	jne	1b
	mov	$'\n', %al
	out	%al, (%dx)
	mov	$0x501, %dx
	xor	%eax, %eax
	out	%al, (%dx)
2:	jmp	2b
