# Benchmark guest (bench/run, QEMU memory-under-I/O baseline): a 64 KiB
# firmware image for `qemu-system-x86_64 -M microvm -bios` that writes bytes
# to COM1 forever (bench/run samples QEMU's memory and then stops it).
	.code16
	.text
	.globl _start
_start:
	cli
	mov	$0x3f8, %dx
	mov	$'.', %al
1:	out	%al, (%dx)
	jmp	1b
	.org	0xfff0
	jmp	_start
	.org	0x10000
