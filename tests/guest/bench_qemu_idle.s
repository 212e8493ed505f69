# Benchmark guest (bench/run, QEMU memory baseline): a 64 KiB firmware image
# for `qemu-system-x86_64 -M microvm -bios` that prints "4\n" and halts with
# interrupts off (QEMU then idles until bench/run stops it).
	.code16
	.text
	.globl _start
_start:
	cli
	mov	$0x3f8, %dx
	mov	$'4', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
1:	hlt
	jmp	1b
	.org	0xfff0
	jmp	_start
	.org	0x10000
