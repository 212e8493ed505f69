# Benchmark guest (bench/run, exit cost): 64-bit CPL 3 (--mode long-user),
# run with one virtio device (kite --rng) so that the first virtio-mmio slot
# (0xd0000000) has a KVM ioeventfd on QueueNotify (offset 0x50) for queue 0.
# Stamps the boot-timestamp port (0x510) with 1, writes 0 to QueueNotify rcx
# times (each caught by the ioeventfd in the kernel: no exit to userspace),
# stamps 2, and ends through debug-exit with status 0.
	.code64
	.text
	.globl _start
_start:
	mov	$0x510, %dx
	mov	$1, %eax
	out	%eax, (%dx)
	mov	$0xd0000050, %edi
	xor	%eax, %eax
1:	movl	%eax, (%rdi)
	dec	%rcx
	jnz	1b
	mov	$0x510, %dx
	mov	$2, %eax
	out	%eax, (%dx)
	mov	$0x501, %dx
	xor	%eax, %eax
	out	%al, (%dx)
2:	jmp	2b
