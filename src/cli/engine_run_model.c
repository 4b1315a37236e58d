/*
 * engine_run_model.c — `qinval engine-run --hw model`, and the reference side of `--hw qemu`:
 * the workload of engine_work.h on the hardware model, one simulated CPU per submitter
 * (src/sim), with the engine as the checker builds it.
 *
 * Why the simulator and not a simpler single-threaded platform: the QEMU side runs the
 * submitters concurrently, and what is compared is each call's result, which must not depend
 * on how the calls interleave. Simulated CPUs interleave them too (the schedule comes from a
 * seeded random choice at every platform point), so the comparison holds the engine to that
 * on both sides; a single-threaded model run would never combine submissions or repair an IQE
 * while others queue. The model's identity registers stay at its defaults (VER 6.0 and its
 * CAP/ECAP), not QEMU's: the engine reads whatever the hardware reports.
 *
 * CPU 0 sets the engine up (memory in simulated RAM, as src/drivers/engine_drv.c does) and
 * raises a ready word the others wait for. The machine has the ATS function EW_SID, with a
 * context entry allowing device-TLB use, so its invalidations are answered (after 2 us).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/engine_run.h"
#include "sim/sim.h"

#define OWNER_OS 3u

struct mrun {
    const ew_plan *pl;
    qi_result *res;
    sim_world *w;
    qi_engine *e;
    volatile uint32_t *ready;
    uint64_t rng;
    bool setup_failed;
};

struct mcpu {
    struct mrun *run;
    qi_platform *p;
};

static unsigned m_choose(void *ctx, const sim_world *w, const unsigned *c, unsigned n,
                         uint64_t step)
{
    struct mrun *run = ctx;
    (void)w, (void)c, (void)step;
    run->rng ^= run->rng << 13; /* xorshift64 */
    run->rng ^= run->rng >> 7;
    run->rng ^= run->rng << 17;
    return (unsigned)(run->rng % n);
}

static void m_submit(void *ctx, const vtd_desc *d, unsigned n, qi_result *res)
{
    struct mcpu *c = ctx;
    qi_engine_submit(c->run->e, c->p, d, n, NULL, res);
    sim_progress(c->p);
}

static bool m_setup_engine(struct mrun *run, qi_platform *p)
{
    run->e = sim_dma_alloc(p, sizeof(qi_engine));
    void *queue = sim_dma_alloc(p, (size_t)EW_ENTRIES * 16);
    volatile uint32_t *status = sim_dma_alloc(p, (EW_ENTRIES + 1) * 4);
    qi_slot *slots = sim_dma_alloc(p, EW_ENTRIES * sizeof(qi_slot));
    qi_engine_config cfg;
    ew_engine_config(&cfg, queue, status, slots);
    return qi_engine_init(run->e, p, &cfg) == 0 && qi_engine_enable(run->e, p, 0) == 0;
}

static void m_cpu(sim_world *w, unsigned cpu, void *arg)
{
    struct mrun *run = arg;
    struct mcpu c = {.run = run, .p = sim_platform(w, cpu)};
    if (cpu == 0) {
        run->setup_failed = !m_setup_engine(run, c.p);
        if (run->setup_failed) {
            sim_abort(w, "engine set-up failed on the model");
            return;
        }
        qi_plat_store32(c.p, run->ready, 1);
    }
    while (!qi_plat_load32(c.p, run->ready))
        qi_plat_relax(c.p, 0);
    ew_thread(run->pl, cpu, m_submit, &c, NULL, run->res);
}

static hw_machine *m_machine(bool resume_on_tail, char *err, size_t errlen)
{
    hw_config hc;
    hw_config_default(&hc);
    hc.iqe_resume_on_tail = resume_on_tail;
    const char *why = NULL;
    hw_machine *m = hw_create(&hc, &why);
    hw_ep_config ec;
    hw_ep_config_default(&ec, EW_SID);
    ec.ats = true;
    if (!m || hw_ep_add(m, &ec, &why) < 0) {
        snprintf(err, errlen, "hardware model: %s", why ? why : "?");
        hw_destroy(m);
        return NULL;
    }
    hw_paddr root = hw_tables_root(m, OWNER_OS);
    hw_paddr pgd = hw_tables_new_pgd(m, OWNER_OS);
    hw_tables_set_context(m, root, EW_SID, EW_DID, VTD_TT_DEVTLB, pgd, 2, OWNER_OS);
    hw_mmio_write64(m, VTD_REG_RTADDR, root);
    uint32_t cmd[2] = {VTD_GCMD_SRTP, VTD_GCMD_TE}, sts[2] = {VTD_GSTS_RTPS, VTD_GSTS_TES};
    for (unsigned i = 0; i < 2; i++) {
        uint32_t gsts = hw_mmio_read32(m, VTD_REG_GSTS) & VTD_GCMD_KEEP_MASK;
        hw_mmio_write32(m, VTD_REG_GCMD, gsts | cmd[i]);
        for (int k = 0; k < 100 && !(hw_mmio_read32(m, VTD_REG_GSTS) & sts[i]); k++)
            hw_advance(m, time_add(hw_now(m), 100));
    }
    return m;
}

/* Tail writes and wraps, from the model's event log. */
static void m_tail_figures(hw_machine *m, ew_figures *fig)
{
    size_t n = 0;
    const hw_event *ev = hw_events(m, &n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != HW_EV_TAIL)
            continue;
        fig->tail_writes++;
        if (ev[i].slot >= 0 && (uint64_t)ev[i].slot < ev[i].a)
            fig->wraps++;
    }
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int erun_model(const ew_plan *pl, const erun_model_opts *o, qi_result *res, ew_figures *fig,
               char *err, size_t errlen)
{
    hw_machine *m = m_machine(o->iqe_resume_on_tail, err, errlen);
    if (!m)
        return ERUN_FAILED;
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = pl->threads;
    sc.cpu_events = false;
    const char *why = NULL;
    struct mrun run = {.pl = pl, .res = res, .rng = o->seed | 1};
    run.w = sim_create(&sc, m, &why);
    if (!run.w) {
        snprintf(err, errlen, "simulation: %s", why ? why : "?");
        hw_destroy(m);
        return ERUN_FAILED;
    }
    run.ready = sim_dma_alloc(sim_platform(run.w, 0), 4);
    sim_set_chooser(run.w, m_choose, &run);
    for (unsigned c = 0; c < pl->threads; c++)
        sim_set_cpu(run.w, c, m_cpu, &run);
    sim_outcome out;
    double t0 = mono_s();
    sim_run(run.w, &out);
    fig->wall_s = mono_s() - t0;
    fig->calls = ew_ncalls(pl);
    fig->complete = out.stop == SIM_STOP_DONE;
    if (!fig->complete)
        snprintf(fig->why, sizeof(fig->why), "the simulation stopped: %s: %s",
                 sim_stop_name(out.stop), out.why);
    if (run.e)
        fig->stats = *qi_engine_get_stats(run.e);
    m_tail_figures(m, fig);
    int rc = run.setup_failed ? ERUN_FAILED : ERUN_OK;
    if (rc)
        snprintf(err, errlen, "engine set-up failed on the model");
    sim_destroy(run.w);
    hw_destroy(m);
    return rc;
}
