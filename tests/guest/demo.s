# The seed demo: 16-bit real-mode code that adds al and bl, prints the digit
# and a newline on COM1 (0x3f8) and halts. Loaded at 0x1000 with rax=2, rbx=2
# it prints "4\n". These 12 bytes are the contract: ba f8 03 00 d8 04 30 ee
# b0 0a ee f4.
	.code16
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	add	%bl, %al
	add	$'0', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	hlt
