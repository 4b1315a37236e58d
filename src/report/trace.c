/*
 * trace.c — one run as Chrome trace event JSON (see trace.h for the tracks). The merged event
 * stream is turned into trace records (spans are closed when their end event comes, or at the
 * end of the run), the records are sorted by time, then written with the track names first.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <qinval/vtd_format.h>

#include "report/jsonw.h"
#include "report/stream.h"
#include "report/trace.h"

enum { PID_CHECKER = 1, PID_IOMMU = 2, PID_CPU0 = 10, PID_EP0 = 1000 };
enum { TID_VERDICT = 1, TID_SETUP };
enum { TID_CALLS = 1, TID_LOCK, TID_IRQS, TID_CPU_EVENTS };
enum { TID_QUEUE = 1, TID_EXEC, TID_ERRORS };
enum { TID_ATS = 1, TID_LINK, TID_DMA, TID_EP_EVENTS };

#define MAX_LOCKS 8  /* locks one CPU holds at once */
#define MAX_ITAGS 32 /* ITags are 5 bits */

struct trec {
    hw_time ts, dur;
    size_t seq;
    char ph; /* M, X, i, b, e, C */
    char scope;
    int pid, tid;
    uint64_t id; /* async slices */
    char *name;
    char *args; /* JSON members without braces, or NULL */
};

struct cpu_state {
    bool in_call, irqs_off;
    uint64_t call_descs;
    hw_time call_t, irq_t;
    unsigned nlocks;
    uint64_t lock_addr[MAX_LOCKS];
    hw_time lock_t[MAX_LOCKS];
};

struct ep_state {
    unsigned link;
    hw_time link_t;
    bool ats_open[MAX_ITAGS];
    uint64_t ats_id[MAX_ITAGS];
};

struct builder {
    struct trec *v;
    size_t n, cap;
    bool oom;
    bool stopped; /* the stream was ended early (rep_trace_info.stop) */
    unsigned ncpus, neps;
    struct cpu_state *cpus;
    struct ep_state *eps;
    unsigned qlen, head, tail;
    int devtlb_out;
    uint64_t *exec_ids; /* fetch serials of the open ones */
    size_t nopen, cap_open;
};

static char *dup_text(struct builder *b, const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        b->oom = true;
    return d;
}

static struct trec *add(struct builder *b, char ph, int pid, int tid, hw_time ts, const char *name)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct trec *v = realloc(b->v, cap * sizeof(*v));
        if (!v) {
            b->oom = true;
            return NULL;
        }
        b->v = v;
        b->cap = cap;
    }
    struct trec *r = &b->v[b->n];
    memset(r, 0, sizeof(*r));
    r->seq = b->n++;
    r->ph = ph;
    r->pid = pid;
    r->tid = tid;
    r->ts = ts;
    r->name = dup_text(b, name);
    return r;
}

/* Members "key": "text" (text escaped). */
static void set_text_arg(struct builder *b, struct trec *r, const char *key, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = r ? open_memstream(&buf, &len) : NULL;
    if (!m) {
        b->oom = b->oom || r;
        return;
    }
    rep_json_string(m, key);
    fputc(':', m);
    rep_json_string(m, text);
    if (fclose(m)) {
        free(buf);
        b->oom = true;
        return;
    }
    r->args = buf;
}

static void set_num_arg(struct builder *b, struct trec *r, const char *key, int64_t v)
{
    char buf[96];
    if (!r)
        return;
    snprintf(buf, sizeof(buf), "\"%s\":%" PRId64, key, v);
    r->args = dup_text(b, buf);
}

static void instant(struct builder *b, int pid, int tid, hw_time t, const char *name)
{
    struct trec *r = add(b, 'i', pid, tid, t, name);
    if (r)
        r->scope = 't';
}

static struct trec *slice(struct builder *b, int pid, int tid, hw_time from, hw_time to,
                          const char *name)
{
    struct trec *r = add(b, 'X', pid, tid, from, name);
    if (r)
        r->dur = to - from;
    return r;
}

static void counter(struct builder *b, hw_time t, const char *name, const char *series, int64_t v)
{
    set_num_arg(b, add(b, 'C', PID_IOMMU, 0, t, name), series, v);
}

/* ---- the CPUs ---- */

