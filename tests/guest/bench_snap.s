# Snapshot benchmark guest (bench/snapshot.py): 64-bit long mode at CPL 3,
# loaded at 0x100000. It prepares, says so on the boot-timestamp port, and
# spins on a flag in its memory; bench/snapshot.py snapshots it there, sets
# the flag in the memory file, and every restore of that file continues
# straight out of the spin. What follows the spin uses only absolute
# addresses, so a bare program that maps the same file and starts a vCPU at
# `resumed` (0x100000 + its offset, printed by `nm`) runs the same code.
#
# Control page at 0x200000 (never a hole in the memory file: 0x200010 holds
# a marker):
#   0x200000 go:    0 at the snapshot; set in the memory file to restore
#   0x200001 work:  rdi at boot != 0: touch the working set after a restore
#   0x200002 exit:  0 at the snapshot; if set in the memory file, write 0 to
#                   the debug-exit port (0x501) at the end, else spin there
# Working set (written at boot, so it is data in the memory file; read back,
# one qword per 4 KiB page, after a restore): 64 MiB of the 256 MiB
#   runs:      16 runs of 2 MiB, one every 8 MiB from 16 MiB (16-144 MiB)
#   scattered: 8192 single pages among the 28,672 of 144-256 MiB, page
#              (k * 12345) mod 28672 for k = 0..8191 (distinct, in no order)
# Boot-timestamp writes: 1 when ready to be snapshotted; after a restore 2
# at once (no work) or 3 once the working set has been read (work).
# rsi = 144 MiB + ((ecx * 12345) mod 28672) * 4096; clobbers rax, rdx
# (a macro: the guest has no stack)
	.macro	SCATTER
	mov	%ecx, %eax
	imul	$12345, %eax, %eax
	xor	%edx, %edx
	mov	$28672, %esi
	div	%esi
	mov	%edx, %esi
	shl	$12, %rsi
	add	$0x9000000, %rsi
	.endm
	.code64
	.text
	.globl _start
	.globl resumed
_start:
	movq	$0x4b49544542454e43, %rax
	movq	%rax, 0x200010		# marker: the control page is data
	movb	$0, 0x200000
	movb	$0, 0x200002
	xor	%eax, %eax
	test	%rdi, %rdi
	setnz	%al
	movb	%al, 0x200001
	jz	ready
	# runs: one qword per page
	mov	$0x1000000, %rbx	# 16 MiB
	mov	$16, %ecx
1:	mov	%rbx, %rsi
	mov	$512, %edx		# 2 MiB / 4 KiB
2:	mov	%rsi, (%rsi)
	add	$4096, %rsi
	dec	%edx
	jnz	2b
	add	$0x800000, %rbx		# next run 8 MiB on
	dec	%ecx
	jnz	1b
	# scattered pages
	xor	%ecx, %ecx
3:	SCATTER
	mov	%rsi, (%rsi)
	inc	%ecx
	cmp	$8192, %ecx
	jb	3b
ready:
	mov	$0x510, %dx
	mov	$1, %al
	out	%al, (%dx)
spin:
	pause
	cmpb	$0, 0x200000
	je	spin
resumed:
	cmpb	$0, 0x200001
	jne	work
	mov	$0x510, %dx
	mov	$2, %al
	out	%al, (%dx)
	jmp	finish
work:
	xor	%r8d, %r8d		# sum of what was read
	mov	$0x1000000, %rbx
	mov	$16, %ecx
1:	mov	%rbx, %rsi
	mov	$512, %edx
2:	add	(%rsi), %r8
	add	$4096, %rsi
	dec	%edx
	jnz	2b
	add	$0x800000, %rbx
	dec	%ecx
	jnz	1b
	xor	%ecx, %ecx
3:	SCATTER
	add	(%rsi), %r8
	inc	%ecx
	cmp	$8192, %ecx
	jb	3b
	mov	$0x510, %dx
	mov	$3, %al
	out	%al, (%dx)
finish:
	cmpb	$0, 0x200002
	je	idle
	mov	$0x501, %dx
	xor	%al, %al
	out	%al, (%dx)
idle:
	pause
	jmp	idle
