# Benchmark guest (bench/run, exit cost): 64-bit CPL 3 (--mode long-user).
# Stamps the boot-timestamp port (0x510) with 1, does rcx byte stores to
# 0xe0000000 (in the 3-4 GiB hole: no RAM, no device, so each is an MMIO exit
# to userspace), stamps 2, and ends through debug-exit with status 0.
	.code64
	.text
	.globl _start
_start:
	mov	$0x510, %dx
	mov	$1, %eax
	out	%eax, (%dx)
	mov	$0xe0000000, %edi
1:	movb	%al, (%rdi)
	dec	%rcx
	jnz	1b
	mov	$0x510, %dx
	mov	$2, %eax
	out	%eax, (%dx)
	mov	$0x501, %dx
	xor	%eax, %eax
	out	%al, (%dx)
2:	jmp	2b