static void cpu_event(struct builder *b, const struct rep_item *it)
{
    const sim_event *e = it->sim;
    struct cpu_state *c = &b->cpus[e->cpu];
    int pid = PID_CPU0 + e->cpu;
    char name[64];
    switch (e->kind) {
    case SIM_EV_CALL:
        c->in_call = true;
        c->call_t = e->t;
        c->call_descs = e->a;
        break;
    case SIM_EV_RETURN:
        if (c->in_call) {
            snprintf(name, sizeof(name), "submit %" PRIu64 " descriptor%s", c->call_descs,
                     c->call_descs == 1 ? "" : "s");
            set_num_arg(b, slice(b, pid, TID_CALLS, c->call_t, e->t, name), "result",
                        (int64_t)e->a);
            c->in_call = false;
        }
        break;
    case SIM_EV_IRQ_OFF:
        c->irqs_off = true;
        c->irq_t = e->t;
        break;
    case SIM_EV_IRQ_ON:
        if (c->irqs_off)
            slice(b, pid, TID_IRQS, c->irq_t, e->t, "interrupts off");
        c->irqs_off = false;
        break;
    case SIM_EV_LOCK:
        if (c->nlocks < MAX_LOCKS) {
            c->lock_addr[c->nlocks] = e->a;
            c->lock_t[c->nlocks++] = e->t;
        }
        break;
    case SIM_EV_UNLOCK:
        for (unsigned k = c->nlocks; k-- > 0;)
            if (c->lock_addr[k] == e->a) {
                slice(b, pid, TID_LOCK, c->lock_t[k], e->t, "lock held");
                memmove(&c->lock_addr[k], &c->lock_addr[k + 1],
                        (c->nlocks - k - 1) * sizeof(c->lock_addr[0]));
                memmove(&c->lock_t[k], &c->lock_t[k + 1], (c->nlocks - k - 1) * sizeof(hw_time));
                c->nlocks--;
                break;
            }
        break;
    default:
        instant(b, pid, TID_CPU_EVENTS, e->t, it->what);
    }
}

static void close_cpus(struct builder *b, hw_time end)
{
    for (unsigned i = 0; i < b->ncpus; i++) {
        struct cpu_state *c = &b->cpus[i];
        int pid = PID_CPU0 + (int)i;
        if (c->in_call) {
            set_num_arg(b, slice(b, pid, TID_CALLS, c->call_t, end, "submit (never returned)"),
                        "descriptors", (int64_t)c->call_descs);
        }
        if (c->irqs_off)
            slice(b, pid, TID_IRQS, c->irq_t, end, "interrupts off (still at the end)");
        for (unsigned k = 0; k < c->nlocks; k++)
            slice(b, pid, TID_LOCK, c->lock_t[k], end, "lock held (still at the end)");
    }
}

/* ---- the IOMMU ---- */

static bool is_devtlb(uint64_t type)
{
    return type == VTD_DESC_DEVTLB || type == VTD_DESC_PDEVTLB;
}

static void occupancy(struct builder *b, hw_time t)
{
    unsigned occ = b->qlen ? (b->tail + b->qlen - b->head) % b->qlen : 0;
    counter(b, t, "ring occupancy", "descriptors", occ);
}

/* Whether fetch serial `id` has an open execute slice; with `close`, it no longer has. */
static bool exec_open(struct builder *b, uint64_t id, bool close)
{
    for (size_t k = 0; k < b->nopen; k++)
        if (b->exec_ids[k] == id) {
            if (close)
                b->exec_ids[k] = b->exec_ids[--b->nopen];
            return true;
        }
    return false;
}

/* EXEC_START opens an async slice named after the slot, EXEC_DONE closes it. A wait
 * descriptor logs no start (it runs once everything before it is done): its done is an
 * instant. */
static void exec_slice(struct builder *b, const struct rep_item *it, bool begin)
{
    const hw_event *e = it->hw;
    if (!begin && !exec_open(b, e->b, true)) {
        instant(b, PID_IOMMU, TID_QUEUE, e->t, it->what);
        return;
    }
    if (begin && b->nopen == b->cap_open)
        return; /* more than cap_open descriptors in execution: not drawn */
    char name[64];
    snprintf(name, sizeof(name), "slot %d: %s", e->slot, vtd_desc_type_name((unsigned)e->a));
    struct trec *r = add(b, begin ? 'b' : 'e', PID_IOMMU, TID_EXEC, e->t, name);
    if (r)
        r->id = e->b; /* the fetch serial: one per fetched descriptor */
    if (!begin && r && (e->flags & HW_EVF_TIMEDOUT))
        set_text_arg(b, r, "result", "timed out, not executed");
    if (begin)
        b->exec_ids[b->nopen++] = e->b;
    if (is_devtlb(e->a)) {
        b->devtlb_out += begin ? 1 : -1;
        counter(b, e->t, "outstanding device-TLB invalidations", "invalidations", b->devtlb_out);
    }
}

