/*
 * engine_run_qemu.c — `qinval engine-run --hw qemu`: the workload of engine_work.h on QEMU's
 * intel-iommu, through the engine built under the qemu_ names (src/qemu/qemu_names.h) over
 * src/qemu/platform_qemu.c. One host thread per submitter, all sharing one qtest connection.
 *
 * The machine: a q35 with intel-iommu (device-TLB support on) and an ATS-capable function
 * behind a root port. Nothing assigns bus numbers without firmware, and QEMU completes every
 * device-TLB invalidation at once whatever its source-id, so EW_SID names the function as
 * firmware would number it (01:00.0); QEMU cannot show a slow or dead device.
 */
#include "qemu/platform_qemu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/engine_run.h"

#define GUEST_BASE  0x100000ull /* mirrors above the first MiB of guest RAM */
#define GUEST_BYTES 0x400000ull

static const char *const qemu_args[] = {
    "-device", "intel-iommu,device-iotlb=on",
    "-device", "pcie-root-port,id=rp0",
    "-device", "virtio-net-pci,bus=rp0,ats=on,iommu_platform=on"};

struct qrun {
    const ew_plan *pl;
    qemu_host *h;
    qi_engine *e;
    qi_result *res;
    qemu_host_stats base; /* after the set-up: the figures count the workload's requests */
    uint64_t base_requests;
    pthread_barrier_t start;
};

struct qthread {
    struct qrun *run;
    unsigned t;
    qi_platform *p;
};

static void q_submit(void *ctx, const vtd_desc *d, unsigned n, qi_result *res)
{
    struct qthread *th = ctx;
    qi_engine_submit(th->run->e, th->p, d, n, NULL, res);
}

static bool q_stop(void *ctx)
{
    return qemu_host_failed(((struct qthread *)ctx)->run->h);
}

static void *q_thread(void *arg)
{
    struct qthread *th = arg;
    pthread_barrier_wait(&th->run->start);
    ew_thread(th->run->pl, th->t, q_submit, th, q_stop, th->run->res);
    return NULL;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queue, status words and engine memory; the engine initialised and enabled. */
static int q_setup(struct qrun *run, qi_slot **slots, char *err, size_t errlen)
{
    void *queue = qemu_dma_alloc(run->h, (size_t)EW_ENTRIES * 16, 4096, false);
    volatile uint32_t *status = qemu_dma_alloc(run->h, (EW_ENTRIES + 1) * 4, 4, true);
    run->e = calloc(1, sizeof(*run->e));
    *slots = calloc(EW_ENTRIES, sizeof(qi_slot));
    if (!queue || !status || !run->e || !*slots) {
        snprintf(err, errlen, "out of memory for the engine (host or guest)");
        return ERUN_FAILED;
    }
    qi_engine_config cfg;
    ew_engine_config(&cfg, queue, status, *slots);
    qi_platform *p = qemu_host_cpu(run->h, 0);
    int rc = qi_engine_init(run->e, p, &cfg);
    if (rc == 0)
        rc = qi_engine_enable(run->e, p, 0);
    if (rc) {
        snprintf(err, errlen, "engine set-up failed on QEMU (%d)%s%s", rc,
                 qemu_host_failed(run->h) ? ": " : "", qemu_host_failed(run->h) ? "qtest" : "");
        return ERUN_FAILED;
    }
    return ERUN_OK;
}

static void q_threads(struct qrun *run, ew_figures *fig)
{
    unsigned n = run->pl->threads;
    pthread_t tid[EW_MAX_THREADS];
    struct qthread th[EW_MAX_THREADS];
    pthread_barrier_init(&run->start, NULL, n);
    double t0 = mono_s();
    for (unsigned t = 0; t < n; t++) {
        th[t] = (struct qthread){.run = run, .t = t, .p = qemu_host_cpu(run->h, t)};
        pthread_create(&tid[t], NULL, q_thread, &th[t]);
    }
    for (unsigned t = 0; t < n; t++)
        pthread_join(tid[t], NULL);
    fig->wall_s = mono_s() - t0;
    pthread_barrier_destroy(&run->start);
}

static void q_figures(struct qrun *run, qtest *q, ew_figures *fig)
{
    qemu_host_stats st;
    qemu_host_stats_get(run->h, &st);
    fig->calls = ew_ncalls(run->pl);
    fig->wraps = st.wraps - run->base.wraps;
    fig->tail_writes = st.tail_writes - run->base.tail_writes;
    fig->requests = qtest_requests(q) - run->base_requests;
    fig->stats = *qi_engine_get_stats(run->e);
    fig->complete = !qemu_host_failed(run->h);
    if (!fig->complete)
        snprintf(fig->why, sizeof(fig->why), "QEMU failed: %s", qtest_error(q));
}

int erun_qemu(const ew_plan *pl, qi_result *res, ew_figures *fig, char *err, size_t errlen)
{
    qtest_options o = {.args = qemu_args, .n_args = sizeof(qemu_args) / sizeof(qemu_args[0])};
    qtest *q = qtest_start(&o, err, errlen);
    if (!q)
        return ERUN_UNAVAILABLE;
    struct qrun run = {.pl = pl, .res = res};
    qi_slot *slots = NULL;
    run.h = qemu_host_create(q, GUEST_BASE, GUEST_BYTES);
    int rc = run.h ? q_setup(&run, &slots, err, errlen) : ERUN_FAILED;
    if (rc == ERUN_OK) {
        qemu_host_stats_get(run.h, &run.base);
        run.base_requests = qtest_requests(q);
        q_threads(&run, fig);
        q_figures(&run, q, fig);
    } else if (!run.h) {
        snprintf(err, errlen, "out of memory");
    }
    qemu_host_destroy(run.h);
    free(run.e);
    free(slots);
    qtest_stop(q);
    return rc;
}
