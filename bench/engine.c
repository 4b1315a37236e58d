/*
 * engine.c — benchmark of the qinval engine against step1-nowait (Linux's submitter after the
 * March 2026 fix) in the hardware model's cost model: virtual time, where every MMIO access,
 * lock operation, memory access and relax costs what src/sim/world.c says and the IOMMU takes
 * its own fetch and execution time (bench/README.md).
 *
 * For 1, 2, 4, ... 64 CPUs, each CPU submits CALLS calls of BATCH page-selective IOTLB
 * invalidations back to back; the same seeded schedule decides the interleaving for both
 * drivers. Reported per driver: invalidations per virtual second (descriptors executed by
 * successful calls / virtual time from the first call to the last return), MMIO reads (and
 * of them fault-status reads) and writes per successful call, and for the engine calls per
 * wait descriptor. A second table does the same with one device-TLB invalidation
 * (answered in 2 us) in every call.
 *
 * A third figure is the mean virtual latency of one call (entry to return).
 *
 * Usage: engine [calls-per-cpu] [--max-cpus N] [--csv FILE]   (defaults 32 and 64; with --csv
 * the figures also go to FILE, one row per table and CPU count; `make plots` draws them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qinval/engine.h>

#include "drivers/driver.h"
#include "sim/sim.h"
#include "util/atomic_file.h"

#define BATCH   2
#define MAX_LOG 7 /* 2^0 .. 2^6 CPUs */

struct run {
    const sim_driver_ops *ops;
    unsigned calls;
    bool devtlb;
    void *drv;
    uint32_t *ready;
    unsigned ok, failed;
    hw_time first, last;
    hw_time latency_sum; /* of every call, entry to return */
    size_t log_from;
    hw_machine *hw;
    uint64_t rng;
};

/* Time order: the CPU whose next operation is due first runs first (ties broken by a seeded
 * generator), as on a machine where CPUs really run in parallel. */
static unsigned choose(void *ctx, const sim_world *w, const unsigned *c, unsigned n, uint64_t s)
{
    struct run *r = ctx;
    (void)s;
    unsigned best = 0, ties = 0;
    for (unsigned i = 0; i < n; i++) {
        hw_time ti = sim_cpu_time(w, c[i]), tb = sim_cpu_time(w, c[best]);
        if (i == 0 || ti < tb) {
            best = i;
            ties = 1;
        } else if (ti == tb) {
            r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
            if ((r->rng >> 33) % ++ties == 0)
                best = i;
        }
    }
    return best;
}

static void cpu_body(sim_world *w, unsigned cpu, void *arg)
{
    struct run *r = arg;
    qi_platform *p = sim_platform(w, cpu);
    if (cpu == 0) {
        struct drv_params prm = {.queue_len = 256, .ncpus = sim_get_config(w)->ncpus};
        r->drv = r->ops->init(p, &prm);
        if (!r->drv) {
            sim_abort(w, "driver init failed");
            return;
        }
        size_t n;
        hw_events(r->hw, &n);
        r->log_from = n;
        r->first = sim_now(w);
        qi_plat_store32(p, r->ready, 1);
    } else {
        while (!qi_plat_load32(p, r->ready))
            qi_plat_relax(p, 0);
    }
    vtd_desc d[BATCH];
    for (unsigned i = 0; i < r->calls; i++) {
        for (unsigned k = 0; k < BATCH; k++)
            d[k] = vtd_make_iotlb_page((uint16_t)(1 + cpu % 4),
                                       0x100000ull + (i * BATCH + k) * 4096, 0, false);
        if (r->devtlb)
            d[BATCH - 1] = vtd_make_devtlb(0x0100, 0x100000ull + i * 4096, 1);
        struct drv_submit_opts o = {0};
        hw_time t0 = sim_now(w);
        int rc = r->ops->submit(r->drv, p, d, BATCH, &o);
        r->latency_sum += sim_now(w) - t0;
        if (rc == DRV_OK)
            r->ok++;
        else
            r->failed++;
    }
    hw_time t = sim_now(w);
    if (t > r->last)
        r->last = t;
}

struct result {
    double per_batch;     /* qinval: calls per wait descriptor */
    double rate;          /* invalidations per virtual second */
    double reads, writes; /* MMIO per successful call */
    double latency_ns;    /* mean virtual time of a call */
    double fsts;          /* of the reads: the fault status register */
    bool ok;
};

