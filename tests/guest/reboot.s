# Prints "B\n" on COM1 and asks the i8042 for a CPU reset (command 0xfe on
# port 0x64), as a PC's BIOS and Linux's reboot=k do. Under
# --on-reboot restart kite starts it again, so every boot prints one line.
	.code16
	.text
	.globl _start
_start:
	mov	$0x3f8, %dx
	mov	$'B', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	mov	$0xfe, %al
	out	%al, $0x64
	hlt
