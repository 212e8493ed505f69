# Real mode, for several vCPUs: each vCPU prints one character, '0' plus its
# initial APIC ID from CPUID leaf 1 (EBX[31:24]), and halts. kite ends when
# every vCPU has halted.
	.code16
	.text
	.globl _start
_start:
	mov	$1, %eax
	cpuid
	shr	$24, %ebx
	mov	%bl, %al
	add	$'0', %al
	mov	$0x3f8, %dx
	out	%al, (%dx)
	hlt
