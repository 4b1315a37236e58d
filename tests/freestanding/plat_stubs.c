/*
 * plat_stubs.c — do-nothing definitions of every include/qinval/platform.h function, linked
 * with the freestanding build of the engine into a shared object with -z defs: the link fails
 * if the engine needs any symbol that is neither its own nor the platform's (a libc function,
 * or a memcpy/memset call a compiler emitted for a structure copy). Never run.
 */
#include <qinval/platform.h>

uint32_t qi_plat_read32(qi_platform *p, uint32_t off)
{
    (void)p, (void)off;
    return 0;
}
uint64_t qi_plat_read64(qi_platform *p, uint32_t off)
{
    (void)p, (void)off;
    return 0;
}
void qi_plat_write32(qi_platform *p, uint32_t off, uint32_t val)
{
    (void)p, (void)off, (void)val;
}
void qi_plat_write64(qi_platform *p, uint32_t off, uint64_t val)
{
    (void)p, (void)off, (void)val;
}
uint64_t qi_plat_virt_to_phys(qi_platform *p, const volatile void *va)
{
    (void)p;
    return (uint64_t)(uintptr_t)va;
}
uint32_t qi_plat_load32(qi_platform *p, const volatile uint32_t *addr)
{
    (void)p;
    return *addr;
}
void qi_plat_store32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    (void)p;
    *addr = val;
}
void qi_plat_wmb(qi_platform *p)
{
    (void)p;
}
uint32_t qi_plat_fetch_add32(qi_platform *p, volatile uint32_t *addr, uint32_t val)
{
    (void)p;
    uint32_t old = *addr;
    *addr = old + val;
    return old;
}
bool qi_plat_cas32(qi_platform *p, volatile uint32_t *addr, uint32_t *expected, uint32_t val)
{
    (void)p;
    if (*addr != *expected) {
        *expected = *addr;
        return false;
    }
    *addr = val;
    return true;
}
unsigned long qi_plat_lock_irqsave(qi_platform *p, qi_lock *l)
{
    (void)p, (void)l;
    return 0;
}
void qi_plat_unlock_irqrestore(qi_platform *p, qi_lock *l, unsigned long flags)
{
    (void)p, (void)l, (void)flags;
}
void qi_plat_lock(qi_platform *p, qi_lock *l)
{
    (void)p, (void)l;
}
void qi_plat_unlock(qi_platform *p, qi_lock *l)
{
    (void)p, (void)l;
}
unsigned long qi_plat_irq_save(qi_platform *p)
{
    (void)p;
    return 0;
}
void qi_plat_irq_restore(qi_platform *p, unsigned long flags)
{
    (void)p, (void)flags;
}
void qi_plat_relax(qi_platform *p, uint64_t wake_by_ns)
{
    (void)p, (void)wake_by_ns;
}
uint64_t qi_plat_now_ns(qi_platform *p)
{
    (void)p;
    return 0;
}
void qi_plat_watchdog_touch(qi_platform *p)
{
    (void)p;
}
void qi_plat_log(qi_platform *p, enum qi_log_level level, const char *msg, uint64_t a, uint64_t b)
{
    (void)p, (void)level, (void)msg, (void)a, (void)b;
}
