# 64-bit long mode at CPL 3: watches the capacity (sectors, low 32 bits) in
# the config space of the virtio-blk device at 0xd0000000 and prints
# "cap=XXXXXXXX\n" (hex) on COM1 each time it changes, the first time too.
# No driver set-up: config space reads need none. Used by api_drives.sh to
# see a PATCH /drives swap from inside the guest.
	.code64
	.text
	.globl _start
_start:
	mov	$0xd0000100, %rbx
	xor	%r8d, %r8d
1:	mov	(%rbx), %eax
	cmp	%r8d, %eax
	je	3f
	mov	%eax, %r8d
	mov	$0x3f8, %dx
	mov	$'c', %al
	out	%al, (%dx)
	mov	$'a', %al
	out	%al, (%dx)
	mov	$'p', %al
	out	%al, (%dx)
	mov	$'=', %al
	out	%al, (%dx)
	mov	$8, %ecx
2:	rol	$4, %r8d
	mov	%r8d, %eax
	and	$0xf, %eax
	lea	hex(%rip), %rsi
	mov	(%rsi,%rax), %al
	out	%al, (%dx)
	dec	%ecx
	jnz	2b
	mov	$'\n', %al
	out	%al, (%dx)
3:	mov	$2000000, %ecx
4:	dec	%ecx
	jnz	4b
	jmp	1b
hex:	.ascii	"0123456789abcdef"
