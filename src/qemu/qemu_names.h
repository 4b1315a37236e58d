/*
 * qemu_names.h — link-time names of the engine and of platform.h in the QEMU build of the
 * engine. The platform interface is chosen at link time (one set of qi_plat_* functions per
 * program), but the `qinval` command holds two implementations at once: the simulator's
 * (src/sim/platform_sim.c, the hardware model) and the QEMU one (src/qemu/platform_qemu.c).
 * So src/engine/engine.c is compiled a second time with this header forced in (library
 * qinval_engine_qemu): every external name of the engine and of the platform gets a qemu_
 * prefix, and nothing else changes. platform_qemu.c and the code that calls this engine
 * include it first, before <qinval/engine.h>.
 */
#ifndef QINVAL_QEMU_NAMES_H
#define QINVAL_QEMU_NAMES_H

#define qi_plat_read32            qemu_plat_read32
#define qi_plat_read64            qemu_plat_read64
#define qi_plat_write32           qemu_plat_write32
#define qi_plat_write64           qemu_plat_write64
#define qi_plat_virt_to_phys      qemu_plat_virt_to_phys
#define qi_plat_load32            qemu_plat_load32
#define qi_plat_store32           qemu_plat_store32
#define qi_plat_wmb               qemu_plat_wmb
#define qi_plat_fetch_add32       qemu_plat_fetch_add32
#define qi_plat_cas32             qemu_plat_cas32
#define qi_plat_lock_irqsave      qemu_plat_lock_irqsave
#define qi_plat_unlock_irqrestore qemu_plat_unlock_irqrestore
#define qi_plat_lock              qemu_plat_lock
#define qi_plat_unlock            qemu_plat_unlock
#define qi_plat_irq_save          qemu_plat_irq_save
#define qi_plat_irq_restore       qemu_plat_irq_restore
#define qi_plat_relax             qemu_plat_relax
#define qi_plat_now_ns            qemu_plat_now_ns
#define qi_plat_watchdog_touch    qemu_plat_watchdog_touch
#define qi_plat_log               qemu_plat_log

#define qi_engine_init               qemu_engine_init
#define qi_engine_enable             qemu_engine_enable
#define qi_engine_disable            qemu_engine_disable
#define qi_engine_submit             qemu_engine_submit
#define qi_engine_fault_irq          qemu_engine_fault_irq
#define qi_engine_device_gone        qemu_engine_device_gone
#define qi_engine_device_reset_begin qemu_engine_device_reset_begin
#define qi_engine_device_reset_end   qemu_engine_device_reset_end
#define qi_engine_device_quarantined qemu_engine_device_quarantined
#define qi_engine_free_slots         qemu_engine_free_slots
#define qi_engine_capacity           qemu_engine_capacity
#define qi_engine_get_stats          qemu_engine_get_stats

#endif /* QINVAL_QEMU_NAMES_H */
