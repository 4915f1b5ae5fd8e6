/* bench/scale.sh: a multiboot (v1) kernel that halts with interrupts off, an idle guest. */
	.text
	.globl _start
	.align 4
mb_header:
	.long 0x1BADB002		/* magic */
	.long 0				/* flags: none (an ELF image) */
	.long -0x1BADB002		/* checksum */
_start:
	cli
1:	hlt
	jmp 1b
