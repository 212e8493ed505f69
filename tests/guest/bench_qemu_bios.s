# Benchmark guest (bench/run, QEMU baseline): the seed demo as a 64 KiB
# firmware image for `qemu-system-x86_64 -M microvm -bios`. The CPU resets to
# CS base 0xffff0000, IP 0xfff0; the jump there lands on _start (offset 0).
# Prints 'S' (the first-instruction marker), then "4\n" (2+2, as the seed
# demo), then ends QEMU through isa-debug-exit at 0x501 (QEMU exits 1).
	.code16
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	mov	$'S', %al
	out	%al, (%dx)
	mov	$2, %al
	mov	$2, %bl
	add	%bl, %al
	add	$'0', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	mov	$0x501, %dx
	xor	%al, %al
	out	%al, (%dx)
1:	hlt
	jmp	1b
	.org	0xfff0
	jmp	_start
	.org	0x10000
