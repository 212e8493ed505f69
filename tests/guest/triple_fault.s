# 64-bit long mode at CPL 3 with no IDT: ud2 raises #UD, which cannot be
# delivered, then #DF, then the CPU shuts down: KVM_EXIT_SHUTDOWN.
	.code64
	.text
	.globl _start
_start:
	ud2