static void iommu_event(struct builder *b, const struct rep_item *it)
{
    const hw_event *e = it->hw;
    switch (e->kind) {
    case HW_EV_QI_ENABLE:
        b->qlen = (unsigned)e->b;
        b->head = b->tail = 0;
        instant(b, PID_IOMMU, TID_QUEUE, e->t, it->what);
        occupancy(b, e->t);
        break;
    case HW_EV_QI_DISABLE:
        b->head = b->tail = 0;
        instant(b, PID_IOMMU, TID_QUEUE, e->t, it->what);
        occupancy(b, e->t);
        break;
    case HW_EV_TAIL:
    case HW_EV_HEAD:
        *(e->kind == HW_EV_TAIL ? &b->tail : &b->head) = (unsigned)e->slot;
        instant(b, PID_IOMMU, TID_QUEUE, e->t, it->what);
        occupancy(b, e->t);
        break;
    case HW_EV_EXEC_START:
    case HW_EV_EXEC_DONE:
        exec_slice(b, it, e->kind == HW_EV_EXEC_START);
        break;
    case HW_EV_WAIT_ABORT:
    case HW_EV_DISCARD:
    case HW_EV_IQE:
    case HW_EV_ITE:
    case HW_EV_ICE:
    case HW_EV_ERR_CLEAR:
    case HW_EV_IRQ:
    case HW_EV_SW_VIOLATION:
    case HW_EV_MMIO_BAD:
        instant(b, PID_IOMMU, TID_ERRORS, e->t, it->what);
        break;
    default:
        instant(b, PID_IOMMU, TID_QUEUE, e->t, it->what);
    }
}

/* ---- the endpoints ---- */

static const char *link_state_name(unsigned l)
{
    return l == HW_LINK_UP ? "link up" : l == HW_LINK_DOWN ? "link down (silent)" : "removed";
}

static void ats_end(struct builder *b, const hw_event *e, unsigned itag, const char *result)
{
    struct ep_state *s = &b->eps[e->ep];
    if (itag >= MAX_ITAGS || !s->ats_open[itag])
        return;
    char name[32];
    snprintf(name, sizeof(name), "itag %u in flight", itag);
    struct trec *r = add(b, 'e', PID_EP0 + e->ep, TID_ATS, e->t, name);
    if (r)
        r->id = s->ats_id[itag];
    set_text_arg(b, r, "result", result);
    s->ats_open[itag] = false;
}

static void ats_begin(struct builder *b, const hw_event *e)
{
    struct ep_state *s = &b->eps[e->ep];
    if (e->c >= MAX_ITAGS)
        return;
    ats_end(b, e, e->c, "superseded");
    char name[32];
    snprintf(name, sizeof(name), "itag %u in flight", e->c);
    struct trec *r = add(b, 'b', PID_EP0 + e->ep, TID_ATS, e->t, name);
    if (r)
        r->id = (uint64_t)e->seq << 8 | (uint64_t)e->ep;
    s->ats_open[e->c] = true;
    s->ats_id[e->c] = (uint64_t)e->seq << 8 | (uint64_t)e->ep;
}

static void ep_event(struct builder *b, const struct rep_item *it)
{
    const hw_event *e = it->hw;
    int pid = PID_EP0 + e->ep;
    struct ep_state *s = &b->eps[e->ep];
    switch (e->kind) {
    case HW_EV_ATS_REQ:
        ats_begin(b, e);
        instant(b, pid, TID_ATS, e->t, it->what);
        break;
    case HW_EV_ATS_ANSWER:
    case HW_EV_ATS_LOST:
        ats_end(b, e, e->c, it->what);
        instant(b, pid, TID_ATS, e->t, it->what);
        break;
    case HW_EV_ATS_CPL:
        instant(b, pid, TID_ATS, e->t, it->what);
        break;
    case HW_EV_LINK:
        slice(b, pid, TID_LINK, s->link_t, e->t, link_state_name(s->link));
        s->link = e->c;
        s->link_t = e->t;
        break;
    case HW_EV_DMA:
    case HW_EV_TRANSLATE:
    case HW_EV_ATC_FILL:
        instant(b, pid, TID_DMA, e->t, it->what);
        break;
    default:
        instant(b, pid, TID_EP_EVENTS, e->t, it->what);
    }
}

static void close_eps(struct builder *b, hw_time end)
{
    for (unsigned i = 0; i < b->neps; i++) {
        struct ep_state *s = &b->eps[i];
        slice(b, PID_EP0 + (int)i, TID_LINK, s->link_t, end, link_state_name(s->link));
        for (unsigned t = 0; t < MAX_ITAGS; t++)
            if (s->ats_open[t]) {
                hw_event fake = {.t = end, .ep = (int16_t)i};
                ats_end(b, &fake, t, "still in flight at the end");
            }
    }
}

static void close_exec(struct builder *b, hw_time end)
{
    while (b->nopen) {
        uint64_t id = b->exec_ids[--b->nopen];
        struct trec *r = add(b, 'e', PID_IOMMU, TID_EXEC, end, NULL);
        if (!r)
            return;
        r->id = id;
        /* the name of its begin */
        for (size_t k = b->n - 1; k-- > 0;)
            if (b->v[k].ph == 'b' && b->v[k].pid == PID_IOMMU && b->v[k].id == id) {
                r->name = dup_text(b, b->v[k].name);
                break;
            }
        set_text_arg(b, r, "result", "still executing at the end");
    }
}

/* ---- dispatch ---- */

static void on_item(struct builder *b, const struct rep_item *it)
{
    if (it->sim) {
        if (it->sim->cpu >= 0 && (unsigned)it->sim->cpu < b->ncpus)
            cpu_event(b, it);
        else
            instant(b, PID_CHECKER, TID_SETUP, it->t, it->what);
        return;
    }
    if (it->cpu >= 0 && (unsigned)it->cpu < b->ncpus) {
        instant(b, PID_CPU0 + it->cpu, TID_CPU_EVENTS, it->t, it->what);
        return;
    }
    bool ep_kind = it->agent[0] == 'e' && it->agent[1] == 'p';
    if (it->hw->kind == HW_EV_ATS_REQ || ep_kind || it->hw->kind == HW_EV_ATS_CPL) {
        if (it->hw->ep >= 0 && (unsigned)it->hw->ep < b->neps) {
            ep_event(b, it);
            return;
        }
    }
    if (!strcmp(it->agent, "sw"))
        instant(b, PID_CHECKER, TID_SETUP, it->t, it->what);
    else
        iommu_event(b, it);
}

/* How many CPUs and endpoints the run had, and when its last event happened. */
static hw_time survey(const sim_world *w, unsigned *ncpus, unsigned *neps)
{
    size_t n, nhw;
    const sim_event *ev = sim_events(w, &n);
    const hw_event *hev = hw_events(sim_hw(w), &nhw);
    hw_time last = 0;
    *ncpus = 0;
    *neps = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].cpu >= 0 && (unsigned)ev[i].cpu + 1 > *ncpus)
            *ncpus = (unsigned)ev[i].cpu + 1;
        last = ev[i].t > last ? ev[i].t : last;
    }
    for (size_t i = 0; i < nhw; i++) {
        if (hev[i].ep >= 0 && (unsigned)hev[i].ep + 1 > *neps)
            *neps = (unsigned)hev[i].ep + 1;
        if (hev[i].c2 && hev[i].kind <= HW_EV_SW_VIOLATION && hev[i].c2 > *ncpus)
            *ncpus = hev[i].c2;
        last = hev[i].t > last ? hev[i].t : last;
    }
    return last;
}

static void build(struct builder *b, const sim_world *w, const struct rep_trace_info *info)
{
    hw_time end = survey(w, &b->ncpus, &b->neps);
    end = info->end > end ? info->end : end;
    end = info->verdict_t > end ? info->verdict_t : end;
    b->cpus = calloc(b->ncpus + 1, sizeof(*b->cpus));
    b->eps = calloc(b->neps + 1, sizeof(*b->eps));
    b->cap_open = 4096;
    b->exec_ids = calloc(b->cap_open, sizeof(*b->exec_ids));
    if (!b->cpus || !b->eps || !b->exec_ids) {
        b->oom = true;
        return;
    }
    counter(b, 0, "ring occupancy", "descriptors", 0);
    counter(b, 0, "outstanding device-TLB invalidations", "invalidations", 0);
    rep_stream s;
    struct rep_item it;
    rep_stream_init(&s, w, info->stop);
    while (rep_stream_next(&s, &it))
        on_item(b, &it);
    b->stopped = s.stopped;
    close_cpus(b, end);
    close_eps(b, end);
    close_exec(b, end);
    struct trec *r = add(b, 'i', PID_CHECKER, TID_VERDICT, info->verdict_t, info->verdict);
    if (r)
        r->scope = 'g';
    set_text_arg(b, r, "why", info->why);
}

/* ---- writing ---- */

static int by_time(const void *pa, const void *pb)
{
    const struct trec *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void put_ts(FILE *out, const char *key, hw_time ns)
{
    fprintf(out, ",\"%s\":%" PRIu64 ".%03u", key, (uint64_t)(ns / 1000), (unsigned)(ns % 1000));
}

static void put_record(FILE *out, const struct trec *r)
{
    fprintf(out, "{\"ph\":\"%c\",\"pid\":%d,\"tid\":%d", r->ph, r->pid, r->tid);
    put_ts(out, "ts", r->ts);
    if (r->ph == 'X')
        put_ts(out, "dur", r->dur);
    if (r->ph == 'b' || r->ph == 'e')
        fprintf(out, ",\"cat\":\"%s\",\"id\":\"0x%" PRIx64 "\"",
                r->pid == PID_IOMMU ? "execute" : "ats", r->id);
    if (r->scope)
        fprintf(out, ",\"s\":\"%c\"", r->scope);
    fputs(",\"name\":", out);
    rep_json_string(out, r->name ? r->name : "");
    if (r->args)
        fprintf(out, ",\"args\":{%s}", r->args);
    fputs("}", out);
}

static void put_meta(FILE *out, int pid, int tid, const char *what, const char *name, int sort)
{
    fprintf(out, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"ts\":0,\"name\":\"%s\",\"args\":{", pid,
            tid, what);
    if (sort >= 0)
        fprintf(out, "\"sort_index\":%d}},", sort);
    else {
        fputs("\"name\":", out);
        rep_json_string(out, name);
        fputs("}},", out);
    }
    fputc('\n', out);
}

static void put_process(FILE *out, int pid, const char *name, int sort, const char *const *threads,
                        int nthreads)
{
    put_meta(out, pid, 0, "process_name", name, -1);
    put_meta(out, pid, 0, "process_sort_index", NULL, sort);
    for (int t = 0; t < nthreads; t++) {
        put_meta(out, pid, t + 1, "thread_name", threads[t], -1);
        put_meta(out, pid, t + 1, "thread_sort_index", NULL, t + 1);
    }
}

static void write_tracks(FILE *out, const struct builder *b, const struct rep_trace_info *info)
{
    static const char *const checker[] = {"verdict", "set-up and scheduler"};
    static const char *const cpu[] = {"submit calls", "lock held", "interrupts off", "events"};
    static const char *const iommu[] = {"queue", "execute", "errors"};
    static const char *const ep[] = {"ATS", "link", "DMA", "events"};
    char name[160];
    snprintf(name, sizeof(name), "checker: %s", info->title);
    put_process(out, PID_CHECKER, name, 0, checker, 2);
    for (unsigned i = 0; i < b->ncpus; i++) {
        snprintf(name, sizeof(name), "cpu%u", i);
        put_process(out, PID_CPU0 + (int)i, name, 1 + (int)i, cpu, 4);
    }
    put_process(out, PID_IOMMU, "iommu", 1 + (int)b->ncpus, iommu, 3);
    for (unsigned i = 0; i < b->neps; i++) {
        snprintf(name, sizeof(name), "ep%u", i);
        put_process(out, PID_EP0 + (int)i, name, 2 + (int)(b->ncpus + i), ep, 4);
    }
}

static void write_all(FILE *out, struct builder *b, const struct rep_trace_info *info)
{
    if (b->n) /* qsort's base must not be NULL, even for no element */
        qsort(b->v, b->n, sizeof(*b->v), by_time);
    fputs("{\"traceEvents\":[\n", out);
    write_tracks(out, b, info);
    for (size_t i = 0; i < b->n; i++) {
        put_record(out, &b->v[i]);
        fputs(i + 1 < b->n ? ",\n" : "\n", out);
    }
    fputs("],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"title\":", out);
    rep_json_string(out, info->title);
    fputs(",\"verdict\":", out);
    rep_json_string(out, info->verdict);
    fputs(",\"why\":", out);
    rep_json_string(out, info->why);
    fputs("}}\n", out);
}

static void builder_free(struct builder *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->v[i].name);
        free(b->v[i].args);
    }
    free(b->v);
    free(b->cpus);
    free(b->eps);
    free(b->exec_ids);
}

int rep_trace_write(FILE *out, const sim_world *w, const struct rep_trace_info *info)
{
    struct builder b;
    memset(&b, 0, sizeof(b));
    build(&b, w, info);
    if (!b.oom && !b.stopped)
        write_all(out, &b, info);
    builder_free(&b);
    return b.stopped ? -2 : b.oom || ferror(out) ? -1 : 0;
}
