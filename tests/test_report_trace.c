/*
 * test_report_trace.c — the Chrome trace of a run (src/report/trace.c), parsed back with the
 * project's JSON reader and checked as a trace viewer would read it: a traceEvents array of
 * well-formed events in time order; named process and thread tracks for each CPU, the IOMMU
 * and the endpoint; complete slices that nest on their track; async slices that begin and end
 * in pairs; the ring-occupancy and outstanding device-TLB counters; the verdict as a global
 * instant with the oracle's words at the verdict's time; and lock-held and submit-call slices
 * whose durations are exactly those of the run's own CPU events.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check/explore.h"
#include "cli/ce_file.h"
#include "cli/json.h"
#include "report/trace.h"

#define MAX_SLICES 4096

/* What the run itself says, gathered from its CPU events while the world exists. */
struct expected {
    char *json;
    size_t len;
    chk_result res;
    uint64_t lock_ns, call_ns; /* total lock-held and submit-call time of cpu0 */
    unsigned locks, calls;
    hw_time end;
};

static void observe(void *ctx, const sim_world *w, const chk_result *res)
{
    struct expected *x = ctx;
    size_t n;
    const sim_event *ev = sim_events(w, &n);
    hw_time lock_t = 0, call_t = 0;
    bool locked = false, called = false;
    x->end = sim_now(w) > res->outcome.t ? sim_now(w) : res->outcome.t;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].cpu != 0)
            continue;
        if (ev[i].kind == SIM_EV_LOCK)
            locked = true, lock_t = ev[i].t;
        if (ev[i].kind == SIM_EV_UNLOCK && locked)
            locked = false, x->locks++, x->lock_ns += ev[i].t - lock_t;
        if (ev[i].kind == SIM_EV_CALL)
            called = true, call_t = ev[i].t;
        if (ev[i].kind == SIM_EV_RETURN && called)
            called = false, x->calls++, x->call_ns += ev[i].t - call_t;
    }
    if (locked)
        x->locks++, x->lock_ns += x->end - lock_t;
    if (called)
        x->calls++, x->call_ns += x->end - call_t;
    FILE *m = open_memstream(&x->json, &x->len);
    assert_non_null(m);
    struct rep_trace_info info = {.title = "test",
                                  .verdict = chk_verdict_name(res->verdict),
                                  .why = res->why,
                                  .verdict_t = res->outcome.t,
                                  .end = sim_now(w)};
    assert_int_equal(rep_trace_write(m, w, &info), 0);
    assert_int_equal(fclose(m), 0);
}

static void run(const char *driver, const char *scenario_name, struct expected *x)
{
    scenario *sc = malloc(sizeof(*sc));
    const sim_driver_ops *drv;
    assert_non_null(sc);
    assert_int_equal(cli_load(driver, scenario_name, NULL, 0, CLI_SETS_ARGS, sc, &drv), 0);
    memset(x, 0, sizeof(*x));
    chk_observer obs = {.fn = observe, .ctx = x};
    chk_replay_observed(sc, drv, NULL, 0, NULL, &obs, &x->res);
    free(sc);
    assert_non_null(x->json);
}

static int64_t ns(const json_value *v)
{
    assert_non_null(v);
    assert_int_equal(v->type, JV_NUMBER);
    return llround(v->number * 1000.0);
}

static const char *str(const json_value *obj, const char *key)
{
    const json_value *v = json_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, JV_STRING);
    return v->string;
}

static int64_t num(const json_value *obj, const char *key)
{
    const json_value *v = json_get(obj, key);
    assert_non_null(v);
    assert_int_equal(v->type, JV_NUMBER);
    return (int64_t)v->number;
}

/* The pid of the process named `name`, or -1. */
static int64_t pid_of(const json_value *events, const char *name)
{
    for (size_t i = 0; i < events->len; i++) {
        const json_value *e = &events->items[i];
        if (!strcmp(str(e, "ph"), "M") && !strcmp(str(e, "name"), "process_name") &&
            !strcmp(str(json_get(e, "args"), "name"), name))
            return num(e, "pid");
    }
    return -1;
}

static bool has_thread(const json_value *events, int64_t pid, const char *name)
{
    for (size_t i = 0; i < events->len; i++) {
        const json_value *e = &events->items[i];
        if (!strcmp(str(e, "ph"), "M") && num(e, "pid") == pid &&
            !strcmp(str(e, "name"), "thread_name") &&
            !strcmp(str(json_get(e, "args"), "name"), name))
            return true;
    }
    return false;
}

struct slice {
    int64_t pid, tid, ts, end;
};

/* Complete slices on one track never overlap partially: each is inside the one still open. */
static void check_nesting(const struct slice *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (s[j].pid != s[i].pid || s[j].tid != s[i].tid || s[j].end <= s[i].ts)
                continue;
            if (s[i].end > s[j].end)
                fail_msg("slices overlap on pid %lld tid %lld at %lld ns", (long long)s[i].pid,
                         (long long)s[i].tid, (long long)s[i].ts);
        }
}

struct summary {
    size_t slices, begins, ends, instants;
    int64_t ring_max, devtlb_max, devtlb_last;
    uint64_t lock_ns, call_ns;
    unsigned locks, calls, calls_ok;
    const json_value *verdict;
};

static void check_counter(const json_value *e, struct summary *s)
{
    const char *name = str(e, "name");
    const json_value *args = json_get(e, "args");
    if (!strcmp(name, "ring occupancy")) {
        int64_t v = num(args, "descriptors");
        assert_true(v >= 0 && v < 65536);
        s->ring_max = v > s->ring_max ? v : s->ring_max;
    } else if (!strcmp(name, "outstanding device-TLB invalidations")) {
        int64_t v = num(args, "invalidations");
        assert_true(v >= 0);
        s->devtlb_max = v > s->devtlb_max ? v : s->devtlb_max;
        s->devtlb_last = v;
    } else {
        fail_msg("unknown counter %s", name);
    }
}

static void check_cpu0_slice(const json_value *e, int64_t cpu0, int64_t dur, struct summary *s)
{
    if (num(e, "pid") != cpu0)
        return;
    if (num(e, "tid") == 2 && !strncmp(str(e, "name"), "lock held", 9)) {
        s->locks++;
        s->lock_ns += (uint64_t)dur;
    }
    if (num(e, "tid") == 1 && !strncmp(str(e, "name"), "submit", 6)) {
        s->calls++;
        s->call_ns += (uint64_t)dur;
        const json_value *args = json_get(e, "args");
        s->calls_ok += json_get(args, "result") && num(args, "result") == 0;
    }
}

/* Every event: well formed, in time order; then per kind. */
static void walk(const json_value *events, int64_t cpu0, struct summary *s)
{
    static struct slice slices[MAX_SLICES];
    static char open_ids[MAX_SLICES][48];
    size_t nopen = 0;
    int64_t last_ts = 0;
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < events->len; i++) {
        const json_value *e = &events->items[i];
        assert_int_equal(e->type, JV_OBJECT);
        const char *ph = str(e, "ph");
        str(e, "name");
        int64_t ts = ns(json_get(e, "ts"));
        num(e, "pid");
        num(e, "tid");
        if (!strcmp(ph, "M"))
            continue;
        assert_true(ts >= last_ts); /* sorted, so monotonic on every track */
        last_ts = ts;
        if (!strcmp(ph, "X")) {
            int64_t dur = ns(json_get(e, "dur"));
            assert_true(dur >= 0);
            assert_true(s->slices < MAX_SLICES);
            slices[s->slices++] = (struct slice){num(e, "pid"), num(e, "tid"), ts, ts + dur};
            check_cpu0_slice(e, cpu0, dur, s);
        } else if (!strcmp(ph, "b") || !strcmp(ph, "e")) {
            char key[48];
            snprintf(key, sizeof(key), "%s/%s", str(e, "cat"), str(e, "id"));
            if (*ph == 'b') {
                assert_true(nopen < MAX_SLICES);
                snprintf(open_ids[nopen++], sizeof(open_ids[0]), "%s", key);
                s->begins++;
                continue;
            }
            size_t k = 0;
            while (k < nopen && strcmp(open_ids[k], key))
                k++;
            if (k == nopen)
                fail_msg("async end %s without a begin", key);
            memcpy(open_ids[k], open_ids[--nopen], sizeof(open_ids[0]));
            s->ends++;
        } else if (!strcmp(ph, "C")) {
            check_counter(e, s);
        } else if (!strcmp(ph, "i")) {
            s->instants++;
            if (!strcmp(str(e, "s"), "g"))
                s->verdict = e;
        } else {
            fail_msg("unexpected phase %s", ph);
        }
    }
    assert_int_equal(nopen, 0);
    check_nesting(slices, s->slices);
}

static const json_value *parse(const struct expected *x, json_value **root)
{
    char err[200];
    *root = json_parse(x->json, x->len, err, sizeof(err));
    if (!*root)
        fail_msg("the trace is not JSON: %s", err);
    const json_value *events;
    assert_int_equal(json_get_typed(*root, "traceEvents", JV_ARRAY, &events, err, sizeof(err)), 0);
    return events;
}

static void check_tracks(const json_value *events, int64_t *cpu0)
{
    *cpu0 = pid_of(events, "cpu0");
    int64_t iommu = pid_of(events, "iommu"), ep0 = pid_of(events, "ep0");
    assert_true(*cpu0 >= 0 && iommu >= 0 && ep0 >= 0);
    assert_true(*cpu0 != iommu && iommu != ep0);
    assert_true(has_thread(events, *cpu0, "submit calls"));
    assert_true(has_thread(events, *cpu0, "lock held"));
    assert_true(has_thread(events, *cpu0, "interrupts off"));
    assert_true(has_thread(events, iommu, "execute"));
    assert_true(has_thread(events, iommu, "errors"));
    assert_true(has_thread(events, ep0, "ATS"));
    assert_true(has_thread(events, ep0, "link"));
}

/* Run driver on scenario, parse its trace and check what holds for every trace: the tracks,
 * the event rules (walk), cpu0's lock-held and submit-call slices against the run's own
 * events, and the verdict instant (name, the oracle's words, time). */
static void check_trace(const char *driver, const char *scenario_name, enum chk_verdict want,
                        struct summary *s)
{
    struct expected x;
    run(driver, scenario_name, &x);
    assert_int_equal(x.res.verdict, want);
    json_value *root;
    const json_value *events = parse(&x, &root);
    int64_t cpu0;
    check_tracks(events, &cpu0);
    walk(events, cpu0, s);
    assert_true(s->slices > 0 && s->instants > 0 && s->begins == s->ends && s->begins > 0);
    assert_true(x.calls > 0);
    assert_int_equal(s->locks, x.locks);
    assert_int_equal(s->lock_ns, x.lock_ns);
    assert_int_equal(s->calls, x.calls);
    assert_int_equal(s->call_ns, x.call_ns);
    assert_non_null(s->verdict);
    assert_string_equal(str(s->verdict, "name"), chk_verdict_name(want));
    assert_string_equal(str(json_get(s->verdict, "args"), "why"), x.res.why);
    assert_int_equal(ns(json_get(s->verdict, "ts")), (int64_t)x.res.outcome.t);
    s->verdict = NULL; /* points into the tree */
    json_free(root);
    free(x.json);
}

/* Seed 001: the even batch's hard lockup. */
static void lockup_trace(void **state)
{
    (void)state;
    struct summary s;
    check_trace("legacy-odd", "ite-even-batch", CHK_HARD_LOCKUP, &s);
    assert_true(s.ring_max >= 3); /* the batch: two descriptors and a wait */
    assert_int_equal(s.devtlb_max, 1);
    assert_int_equal(s.devtlb_last, 0); /* timed out: no longer outstanding */
    assert_int_equal(s.calls_ok, 0);    /* it never returned */
}

/* The engine on the smoke scenario: every call returns 0 and shows as a closed slice. */
static void passing_trace(void **state)
{
    (void)state;
    struct summary s;
    check_trace("qinval", "smoke", CHK_PASS, &s);
    assert_int_equal(s.calls_ok, s.calls);
    assert_int_equal(s.devtlb_last, 0);
    assert_true(s.ring_max > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lockup_trace),
        cmocka_unit_test(passing_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
