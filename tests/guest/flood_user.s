# 64-bit long mode at CPL 3: writes 'x' to COM1 forever. Used to fill a
# stdout pipe whose reader never reads (kite must still stop on a signal).
	.code64
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	mov	$'x', %al
1:	out	%al, (%dx)
	jmp	1b
