# 64-bit long mode at CPL 3 (kite --mode long-user): prints a line on COM1
# through port I/O (IOPL 3) and ends kite through the debug-exit port with
# the status in rdi (0 unless --reg rdi=N is given).
	.code64
	.text
	.globl _start
_start:
	lea	msg(%rip), %rsi
	mov	$msg_end - msg, %rcx
	mov	$0x3f8, %dx
1:	lodsb
	out	%al, (%dx)
	loop	1b
	mov	%edi, %eax
	mov	$0x501, %dx
	out	%al, (%dx)
2:	jmp	2b
msg:	.ascii	"hello from ring 3\n"
msg_end:
