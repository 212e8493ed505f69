# Benchmark guest (bench/run, memory under I/O): 64-bit CPL 3 (--mode
# long-user). Every vCPU writes bytes to COM1 (0x3f8) forever; bench/run
# samples kite's memory and then stops it with a signal.
	.code64
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	mov	$'.', %al
1:	out	%al, (%dx)
	jmp	1b