static struct result measure(const sim_driver_ops *ops, unsigned ncpus, unsigned calls, bool devtlb)
{
    struct result res = {0};
    hw_config hc;
    hw_config_default(&hc);
    hc.mem_bytes = 4u << 20;
    hc.log_mmio_reads = true;
    hw_machine *hw = hw_create(&hc, NULL);
    hw_ep_config ec;
    hw_ep_config_default(&ec, 0x0100);
    hw_ep_add(hw, &ec, NULL);
    hw_paddr root = hw_tables_root(hw, 2);
    hw_tables_set_context(hw, root, 0x0100, 1, VTD_TT_DEVTLB, hw_tables_new_pgd(hw, 2), 2, 2);
    hw_mmio_write64(hw, VTD_REG_RTADDR, root);
    hw_mmio_write32(hw, VTD_REG_GCMD, (uint32_t)VTD_GCMD_SRTP);
    hw_advance(hw, hw_now(hw) + 1000);
    hw_mmio_write32(hw, VTD_REG_GCMD, (uint32_t)VTD_GCMD_TE);
    hw_advance(hw, hw_now(hw) + 1000);
    sim_config sc;
    sim_config_default(&sc);
    sc.ncpus = ncpus;
    sc.max_steps = 200000000;
    sim_world *w = sim_create(&sc, hw, NULL);
    struct run r = {.ops = ops, .calls = calls, .devtlb = devtlb, .hw = hw, .rng = 42};
    r.ready = sim_dma_alloc(sim_platform(w, 0), 4);
    sim_set_chooser(w, choose, &r);
    for (unsigned c = 0; c < ncpus; c++)
        sim_set_cpu(w, c, cpu_body, &r);
    sim_outcome out;
    sim_run(w, &out);
    if (out.stop == SIM_STOP_DONE && r.ok && r.last > r.first) {
        size_t n;
        const hw_event *ev = hw_events(hw, &n);
        size_t reads = 0, writes = 0, fsts = 0;
        for (size_t i = r.log_from; i < n && ev[i].t <= r.last; i++) {
            reads += ev[i].kind == HW_EV_MMIO_READ;
            fsts += ev[i].kind == HW_EV_MMIO_READ && ev[i].a == VTD_REG_FSTS;
            writes += ev[i].kind == HW_EV_MMIO_WRITE;
        }
        res.rate = (double)r.ok * BATCH / ((double)(r.last - r.first) / HW_S);
        res.reads = (double)reads / r.ok;
        res.writes = (double)writes / r.ok;
        res.latency_ns = (double)r.latency_sum / (r.ok + r.failed);
        res.fsts = (double)fsts / r.ok;
        res.ok = r.failed == 0;
        if (ops == sim_driver_find("qinval")) {
            const qi_engine_stats *st = qi_engine_get_stats((const qi_engine *)r.drv);
            res.per_batch = st->batches ? (double)st->submits / (double)st->batches : 0;
        }
    } else {
        fprintf(stderr, "%s, %u CPUs: run stopped: %s (%s)\n", ops->name, ncpus,
                sim_stop_name(out.stop), out.why);
    }
    sim_destroy(w);
    hw_destroy(hw);
    return res;
}

static void csv_row(FILE *csv, bool devtlb, unsigned n, const struct result *a,
                    const struct result *b)
{
    fprintf(csv, "%s,%u,%.0f,%.0f,%.0f,%.0f,%.3f,%.3f,%.3f,%.3f,%.2f,%d\n",
            devtlb ? "iotlb+devtlb" : "iotlb", n, a->rate, b->rate, a->latency_ns, b->latency_ns,
            a->reads, a->writes, b->reads, b->writes, a->per_batch, a->ok && b->ok);
}

static void table(unsigned calls, bool devtlb, unsigned max_cpus, FILE *csv)
{
    const sim_driver_ops *eng = sim_driver_find("qinval"), *ref = sim_driver_find("step1-nowait");
    printf("\n%s: %u calls of %u descriptors per CPU%s\n",
           devtlb ? "IOTLB + device-TLB" : "IOTLB only", calls, BATCH,
           devtlb ? " (the last one a device-TLB invalidation, 2 us round trip)" : "");
    printf("%5s | %14s %6s %6s %6s %6s | %14s %6s %6s %6s | %7s\n", "CPUs", "qinval inv/s", "rd/op",
           "fsts", "wr/op", "c/wait", "step1 inv/s", "rd/op", "fsts", "wr/op", "speedup");
    for (unsigned l = 0; l < MAX_LOG && (1u << l) <= max_cpus; l++) {
        unsigned n = 1u << l;
        struct result a = measure(eng, n, calls, devtlb), b = measure(ref, n, calls, devtlb);
        printf("%5u | %14.0f %6.2f %6.2f %6.2f %6.1f | %14.0f %6.2f %6.2f %6.2f | %6.2fx%s\n", n,
               a.rate, a.reads, a.fsts, a.writes, a.per_batch, b.rate, b.reads, b.fsts, b.writes,
               b.rate > 0 ? a.rate / b.rate : 0.0, a.ok && b.ok ? "" : "  (some calls failed)");
        if (csv)
            csv_row(csv, devtlb, n, &a, &b);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: engine [calls-per-cpu] [--max-cpus N] [--csv FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned calls = 32, max_cpus = 64;
    const char *csv_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--csv") && i + 1 < argc)
            csv_path = argv[++i];
        else if (!strcmp(argv[i], "--max-cpus") && i + 1 < argc)
            max_cpus = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            calls = (unsigned)strtoul(argv[i], NULL, 10);
        else
            return usage();
    }
    if (!calls || !max_cpus)
        return usage();
    af_file out = {.f = NULL};
    char why[AF_PATH_LEN + 128];
    af_signals("engine");
    if (csv_path && af_open(&out, csv_path, why, sizeof(why))) {
        fprintf(stderr, "engine: %s\n", why);
        return 2;
    }
    FILE *csv = out.f; /* written whole or not at all (src/util/atomic_file.h) */
    if (csv)
        fputs("workload,cpus,qinval_inv_per_s,step1_inv_per_s,qinval_latency_ns,"
              "step1_latency_ns,qinval_reads_per_call,qinval_writes_per_call,"
              "step1_reads_per_call,step1_writes_per_call,qinval_calls_per_wait,all_ok\n",
              csv);
    printf("qinval engine vs step1-nowait, virtual time (model cost model), queue of 256\n");
    table(calls, false, max_cpus, csv);
    table(calls, true, max_cpus, csv);
    if (csv && af_commit(&out, why, sizeof(why))) {
        fprintf(stderr, "engine: %s\n", why);
        return 3;
    }
    return 0;
}
