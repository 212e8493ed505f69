# 32-bit protected mode with flat segments: prints "P32\n" and halts.
	.code32
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	mov	$'P', %al
	out	%al, (%dx)
	mov	$'3', %al
	out	%al, (%dx)
	mov	$'2', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	hlt
