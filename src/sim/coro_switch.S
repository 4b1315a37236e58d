/*
 * coro_switch.S — the context switch behind the assembly backends of coro.c (see coro.h).
 *
 *   void sim_coro__switch(void **save_sp, void *load_sp);
 *
 * Pushes the callee-saved state of the caller on its own stack, stores the resulting stack
 * pointer in *save_sp, moves to load_sp and pops the state saved there the same way, then
 * returns into whoever saved it. Everything else is caller-saved under the C ABI, so the
 * compiler has already spilled it around the call. Either side may be the main context or a
 * coroutine: the same routine serves resume and yield (main <-> coroutine) and
 * sim_coro_transfer (coroutine -> coroutine), since every saved frame has the same layout
 * wherever it was saved. sim_coro__boot is where a new coroutine's first switch "returns" to:
 * coro.c builds a fake frame of the layout below on the fresh stack, with the coroutine pointer
 * in a callee-saved register and sim_coro__boot as return address; boot then calls
 * sim_coro__entry(c), which never returns (it switches away for good).
 *
 * Both routines are hidden (not exported). No CET/BTI property notes are emitted: returning
 * into another stack is exactly what a shadow stack forbids.
 */
#if defined(__ELF__) && !defined(QINVAL_CORO_UCONTEXT)

#if defined(__x86_64__) && !defined(__ILP32__)
/*
 * System V x86-64. Callee-saved: rbx, rbp, r12-r15, rsp, the x87 control word and the MXCSR
 * control bits. Saved frame, from the saved stack pointer upwards (64 bytes; the pointer is
 * 16-byte aligned whenever the caller's stack was ABI-aligned):
 *   +0 MXCSR (4 bytes)  +4 x87 control word (2 bytes)  +8 r15  +16 r14  +24 r13  +32 r12
 *   +40 rbx  +48 rbp  +56 return address
 */
    .text
    .globl  sim_coro__switch
    .hidden sim_coro__switch
    .type   sim_coro__switch, @function
    .p2align 4
sim_coro__switch:
    .cfi_startproc
    pushq   %rbp
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbp, 0
    pushq   %rbx
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %rbx, 0
    pushq   %r12
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r12, 0
    pushq   %r13
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r13, 0
    pushq   %r14
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r14, 0
    pushq   %r15
    .cfi_adjust_cfa_offset 8
    .cfi_rel_offset %r15, 0
    subq    $8, %rsp
    .cfi_adjust_cfa_offset 8
    stmxcsr (%rsp)
    fnstcw  4(%rsp)

    movq    %rsp, (%rdi)        /* park the old context ... */
    movq    %rsi, %rsp          /* ... and adopt the new one; its frame has the same layout */

    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq    %r15
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r15
    popq    %r14
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r14
    popq    %r13
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r13
    popq    %r12
    .cfi_adjust_cfa_offset -8
    .cfi_restore %r12
    popq    %rbx
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbx
    popq    %rbp
    .cfi_adjust_cfa_offset -8
    .cfi_restore %rbp
    ret
    .cfi_endproc
    .size   sim_coro__switch, . - sim_coro__switch

/* Entered by the first switch into a coroutine: r12 = the coroutine, rsp 16-byte aligned. */
    .globl  sim_coro__boot
    .hidden sim_coro__boot
    .type   sim_coro__boot, @function
    .p2align 4
sim_coro__boot:
    .cfi_startproc
    .cfi_undefined %rip         /* outermost frame: unwinders stop here */
    movq    %r12, %rdi
    call    sim_coro__entry
    ud2                         /* sim_coro__entry never returns */
    .cfi_endproc
    .size   sim_coro__boot, . - sim_coro__boot

#elif defined(__aarch64__) && !defined(__ILP32__)
/*
 * AAPCS64. Callee-saved: x19-x28, the frame pointer x29, the link register x30 (our return
 * address), sp, the low halves d8-d15 of v8-v15, and FPCR (rounding mode etc.). Saved frame,
 * from the saved stack pointer upwards (176 bytes, sp stays 16-byte aligned):
 *   +0 x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28  +80 x29 x30
 *   +96 d8 d9  +112 d10 d11  +128 d12 d13  +144 d14 d15  +160 FPCR  +168 unused
 * FPCR is only written when it differs, since writing it can stall the pipeline.
 */
    .text
    .globl  sim_coro__switch
    .hidden sim_coro__switch
    .type   sim_coro__switch, %function
    .p2align 4
sim_coro__switch:
    .cfi_startproc
    sub     sp, sp, #176
    .cfi_def_cfa_offset 176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    .cfi_offset x19, -176
    .cfi_offset x20, -168
    .cfi_offset x21, -160
    .cfi_offset x22, -152
    .cfi_offset x23, -144
    .cfi_offset x24, -136
    .cfi_offset x25, -128
    .cfi_offset x26, -120
    .cfi_offset x27, -112
    .cfi_offset x28, -104
    .cfi_offset x29, -96
    .cfi_offset x30, -88
    .cfi_offset d8, -80
    .cfi_offset d9, -72
    .cfi_offset d10, -64
    .cfi_offset d11, -56
    .cfi_offset d12, -48
    .cfi_offset d13, -40
    .cfi_offset d14, -32
    .cfi_offset d15, -24
    mrs     x10, fpcr
    str     x10, [sp, #160]

    mov     x9, sp              /* park the old context ... */
    str     x9, [x0]
    mov     sp, x1              /* ... and adopt the new one; its frame has the same layout */

    ldr     x11, [sp, #160]
    cmp     x10, x11
    b.eq    1f
    msr     fpcr, x11
1:
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #176
    .cfi_def_cfa_offset 0
    .cfi_restore x19
    .cfi_restore x20
    .cfi_restore x21
    .cfi_restore x22
    .cfi_restore x23
    .cfi_restore x24
    .cfi_restore x25
    .cfi_restore x26
    .cfi_restore x27
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
    .cfi_restore d8
    .cfi_restore d9
    .cfi_restore d10
    .cfi_restore d11
    .cfi_restore d12
    .cfi_restore d13
    .cfi_restore d14
    .cfi_restore d15
    ret
    .cfi_endproc
    .size   sim_coro__switch, . - sim_coro__switch

/* Entered by the first switch into a coroutine: x19 = the coroutine, x29 = 0, sp aligned. */
    .globl  sim_coro__boot
    .hidden sim_coro__boot
    .type   sim_coro__boot, %function
    .p2align 2
sim_coro__boot:
    .cfi_startproc
    .cfi_undefined x30          /* outermost frame: unwinders stop here */
    mov     x0, x19
    bl      sim_coro__entry
    brk     #0x3c               /* sim_coro__entry never returns */
    .cfi_endproc
    .size   sim_coro__boot, . - sim_coro__boot

#endif /* architecture */
#endif /* __ELF__ && !QINVAL_CORO_UCONTEXT */

#if defined(__ELF__)
    .section .note.GNU-stack, "", %progbits   /* this object needs no executable stack */
#endif
