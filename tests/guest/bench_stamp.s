# Benchmark guest (bench/run, start-up): the seed demo preceded by one write to
# the boot-timestamp port (0x510), so that "exec to the guest's first
# instruction" can be timed. Real mode, loaded at 0x1000 with rax=2, rbx=2:
# stamps value 1, prints "4\n", halts.
	.code16
	.text
	.globl _start
_start:
	mov	%ax, %si
	mov	$0x510, %dx
	mov	$1, %al
	out	%al, (%dx)
	mov	%si, %ax
	mov	$0x3f8, %dx
	add	%bl, %al
	add	$'0', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	hlt
