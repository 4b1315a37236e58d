/*
 * platform.h — everything a queued-invalidation driver needs from the machine it runs on, and
 * nothing more: register access, memory ordering, a spin lock that saves and restores the
 * interrupt state, a polling pause, a clock, the watchdog, and a log.
 *
 * The engine (src/engine) and the reference algorithms (src/drivers) are written against this
 * header only. Implementations: src/sim/platform_sim.c runs them on simulated CPUs against the
 * hardware model, where every call below is a scheduling point and costs virtual time; a kernel,
 * hypervisor or bare-metal image supplies its own (a few lines each). Freestanding.
 *
 * Every function takes the platform handle the embedder passed at creation time; its type is
 * opaque here.
 */
#ifndef QINVAL_PLATFORM_H
#define QINVAL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qi_platform qi_platform;

/* A lock word the platform interprets (simulated: owner id; kernel: a raw spinlock). */
typedef struct qi_lock {
    uint32_t word;
} qi_lock;

/* ---- IOMMU registers (offsets from enum vtd_reg) ---- */
uint32_t qi_plat_read32(qi_platform *p, uint32_t off);
uint64_t qi_plat_read64(qi_platform *p, uint32_t off);
void qi_plat_write32(qi_platform *p, uint32_t off, uint32_t val);
void qi_plat_write64(qi_platform *p, uint32_t off, uint64_t val);

/* ---- memory ---- */
/* Physical (bus) address of driver memory the IOMMU reads or writes (queue, status words). */
uint64_t qi_plat_virt_to_phys(qi_platform *p, const volatile void *va);
/* Shared-memory accesses that other CPUs or the IOMMU race with: a load that is not torn or
 * cached (READ_ONCE), a store likewise (WRITE_ONCE), and the write barrier that orders
 * descriptor stores before the tail register write (wmb). */
uint32_t qi_plat_load32(qi_platform *p, const volatile uint32_t *addr);
void qi_plat_store32(qi_platform *p, volatile uint32_t *addr, uint32_t val);
void qi_plat_wmb(qi_platform *p);
/* Atomic read-modify-write on shared words (sequentially consistent). */
uint32_t qi_plat_fetch_add32(qi_platform *p, volatile uint32_t *addr, uint32_t val);
bool qi_plat_cas32(qi_platform *p, volatile uint32_t *addr, uint32_t *expected, uint32_t val);

/* ---- locking and interrupts ---- */
/* Disable local interrupts and take the lock; returns the previous interrupt state. */
unsigned long qi_plat_lock_irqsave(qi_platform *p, qi_lock *l);
void qi_plat_unlock_irqrestore(qi_platform *p, qi_lock *l, unsigned long flags);
/* Lock without touching the interrupt state (caller already has them off). */
void qi_plat_lock(qi_platform *p, qi_lock *l);
void qi_plat_unlock(qi_platform *p, qi_lock *l);
unsigned long qi_plat_irq_save(qi_platform *p);
void qi_plat_irq_restore(qi_platform *p, unsigned long flags);

/* ---- waiting ---- */
/* One iteration of a polling loop (cpu_relax). `wake_by_ns` is the caller's deadline on the
 * qi_plat_now_ns() clock if it has one, else 0: a simulation may jump time forward to it
 * while nothing else can happen; real platforms ignore it. */
void qi_plat_relax(qi_platform *p, uint64_t wake_by_ns);
/* Monotonic nanoseconds. */
uint64_t qi_plat_now_ns(qi_platform *p);
/* Tell the lockup detector this CPU is waiting legitimately. */
void qi_plat_watchdog_touch(qi_platform *p);

/* ---- diagnostics ---- */
enum qi_log_level { QI_LOG_ERR, QI_LOG_WARN, QI_LOG_INFO, QI_LOG_DEBUG };
/* A message with no formatting (freestanding callers build it themselves) and two values. */
void qi_plat_log(qi_platform *p, enum qi_log_level level, const char *msg, uint64_t a, uint64_t b);

#endif /* QINVAL_PLATFORM_H */
