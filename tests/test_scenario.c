/*
 * test_scenario.c — the scenario loader and the catalog: every catalog file loads and has the
 * expected structure (name, summary, origin, parameters with defaults that --set can override,
 * endpoints, per-CPU work, fault plan); broken files fail with the right line and key; --set
 * overrides change resolved fields and $substitutions, and bad ones name the --set; fault time
 * ranges, source ids, [cpu *], domains shared by endpoints and the job ops (unmap, detach,
 * context), sc_load_named/sc_list; and a little fuzzing (no crash, one-line messages, safe
 * truncation, every endpoint in one domain).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check/run.h"
#include "check/scenario.h"
#include "drivers/driver.h"

#ifndef QINVAL_SCENARIO_DIR
#define QINVAL_SCENARIO_DIR "scenarios"
#endif

#define ERRLEN 512

static const char *const catalog[] = {
    "smoke",
    "ite-even-batch",
    "ite-race",
    "link-down-silent",
    "link-flap",
    "surprise-removal",
    "flr-during-inval",
    "iqe-bad-desc",
    "ice-bad-itag",
    "queue-wrap",
    "stale-atc-dma",
    "ite-bystander",
    "detach-link-down",
    "shared-domain-dead-device",
};
#define NCATALOG (sizeof(catalog) / sizeof(catalog[0]))

/* A scenario text in a temporary file; the path stays valid until the next call. */
static char tmp_path[64];

static const char *write_tmp(const char *text, size_t len)
{
    int fd;
    if (tmp_path[0])
        unlink(tmp_path);
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/qinval-scn-XXXXXX");
    fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static int load_text(const char *text, const char *const *sets, unsigned nsets, scenario *s,
                     char *err)
{
    return sc_load(write_tmp(text, strlen(text)), sets, nsets, s, err, ERRLEN);
}

static void load_named_ok(const char *name, const char *const *sets, unsigned nsets, scenario *s)
{
    char err[ERRLEN];
    int rc = sc_load_named(QINVAL_SCENARIO_DIR, name, sets, nsets, s, err, sizeof(err));
    if (rc)
        fail_msg("%s: %s", name, err);
    assert_string_equal(err, "");
}

static void load_named_err(const char *name, const char *const *sets, unsigned nsets, char *err)
{
    static scenario s;
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, name, sets, nsets, &s, err, ERRLEN), -1);
    assert_null(strchr(err, '\n'));
}

static void must_contain(const char *err, const char *want)
{
    if (!strstr(err, want))
        fail_msg("message '%s' lacks '%s'", err, want);
}

/* Every endpoint is in exactly one domain, which lists it; each domain has an endpoint and the
 * id of its first one (+ 1); ops name existing endpoints and domains. */
static void assert_domains(const scenario *s)
{
    assert_true(s->ndomains <= s->neps);
    for (unsigned e = 0; e < s->neps; e++) {
        int d = s->eps[e].domain;
        assert_true(d >= 0 && (unsigned)d < s->ndomains);
        unsigned listed = 0;
        for (unsigned k = 0; k < s->domains[d].neps; k++)
            listed += s->domains[d].eps[k] == (int)e;
        assert_int_equal(listed, 1);
    }
    for (unsigned d = 0; d < s->ndomains; d++) {
        const struct sc_domain *dom = &s->domains[d];
        assert_true(dom->neps >= 1);
        int first = dom->eps[0];
        for (unsigned k = 0; k < dom->neps; k++) {
            assert_int_equal(s->eps[dom->eps[k]].domain, (int)d);
            if (dom->eps[k] < first)
                first = dom->eps[k];
        }
        assert_int_equal(dom->did, first + 1);
    }
    for (unsigned c = 0; c < s->cpus; c++)
        for (unsigned o = 0; o < s->cpu[c].nops; o++) {
            const struct sc_op *op = &s->cpu[c].ops[o];
            assert_true(op->ep < (int)s->neps);
            assert_true(op->domain < (int)s->ndomains);
            if (op->kind == SC_OP_UNMAP) {
                assert_true((op->ep >= 0) != (op->domain >= 0));
                assert_true(op->pages >= 1);
                assert_true(op->page % SC_DOMAIN_PAGES + op->pages <= SC_DOMAIN_PAGES);
            }
        }
}

static const struct sc_param *param(const scenario *s, const char *key)
{
    for (unsigned i = 0; i < s->nparams; i++)
        if (!strcmp(s->params[i].key, key))
            return &s->params[i];
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * The catalog.
 */
static void test_catalog_loads(void **state)
{
    (void)state;
    static scenario s;
    for (unsigned i = 0; i < NCATALOG; i++) {
        load_named_ok(catalog[i], NULL, 0, &s);
        assert_string_equal(s.name, catalog[i]);
        assert_true(s.summary[0] != '\0');
        assert_true(s.from[0] != '\0');
        assert_true(s.cpus >= 1 && s.cpus <= SC_MAX_CPUS);
        for (unsigned c = 0; c < s.cpus; c++) {
            assert_true(s.cpu[c].nops <= SC_MAX_OPS);
            for (unsigned o = 0; o < s.cpu[c].nops; o++) {
                const struct sc_op *op = &s.cpu[c].ops[o];
                assert_true(op->batch >= 1 && op->batch < s.queue_len);
                assert_true(op->ep < (int)s.neps);
                if (op->kind == SC_OP_FLUSH_DEVTLB || op->kind == SC_OP_FLUSH_MIXED ||
                    op->kind == SC_OP_DETACH || op->kind == SC_OP_CONTEXT || op->kind == SC_OP_FLR)
                    assert_true(op->ep >= 0);
            }
        }
        assert_domains(&s);
        for (unsigned f = 0; f < s.nfaults; f++) {
            assert_true(s.faults[f].ep >= 0 && s.faults[f].ep < (int)s.neps);
            assert_true(s.faults[f].at_lo <= s.faults[f].at_hi);
        }
        for (unsigned c = s.cpus; c < SC_MAX_CPUS; c++)
            assert_int_equal(s.cpu[c].nops, 0);
    }
}

static void test_catalog_list(void **state)
{
    (void)state;
    char names[64][SC_NAME_LEN];
    unsigned n = sc_list(QINVAL_SCENARIO_DIR, names, 64);
    assert_true(n >= NCATALOG);
    for (unsigned i = 1; i < n; i++)
        assert_true(strcmp(names[i - 1], names[i]) < 0);
    for (unsigned i = 0; i < NCATALOG; i++) {
        bool found = false;
        for (unsigned j = 0; j < n; j++)
            found |= !strcmp(names[j], catalog[i]);
        if (!found)
            fail_msg("%s.scn missing from the catalog", catalog[i]);
    }
    /* a smaller max keeps the first names in order */
    char few[3][SC_NAME_LEN];
    assert_int_equal(sc_list(QINVAL_SCENARIO_DIR, few, 3), 3);
    for (unsigned i = 0; i < 3; i++)
        assert_string_equal(few[i], names[i]);
    assert_int_equal(sc_list("/nonexistent-qinval-dir", names, 64), 0);
    assert_int_equal(sc_list(QINVAL_SCENARIO_DIR, names, 0), 0);
}

static void test_catalog_structure(void **state)
{
    (void)state;
    static scenario s;

    load_named_ok("smoke", NULL, 0, &s);
    assert_int_equal(s.cpus, 2);
    assert_int_equal(s.neps, 2);
    assert_int_equal(s.nfaults, 0);
    assert_int_equal(s.eps[0].sid, 0x0100);
    assert_int_equal(s.eps[1].sid, 0x0200);
    for (unsigned c = 0; c < 2; c++) {
        assert_true(s.cpu[c].repeat >= 1);
        assert_int_equal(s.cpu[c].repeat, strtoul(sc_param(&s, "rounds"), NULL, 10)); /* $rounds */
        assert_int_equal(s.cpu[c].nops, 3);
        assert_int_equal(s.cpu[c].ops[0].kind, SC_OP_FLUSH_MIXED);
        assert_int_equal(s.cpu[c].ops[0].batch, 3);
        assert_int_equal(s.cpu[c].ops[1].kind, SC_OP_FLUSH_IOTLB);
        assert_int_equal(s.cpu[c].ops[2].kind, SC_OP_FLUSH_DEVTLB);
        assert_int_equal(s.cpu[c].ops[2].ep, 1);
    }

    load_named_ok("ite-even-batch", NULL, 0, &s);
    assert_int_equal(s.cpus, 1);
    assert_string_equal(sc_param(&s, "batch"), "2");
    assert_int_equal(s.nfaults, 1);
    assert_int_equal(s.faults[0].kind, HW_FAULT_DROP);
    assert_false(s.faults[0].dma);
    assert_int_equal(s.faults[0].arg, 1);
    assert_int_equal(s.faults[0].at_lo, 0);
    assert_int_equal(s.faults[0].at_hi, 0);
    assert_int_equal(s.cpu[0].repeat, 1);
    assert_int_equal(s.cpu[0].nops, 1);
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_FLUSH_DEVTLB);
    assert_int_equal(s.cpu[0].ops[0].ep, 0);
    assert_int_equal(s.cpu[0].ops[0].batch, 2);
    assert_int_equal(s.ite_timeout, 1 * HW_S);
    assert_int_equal(s.watchdog, 10 * HW_S);

    load_named_ok("ite-race", NULL, 0, &s);
    assert_int_equal(s.cpus, 2);
    assert_int_equal(s.faults[0].kind, HW_FAULT_DROP);
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_FLUSH_DEVTLB);
    assert_int_equal(s.cpu[1].ops[0].kind, SC_OP_FLUSH_IOTLB);

    load_named_ok("link-down-silent", NULL, 0, &s);
    assert_int_equal(s.ite_timeout, 60 * HW_S);
    assert_int_equal(s.watchdog, 10 * HW_S);
    assert_int_equal(s.nfaults, 1);
    assert_int_equal(s.faults[0].kind, HW_FAULT_LINK_DOWN);
    assert_int_equal(s.faults[0].at_lo, 0);
    assert_int_equal(s.faults[0].at_hi, 2 * HW_US);
    assert_int_equal(s.cpu[0].ops[0].batch, 2);

    load_named_ok("link-flap", NULL, 0, &s);
    assert_string_equal(sc_param(&s, "link_up_s"), "5");
    {
        bool up = false, dma_after = false;
        for (unsigned f = 0; f < s.nfaults; f++) {
            if (!s.faults[f].dma && s.faults[f].kind == HW_FAULT_LINK_UP) {
                up = true;
                assert_int_equal(s.faults[f].at_lo, 5 * HW_S);
            }
            if (s.faults[f].dma && s.faults[f].at_lo > 5 * HW_S)
                dma_after = true;
        }
        assert_true(up && dma_after);
    }

    load_named_ok("surprise-removal", NULL, 0, &s);
    assert_int_equal(s.faults[0].kind, HW_FAULT_SURPRISE_REMOVAL);

    load_named_ok("flr-during-inval", NULL, 0, &s);
    assert_int_equal(s.cpus, 2);
    assert_int_equal(s.faults[0].kind, HW_FAULT_FLR);
    assert_int_equal(s.cpu[1].ops[0].kind, SC_OP_FLR);

    load_named_ok("iqe-bad-desc", NULL, 0, &s);
    assert_int_equal(s.cpus, 2);
    assert_string_equal(sc_param(&s, "bad_index"), "0");
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_FLUSH_BAD);
    assert_int_equal(s.cpu[0].ops[0].batch, 3);
    assert_int_equal(s.cpu[0].ops[0].bad_index, 0);
    assert_int_equal(s.cpu[1].ops[0].kind, SC_OP_FLUSH_IOTLB);

    load_named_ok("ice-bad-itag", NULL, 0, &s);
    assert_int_equal(s.faults[0].kind, HW_FAULT_WRONG_ITAG);
    assert_int_equal(s.ite_timeout, 10 * HW_MS);

    load_named_ok("queue-wrap", NULL, 0, &s);
    assert_int_equal(s.cpus, 4);
    assert_int_equal(s.queue_len, 8);
    for (unsigned c = 0; c < 4; c++) {
        assert_int_equal(s.cpu[c].repeat, 4);
        assert_int_equal(s.cpu[c].nops, 2);
    }

    load_named_ok("stale-atc-dma", NULL, 0, &s);
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_UNMAP);
    assert_int_equal(s.cpu[0].ops[0].page, 0);
    {
        unsigned reads = 0, writes = 0;
        for (unsigned f = 0; f < s.nfaults; f++) {
            assert_true(s.faults[f].dma);
            if (s.faults[f].write)
                writes++;
            else
                reads++;
        }
        assert_true(reads >= 2 && writes >= 1);
    }

    load_named_ok("ite-bystander", NULL, 0, &s);
    assert_int_equal(s.faults[0].kind, HW_FAULT_MUTE);
    assert_int_equal(s.cpu[1].repeat, 3);
    assert_int_equal(s.cpu[1].ops[0].kind, SC_OP_FLUSH_IOTLB);

    /* Without [domain] sections every endpoint has a domain of its own, id = index + 1. */
    load_named_ok("smoke", NULL, 0, &s);
    assert_int_equal(s.ndomains, 2);
    for (unsigned e = 0; e < 2; e++) {
        assert_int_equal(s.eps[e].domain, (int)e);
        assert_int_equal(s.domains[e].did, e + 1);
        assert_string_equal(s.domains[e].name, "");
    }

    load_named_ok("detach-link-down", NULL, 0, &s);
    assert_true(s.dw256);
    assert_int_equal(s.ite_timeout, 60 * HW_S);
    assert_int_equal(s.watchdog, 10 * HW_S);
    assert_int_equal(s.cpu[0].nops, 1);
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_DETACH);
    assert_int_equal(s.cpu[0].ops[0].ep, 0);
    {
        bool down_range = false, up = false, dma_after = false;
        for (unsigned f = 0; f < s.nfaults; f++) {
            const struct sc_fault *ft = &s.faults[f];
            if (!ft->dma && ft->kind == HW_FAULT_LINK_DOWN)
                down_range = ft->at_lo == 0 && ft->at_hi > ft->at_lo;
            if (!ft->dma && ft->kind == HW_FAULT_LINK_UP) {
                up = true;
                assert_int_equal(ft->at_lo, 5 * HW_S);
            }
            dma_after |= ft->dma && ft->at_lo > 5 * HW_S;
        }
        assert_true(down_range && up && dma_after);
    }
    {
        const char *sets[] = {"link_up_s=7"};
        load_named_ok("detach-link-down", sets, 1, &s);
        assert_string_equal(sc_param(&s, "link_up_s"), "7");
    }

    load_named_ok("shared-domain-dead-device", NULL, 0, &s);
    assert_int_equal(s.neps, 2);
    assert_int_equal(s.ndomains, 1);
    assert_string_equal(s.domains[0].name, "shared");
    assert_int_equal(s.domains[0].did, 1);
    assert_int_equal(s.domains[0].neps, 2);
    assert_int_equal(s.eps[0].domain, 0);
    assert_int_equal(s.eps[1].domain, 0);
    assert_int_equal(s.cpu[0].ops[0].kind, SC_OP_UNMAP);
    assert_int_equal(s.cpu[0].ops[0].domain, 0);
    assert_int_equal(s.cpu[0].ops[0].ep, -1);
    assert_int_equal(s.cpu[0].ops[0].page, 0);
    assert_int_equal(s.cpu[0].ops[0].pages, 1);
    {
        bool ep1_down = false, ep1_dma_after = false, ep0_dma = false;
        for (unsigned f = 0; f < s.nfaults; f++) {
            const struct sc_fault *ft = &s.faults[f];
            ep1_down |= ft->ep == 1 && !ft->dma && ft->kind == HW_FAULT_LINK_DOWN;
            ep1_dma_after |= ft->ep == 1 && ft->dma && ft->at_lo > HW_S;
            ep0_dma |= ft->ep == 0 && ft->dma && ft->at_hi > ft->at_lo;
        }
        assert_true(ep1_down && ep1_dma_after && ep0_dma);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Defaults and resolution.
 */
static void test_defaults(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    assert_int_equal(load_text("# nothing but a comment\n", NULL, 0, &s, err), 0);
    assert_int_equal(s.cpus, 1);
    assert_int_equal(s.queue_len, 256);
    assert_false(s.dw256);
    assert_int_equal(s.head_policy, HW_HEAD_FETCH);
    assert_int_equal(s.fetch_window, 8);
    assert_int_equal(s.ite_timeout, 1000 * HW_MS);
    assert_int_equal(s.watchdog, 10 * HW_S);
    assert_true(s.itesid);
    assert_int_equal(s.devtlb_latency, 2 * HW_US);
    assert_int_equal(s.max_virtual, 600 * HW_S);
    assert_int_equal(s.deadline, 0);
    assert_int_equal(s.deadline_margin, 100 * HW_US);
    assert_int_equal(s.cpu[0].repeat, 0);
    assert_int_equal(s.cpu[0].nops, 0);
    assert_int_equal(s.neps, 0);
    assert_int_equal(s.nfaults, 0);
    /* the name defaults to the file's base name */
    assert_string_equal(s.name, strrchr(tmp_path, '/') + 1);
    assert_string_equal(s.file, tmp_path);
    assert_int_equal(s.nparams, 17);
    /* the model's own defaults for the knobs that became keys */
    assert_true(s.strict_reserved);
    assert_true(s.ite_discard);
    for (unsigned i = 0; i < s.nparams; i++) {
        assert_true(s.params[i].common);
        assert_int_equal(s.params[i].line, 0);
    }
    assert_null(sc_param(&s, "batch"));
    assert_null(sc_param(NULL, "cpus"));
    assert_null(sc_param(&s, NULL));
    assert_string_equal(sc_param(&s, "head_policy"), "fetch");

    const char *text = "name = t1   # trailing comment\n"
                       "summary = a summary, with commas\n"
                       "\n"
                       "[params]\n"
                       "  cpus = 3\n"
                       "desc_width = 256\n"
                       "queue_len = 16\n"
                       "head_policy = complete\n"
                       "fetch_window = 64\n"
                       "ite_timeout_ms = 2.5\n"
                       "watchdog_s = 0.5\n"
                       "itesid = 0\n"
                       "devtlb_latency_us = 0\n"
                       "max_virtual_s = 1\n"
                       "deadline_ms = 100\n"
                       "mine = 7\n"
                       "[endpoint nic]\n"
                       "sid = 3a:1f.7\n"
                       "ats = 0\n"
                       "[endpoint gpu]\n"
                       "sid = 0x42\n"
                       "latency_us = 0.5\n"
                       "[cpu *]\n"
                       "repeat = $mine\n"
                       "op = sleep us=1.25\n"
                       "[cpu 1]\n"
                       "op = flush iotlb\n"
                       "op = flr ep=gpu\n"
                       "[cpu 40]\n" /* beyond cpus: ignored */
                       "op = flush iotlb\n";
    assert_int_equal(load_text(text, NULL, 0, &s, err), 0);
    assert_string_equal(s.name, "t1");
    assert_string_equal(s.summary, "a summary, with commas");
    assert_int_equal(s.cpus, 3);
    assert_true(s.dw256);
    assert_int_equal(s.queue_len, 16);
    assert_int_equal(s.head_policy, HW_HEAD_COMPLETE);
    assert_int_equal(s.fetch_window, 64);
    assert_int_equal(s.ite_timeout, 2500000);
    assert_int_equal(s.watchdog, 500 * HW_MS);
    assert_false(s.itesid);
    assert_int_equal(s.devtlb_latency, 0);
    assert_int_equal(s.max_virtual, HW_S);
    assert_int_equal(s.deadline, 100 * HW_MS);
    assert_int_equal(param(&s, "cpus")->line, 5);
    assert_true(param(&s, "cpus")->common);
    assert_false(param(&s, "mine")->common);
    assert_int_equal(param(&s, "mine")->line, 16);
    assert_int_equal(s.neps, 2);
    assert_string_equal(s.eps[0].name, "nic");
    assert_int_equal(s.eps[0].sid, 0x3a << 8 | 0x1f << 3 | 7);
    assert_false(s.eps[0].ats);
    assert_int_equal(s.eps[0].latency, 0); /* devtlb_latency_us */
    assert_int_equal(s.eps[1].sid, 0x42);
    assert_true(s.eps[1].ats);
    assert_int_equal(s.eps[1].latency, 500);
    for (unsigned c = 0; c < 3; c += 2) {
        assert_int_equal(s.cpu[c].repeat, 7);
        assert_int_equal(s.cpu[c].nops, 1);
        assert_int_equal(s.cpu[c].ops[0].kind, SC_OP_SLEEP);
        assert_int_equal(s.cpu[c].ops[0].sleep, 1250);
        assert_int_equal(s.cpu[c].ops[0].line, 25);
    }
    assert_int_equal(s.cpu[1].repeat, 1);
    assert_int_equal(s.cpu[1].nops, 2);
    assert_int_equal(s.cpu[1].ops[0].kind, SC_OP_FLUSH_IOTLB);
    assert_int_equal(s.cpu[1].ops[0].batch, 1);
    assert_int_equal(s.cpu[1].ops[0].ep, -1);
    assert_int_equal(s.cpu[1].ops[1].kind, SC_OP_FLR);
    assert_int_equal(s.cpu[1].ops[1].ep, 1);
    assert_int_equal(s.cpu[40].nops, 0);
    assert_int_equal(s.cpu[40].repeat, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Broken files: each fails, naming the line and (where there is one) the key.
 */
struct broken {
    const char *text;
    int line;
    const char *key;  /* "key 'KEY'" must appear; NULL: no key */
    const char *want; /* and this */
};

#define EP0  "[endpoint ep0]\nsid = 01:00.0\n"
#define CPU0 "[cpu 0]\n"

static const struct broken broken[] = {
    /* structure */
    {"[bogus]\n", 1, NULL, "unknown section"},
    {"[endpoint]\nsid = 1\n", 1, NULL, "unknown section"},
    {"[cpu 0 1]\nop = flush iotlb\n", 1, NULL, "unknown section"},
    {"\n[params\n", 2, NULL, "malformed section header"},
    {"[params] x\n", 1, NULL, "malformed section header"},
    {"[params]\nbatch 2\n", 2, NULL, "malformed line"},
    {"name = a\njust words\n", 2, NULL, "malformed line"},
    {"my key = 1\n", 1, NULL, "malformed key"},
    {"= 3\n", 1, NULL, "malformed key"},
    {"name =\n", 1, "name", "empty value"},
    {"colour = red\n", 1, "colour", "unknown key"},
    {"name = a\nname = b\n", 2, "name", "given twice"},
    {"name = has space\n", 1, "name", "expected letters"},
    {"summary = "
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
     1, "summary", "too long"},
    {EP0 "[endpoint ep0]\nsid = 02:00.0\n", 3, NULL, "duplicate endpoint 'ep0'"},
    {EP0 "[endpoint ep1]\nsid = 1:0.0\n", 4, "sid", "also endpoint ep0"},
    {"[endpoint ep0]\nats = 1\n", 1, "sid", "missing"},
    {EP0 "speed = 3\n", 3, "speed", "unknown key in [endpoint ep0]"},
    {EP0 "sid = 02:00.0\n", 3, "sid", "given twice"},
    {EP0 "[fault]\nkind = drop\nat_us = 0\n", 3, "ep", "missing"},
    {EP0 "[fault]\nep = ep0\nat_us = 0\n", 3, "kind", "missing"},
    {EP0 "[fault]\nep = ep0\nkind = mute\n", 3, "at_us", "missing"},
    {CPU0 "repeat = 2\n", 1, "op", "no op"},
    {"[cpu *]\n[cpu 1]\nop = flush iotlb\n", 1, "op", "no op"},
    {CPU0 "op = flush iotlb\n[cpu 0]\nop = flush iotlb\n", 3, NULL, "duplicate section [cpu 0]"},
    {"[cpu *]\nop = flush iotlb\n[cpu *]\nop = flush iotlb\n", 3, NULL, "duplicate section"},
    {"[cpu 64]\nop = flush iotlb\n", 1, NULL, "bad CPU"},
    {"[cpu -1]\nop = flush iotlb\n", 1, NULL, "bad CPU"},
    {"[cpu x]\nop = flush iotlb\n", 1, NULL, "bad CPU"},
    {CPU0 "op = flush iotlb\nrepeat = 1\nrepeat = 2\n", 4, "repeat", "given twice"},
    {CPU0 "ep = ep0\n", 2, "ep", "unknown key in [cpu 0]"},
    /* parameters */
    {"[params]\ncpus = 0\n", 2, "cpus", "1..64"},
    {"[params]\ncpus = 65\n", 2, "cpus", "1..64"},
    {"[params]\ncpus = 2x\n", 2, "cpus", "not a whole number"},
    {"[params]\ncpus = -1\n", 2, "cpus", "1..64"},
    {"[params]\ncpus = +1\n", 2, "cpus", "1..64"},
    {"[params]\n\ncpus = 1\ncpus = 2\n", 4, "cpus", "first at line 3"},
    {"[params]\nqueue_len = 12\n", 2, "queue_len", "power of two"},
    {"[params]\nqueue_len = 4\n", 2, "queue_len", "8 to 32768"},
    {"[params]\nqueue_len = 65536\n", 2, "queue_len", "8 to 32768"},
    {"[params]\nqueue_len = 32768\ndesc_width = 256\n", 2, "queue_len", "8 to 16384"},
    {"[params]\ndesc_width = 64\n", 2, "desc_width", "128 or 256"},
    {"[params]\nhead_policy = lazy\n", 2, "head_policy", "fetch or complete"},
    {"[params]\nfetch_window = 0\n", 2, "fetch_window", "1..64"},
    {"[params]\nfetch_window = 65\n", 2, "fetch_window", "1..64"},
    {"[params]\nite_timeout_ms = 0\n", 2, "ite_timeout_ms", "> 0"},
    {"[params]\nite_timeout_ms = -1\n", 2, "ite_timeout_ms", "> 0"},
    {"[params]\nite_timeout_ms = 1.\n", 2, "ite_timeout_ms", "milliseconds"},
    {"[params]\nite_timeout_ms = .5\n", 2, "ite_timeout_ms", "milliseconds"},
    {"[params]\nite_timeout_ms = 0.0000001\n", 2, "ite_timeout_ms", "milliseconds"},
    {"[params]\nwatchdog_s = abc\n", 2, "watchdog_s", "seconds"},
    {"[params]\nwatchdog_s = 0.0\n", 2, "watchdog_s", "> 0"},
    {"[params]\nitesid = 2\n", 2, "itesid", "0 or 1"},
    {"[params]\ndevtlb_latency_us = 1e3\n", 2, "devtlb_latency_us", ">= 0"},
    {"[params]\nmax_virtual_s = 0\n", 2, "max_virtual_s", "> 0"},
    {"[params]\nmax_virtual_s = 99999999999999999999\n", 2, "max_virtual_s", "seconds"},
    {"[params]\ndeadline_ms = -5\n", 2, "deadline_ms", ">= 0"},
    {"[params]\nbatch = 2\nbatch = 3\n", 3, "batch", "given twice"},
    {"[params]\nx = $y\n", 2, "x", "cannot refer"},
    {"[params]\nx = a b\n", 2, "x", "one word"},
    {"[params]\nx = 0123456789012345678901234567890123456789012345678\n", 2, "x", "too long"},
    {"[params]\n9x = 1\n", 2, NULL, "malformed key"},
    /* endpoints */
    {"[endpoint ep0]\nsid = 01:20.0\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = 01:00.8\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = 100:00.0\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = 1:2\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = 65536\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = 01:00.0x\n", 2, "sid", "not a source id"},
    {"[endpoint ep0]\nsid = -1\n", 2, "sid", "not a source id"},
    {EP0 "ats = 2\n", 3, "ats", "0 or 1"},
    {EP0 "latency_us = -1\n", 3, "latency_us", "microseconds"},
    {EP0 "latency_us = $nope\n", 3, "latency_us", "unknown parameter '$nope'"},
    {EP0 "latency_us = $\n", 3, "latency_us", "'$' without"},
    /* domains */
    {EP0 "[domain d]\nendpoints = ep0 ep9\n", 4, "endpoints", "no endpoint named 'ep9'"},
    {EP0 "[domain a]\nendpoints = ep0\n[domain b]\nendpoints = ep0\n", 6, "endpoints",
     "endpoint ep0 is already in domain a (line 3): an endpoint belongs to one domain at most"},
    {EP0 "[domain a]\nendpoints = ep0 ep0\n", 4, "endpoints", "endpoint ep0 is listed twice"},
    {EP0 "[domain a]\n", 3, "endpoints",
     "missing in [domain a]: a domain needs at least one endpoint"},
    {EP0 "[domain a]\n[cpu 0]\nop = sleep us=1\n", 3, "endpoints", "missing in [domain a]"},
    {EP0 "[domain a]\nendpoints = ep0\n[domain a]\nendpoints = ep0\n", 5, NULL,
     "duplicate domain 'a' (first at line 3)"},
    {EP0 "[domain a]\nendpoints = ep0\nendpoints = ep0\n", 5, "endpoints", "given twice"},
    {EP0 "[domain a]\nmembers = ep0\n", 4, "members", "unknown key in [domain a]"},
    {"[domain a/b]\nendpoints = x\n", 1, NULL, "bad domain name 'a/b'"},
    {"[domain]\n", 1, NULL, "[domain NAME]"},
    {EP0 "[domain a]\nendpoints = $who\n", 4, "endpoints", "unknown parameter '$who'"},
    /* faults */
    {EP0 "[fault]\nep = ep0\nkind = explode\nat_us = 0\n", 5, "kind", "unknown fault 'explode'"},
    {EP0 "[fault]\nep = ep9\nkind = mute\nat_us = 0\n", 4, "ep", "no endpoint named 'ep9'"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 5..1\n", 6, "at_us", "LO > HI"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 1..2..3\n", 6, "at_us", "not a time"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = ..3\n", 6, "at_us", "not a time"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 3..\n", 6, "at_us", "not a time"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 0.0001\n", 6, "at_us", "not a time"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 18446744073709551615\n", 6, "at_us",
     "out of range (expected N or LO..HI, a decimal number of microseconds >= 0, at most "
     "18446744073709551.615)"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 1\nat_s = 1\n", 7, "at_s", "both"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 1\nat_us = 2\n", 7, "at_us", "given twice"},
    {EP0 "[fault]\nep = ep0\nkind = drop\narg = -1\nat_us = 0\n", 6, "arg", "expected a number"},
    {EP0 "[fault]\nep = ep0\nkind = drop\narg = 4294967296\nat_us = 0\n", 6, "arg", "expected"},
    {EP0 "[fault]\nep = ep0\nkind = drop\nwrite = 1\nat_us = 0\n", 6, "write", "kind = dma"},
    {EP0 "[fault]\nep = ep0\nkind = dma\nwrite = yes\nat_us = 0\n", 6, "write", "0 or 1"},
    {EP0 "[fault]\nep = ep0\nkind = mute\narg = 3\nat_us = 0\n", 6, "arg", "takes no arg"},
    {EP0 "[fault]\nep = ep0\nkind = latency\nat_us = 0\n", 3, "arg", "missing"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = $when\n", 6, "at_us", "'$when'"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 0\ncolour = red\n", 7, "colour",
     "unknown key in [fault]"},
    /* a link-up or unmute that can only come first would do nothing */
    {EP0 "[fault]\nep = ep0\nkind = link-up\nat_us = 5\n", 3, NULL, "no link-down of it"},
    {EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 2..3\n[fault]\nep = ep0\nkind = "
         "unmute\nat_us = 2\n",
     7, NULL,
     "unmute of ep0 (at 2 us at the latest) comes no later than its mute (line 3, "
     "at 2 us at the earliest)"},
    {EP0 "[fault]\nep = ep0\nkind = link-up\nat_s = 1\n[fault]\nep = ep0\nkind = "
         "link-down\nat_s = 1..2\n",
     3, NULL, "link-up of ep0 (at 1 s at the latest)"},
    {EP0 "[endpoint ep1]\nsid = 02:00.0\n[fault]\nep = ep1\nkind = link-down\nat_us = "
         "0\n[fault]\nep = ep0\nkind = link-up\nat_us = 9\n",
     9, NULL, "no link-down of it"},
    /* ops */
    {CPU0 "op = jump\n", 2, "op", "unknown op 'jump'"},
    {CPU0 "op = flush\n", 2, "op", "flush ''"},
    {CPU0 "op = flush tlb\n", 2, "op", "flush 'tlb'"},
    {CPU0 "op = flush iotlb=ep0\n", 2, "op", "flush 'iotlb=ep0'"},
    {CPU0 "op = flush devtlb\n", 2, "op", "flush 'devtlb'"},
    {CPU0 "op = flush devtlb=ep9\n", 2, "op", "no endpoint named 'ep9'"},
    {EP0 CPU0 "op = flush mixed=ep1 batch=2\n", 4, "op", "no endpoint named 'ep1'"},
    {CPU0 "op = flush iotlb batch=0\n", 2, "op", "batch=0"},
    {CPU0 "op = flush iotlb batch=256\n", 2, "op", "expected 1..255"},
    {"[params]\nqueue_len = 8\n" CPU0 "op = flush iotlb batch=8\n", 4, "op", "expected 1..7"},
    {CPU0 "op = flush iotlb batch=two\n", 2, "op", "batch=two"},
    {CPU0 "op = flush iotlb batch=2 batch=3\n", 2, "op", "given twice"},
    {CPU0 "op = flush iotlb bad_index=0\n", 2, "op", "unknown option 'bad_index'"},
    {CPU0 "op = flush iotlb batch\n", 2, "op", "OPTION=VALUE"},
    {CPU0 "op = flush bad batch=2 bad_index=2\n", 2, "op", "bad_index=2"},
    {CPU0 "op = flush bad bad_index=1\n", 2, "op", "expected 0..0"},
    {CPU0 "op = flush bad bad_index=-1\n", 2, "op", "bad_index=-1"},
    {EP0 CPU0 "op = unmap ep=ep0\n", 4, "op", "needs page"},
    {EP0 CPU0 "op = unmap page=1\n", 4, "op", "needs ep"},
    {EP0 CPU0 "op = unmap ep=ep0 page=-1\n", 4, "op", "page=-1"},
    {EP0 CPU0 "op = unmap ep=ep0 page=1 batch=2\n", 4, "op", "unknown option 'batch'"},
    {EP0 CPU0 "op = unmap domain=nope page=0\n", 4, "op", "no domain named 'nope'"},
    {EP0 "[domain d]\nendpoints = ep0\n" CPU0 "op = unmap ep=ep0 domain=d page=0\n", 6, "op",
     "unmap takes ep=EP or domain=D, not both"},
    {EP0 "[domain d]\nendpoints = ep0\n" CPU0 "op = unmap domain=d\n", 6, "op", "needs page"},
    {EP0 CPU0 "op = unmap ep=ep0 page=0 pages=0\n", 4, "op", "pages=0 (expected 1..4"},
    {EP0 CPU0 "op = unmap ep=ep0 page=0 pages=5\n", 4, "op", "pages=5 (expected 1..4"},
    {EP0 CPU0 "op = unmap ep=ep0 page=0 pages=x\n", 4, "op", "pages=x"},
    {EP0 CPU0 "op = unmap ep=ep0 page=3 pages=2\n", 4, "op",
     "pages=2 from page=3 (expected 1..1: the range must end within the domain's 4 pages"},
    {EP0 CPU0 "op = unmap ep=ep0 page=6 pages=3\n", 4, "op", "page 6 is its page 2"},
    {EP0 CPU0 "op = unmap ep=ep0 page=0 pages=1 pages=1\n", 4, "op", "given twice"},
    {CPU0 "op = detach\n", 2, "op", "detach needs ep=... (expected detach ep=EP)"},
    {CPU0 "op = context\n", 2, "op", "context needs ep=... (expected context ep=EP)"},
    {CPU0 "op = detach ep=ep9\n", 2, "op", "no endpoint named 'ep9'"},
    {EP0 CPU0 "op = context ep=ep0 page=1\n", 4, "op", "unknown option 'page' for context"},
    {CPU0 "op = attach ep=ep0\n", 2, "op", "expected flush, unmap, detach, context, flr or sleep"},
    {CPU0 "op = flr\n", 2, "op", "needs ep"},
    {CPU0 "op = flr ep=nobody\n", 2, "op", "no endpoint named 'nobody'"},
    {CPU0 "op = sleep\n", 2, "op", "needs us"},
    {CPU0 "op = sleep us=abc\n", 2, "op", "us=abc"},
    {CPU0 "op = sleep ms=3\n", 2, "op", "unknown option 'ms'"},
    {EP0 CPU0 "op = flush devtlb=ep0 batch=$batch\n", 4, "op", "unknown parameter '$batch'"},
    {CPU0 "op = flush iotlb\nrepeat = -1\n", 3, "repeat", "expected 0..250000000"},
    {CPU0 "op = flush iotlb\nrepeat = 250000001\n", 3, "repeat", "expected 0..250000000"},
    /* reading */
    {"name = a\r\nsummary = \x01\n", 2, NULL, "control character 0x01"},
};

static void test_broken(void **state)
{
    (void)state;
    static scenario s;
    for (unsigned i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        const struct broken *b = &broken[i];
        char err[ERRLEN], where[128], key[80];
        int rc = load_text(b->text, NULL, 0, &s, err);
        if (rc != -1)
            fail_msg("case %u loaded without error:\n%s", i, b->text);
        snprintf(where, sizeof(where), "%s:%d: ", tmp_path, b->line);
        if (strncmp(err, where, strlen(where)))
            fail_msg("case %u: '%s' does not start with '%s'", i, err, where);
        if (b->key) {
            snprintf(key, sizeof(key), "key '%s': ", b->key);
            if (!strstr(err, key))
                fail_msg("case %u: '%s' lacks \"%s\"", i, err, key);
        }
        if (!strstr(err, b->want))
            fail_msg("case %u: '%s' lacks '%s'", i, err, b->want);
        assert_null(strchr(err, '\n'));
    }
}

/* Limits: too many endpoints, faults, ops, parameters; a NUL byte; a very long line. */
static void test_limits(void **state)
{
    (void)state;
    static scenario s;
    static char text[65536];
    char err[ERRLEN];
    size_t n;

    n = 0;
    for (unsigned i = 0; i <= SC_MAX_EPS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[endpoint e%u]\nsid = %u\n", i, i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, ":17: too many endpoints (max 8)");

    n = (size_t)snprintf(text, sizeof(text), EP0);
    for (unsigned i = 0; i <= SC_MAX_FAULTS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[fault]\nep = ep0\nkind = mute\n"
                              "at_us = %u\n",
                              i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, ":67: too many faults (max 16)");

    n = (size_t)snprintf(text, sizeof(text), CPU0);
    for (unsigned i = 0; i <= SC_MAX_OPS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "op = sleep us=%u\n", i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, ":18: key 'op': too many ops in [cpu 0] (max 16)");

    n = (size_t)snprintf(text, sizeof(text), EP0);
    for (unsigned i = 0; i <= SC_MAX_DOMAINS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[domain d%u]\nendpoints = ep0\n", i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, ":19: too many domains (max 8)");

    /* the common keys take the first places: the first declared key that does not fit is
     * p(SC_MAX_PARAMS - common), on line 2 + that */
    assert_int_equal(load_text("", NULL, 0, &s, err), 0);
    unsigned common = s.nparams;
    n = (size_t)snprintf(text, sizeof(text), "[params]\n");
    for (unsigned i = 0; i < SC_MAX_PARAMS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "p%u = %u\n", i, i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    char want[96];
    snprintf(want, sizeof(want), ":%u: key 'p%u': too many parameters (max %u)",
             2 + SC_MAX_PARAMS - common, SC_MAX_PARAMS - common, SC_MAX_PARAMS);
    must_contain(err, want);

    /* exactly the maxima load */
    n = 0;
    for (unsigned i = 0; i < SC_MAX_EPS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[endpoint e%u]\nsid = %u\n", i, i);
    for (unsigned i = 0; i < SC_MAX_FAULTS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[fault]\nep = e%u\nkind = dma\nat_us = %u\n", i % SC_MAX_EPS, i);
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "[params]\ncpus = 64\n[cpu *]\nrepeat = 250000000\n");
    for (unsigned i = 0; i < SC_MAX_OPS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "op = sleep us=%u\n", i);
    assert_int_equal(load_text(text, NULL, 0, &s, err), 0);
    assert_int_equal(s.neps, SC_MAX_EPS);
    assert_int_equal(s.nfaults, SC_MAX_FAULTS);
    assert_int_equal(s.cpus, 64);
    assert_int_equal(s.cpu[63].nops, SC_MAX_OPS);
    assert_int_equal(s.cpu[63].repeat, 250000000);

    /* a NUL byte */
    assert_int_equal(
        sc_load(write_tmp("name = a\nsum\0mary = b\n", 22), NULL, 0, &s, err, sizeof(err)), -1);
    must_contain(err, ":2: control character 0x00");

    /* a line just under the cap loads (as a comment); one over it does not */
    memset(text, ' ', 1024);
    text[0] = '#';
    strcpy(text + 1024, "\nname = x\n");
    assert_int_equal(load_text(text, NULL, 0, &s, err), 0);
    memset(text, ' ', 5000);
    text[0] = '#';
    strcpy(text + 5000, "\n");
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, ":1: line too long (max 1024 characters)");

    /* files that are not there */
    assert_int_equal(sc_load("/nonexistent/x.scn", NULL, 0, &s, err, sizeof(err)), -1);
    must_contain(err, "/nonexistent/x.scn: cannot open");
    assert_int_equal(sc_load(NULL, NULL, 0, &s, err, sizeof(err)), -1);
    assert_int_equal(sc_load("/tmp", NULL, 0, &s, err, sizeof(err)), -1);
}

/* ---------------------------------------------------------------------------------------------
 * --set.
 */
static void test_set_valid(void **state)
{
    (void)state;
    static scenario s;
    {
        const char *sets[] = {"batch=3"};
        load_named_ok("ite-even-batch", sets, 1, &s);
        assert_int_equal(s.cpu[0].ops[0].batch, 3);
        assert_string_equal(sc_param(&s, "batch"), "3");
        assert_int_equal(param(&s, "batch")->line, -1);
    }
    {
        const char *sets[] = {"batch=3", "batch=5"}; /* in order: the last wins */
        load_named_ok("ite-even-batch", sets, 2, &s);
        assert_int_equal(s.cpu[0].ops[0].batch, 5);
    }
    {
        const char *sets[] = {"cpus=3",
                              "desc_width=256",
                              "queue_len=16",
                              "head_policy=complete",
                              "fetch_window=1",
                              "ite_timeout_ms=1.5",
                              "watchdog_s=2",
                              "itesid=0",
                              "devtlb_latency_us=7",
                              "max_virtual_s=30",
                              "deadline_ms=0.25"};
        load_named_ok("ite-even-batch", sets, sizeof(sets) / sizeof(sets[0]), &s);
        assert_int_equal(s.cpus, 3);
        assert_true(s.dw256);
        assert_int_equal(s.queue_len, 16);
        assert_int_equal(s.head_policy, HW_HEAD_COMPLETE);
        assert_int_equal(s.fetch_window, 1);
        assert_int_equal(s.ite_timeout, 1500 * HW_US);
        assert_int_equal(s.watchdog, 2 * HW_S);
        assert_false(s.itesid);
        assert_int_equal(s.devtlb_latency, 7 * HW_US);
        assert_int_equal(s.eps[0].latency, 7 * HW_US); /* the endpoint default follows */
        assert_int_equal(s.max_virtual, 30 * HW_S);
        assert_int_equal(s.deadline, 250 * HW_US);
        /* CPUs without a section get an empty workload */
        assert_int_equal(s.cpu[0].nops, 1);
        assert_int_equal(s.cpu[1].nops, 0);
        assert_int_equal(s.cpu[1].repeat, 0);
        assert_int_equal(s.cpu[2].nops, 0);
    }
    {
        const char *sets[] = {"cpus=6"}; /* [cpu *] scales */
        load_named_ok("queue-wrap", sets, 1, &s);
        assert_int_equal(s.cpus, 6);
        assert_int_equal(s.cpu[5].repeat, 4);
        assert_int_equal(s.cpu[5].nops, 2);
    }
    {
        const char *sets[] = {"cpus=1"}; /* [cpu 1] is then ignored */
        load_named_ok("ite-race", sets, 1, &s);
        assert_int_equal(s.cpus, 1);
        assert_int_equal(s.cpu[1].nops, 0);
    }
    {
        const char *sets[] = {"link_down_us=5..7"};
        load_named_ok("link-down-silent", sets, 1, &s);
        assert_int_equal(s.faults[0].at_lo, 5 * HW_US);
        assert_int_equal(s.faults[0].at_hi, 7 * HW_US);
    }
    {
        const char *sets[] = {"link_up_s=0.5..1.5", "dma_s=2"};
        load_named_ok("link-flap", sets, 2, &s);
        bool seen = false;
        for (unsigned f = 0; f < s.nfaults; f++) {
            if (!s.faults[f].dma && s.faults[f].kind == HW_FAULT_LINK_UP) {
                assert_int_equal(s.faults[f].at_lo, 500 * HW_MS);
                assert_int_equal(s.faults[f].at_hi, 1500 * HW_MS);
                seen = true;
            }
        }
        assert_true(seen);
    }
    {
        const char *sets[] = {"bad_index=2", "rounds=5"};
        load_named_ok("iqe-bad-desc", sets, 2, &s);
        assert_int_equal(s.cpu[0].ops[0].bad_index, 2);
        assert_int_equal(s.cpu[1].repeat, 5);
    }
    {
        const char *sets[] = {"queue_len=8", "desc_width=256"};
        load_named_ok("smoke", sets, 2, &s);
        assert_int_equal(s.queue_len, 8);
    }
    /* NULL sets with a count, and a zero count, are both "no overrides" */
    load_named_ok("smoke", NULL, 3, &s);
    assert_int_equal(s.cpus, 2);
}

struct bad_set {
    const char *scenario;
    const char *set;
    const char *want1, *want2;
};

static const struct bad_set bad_sets[] = {
    {"ite-even-batch", "nosuch=1", "--set nosuch: not a parameter of scenario ite-even-batch (",
     "ite-even-batch.scn)"},
    {"smoke", "name=foo", "--set name: not a parameter of scenario smoke", NULL},
    {"smoke", "link_up_s=3", "--set link_up_s: not a parameter of scenario smoke", NULL},
    {"smoke", "batch", "--set batch: missing '='", "KEY=VALUE"},
    {"smoke", "=3", "--set =3: empty key", "KEY=VALUE"},
    {"smoke", "", "--set : missing '='", NULL},
    {"smoke", "cpus=", "--set cpus=: key 'cpus': empty value", NULL},
    {"smoke", "cpus=0", "--set cpus=0: key 'cpus'", "1..64"},
    {"smoke", "cpus=65", "--set cpus=65: key 'cpus'", "1..64"},
    {"smoke", "cpus=1x", "--set cpus=1x: key 'cpus'", "not a whole number"},
    {"smoke", "cpus=-1", "--set cpus=-1: key 'cpus'", NULL},
    {"smoke", "cpus=a b", "--set cpus=a b: key 'cpus'", "one word"},
    {"smoke", "queue_len=12", "--set queue_len=12: key 'queue_len'", "power of two"},
    {"smoke", "desc_width=512", "--set desc_width=512: key 'desc_width'", "128 or 256"},
    {"smoke", "head_policy=never", "--set head_policy=never: key 'head_policy'",
     "fetch or complete"},
    {"smoke", "itesid=2", "--set itesid=2: key 'itesid'", "0 or 1"},
    {"smoke", "ite_timeout_ms=0", "--set ite_timeout_ms=0: key 'ite_timeout_ms'", "> 0"},
    {"smoke", "deadline_ms=-1", "--set deadline_ms=-1: key 'deadline_ms'", ">= 0"},
    {"smoke", "rounds=$cpus", "--set rounds=$cpus: key 'rounds'", "cannot refer"},
    {"ite-even-batch", "batch=0", "key 'op': batch=0", "--set batch=0"},
    {"ite-even-batch", "batch=abc", "key 'op': batch=abc", "--set batch=abc"},
    {"ite-even-batch", "batch=256", "expected 1..255", "--set batch=256"},
    {"iqe-bad-desc", "bad_index=3", "key 'op': bad_index=3", "--set bad_index=3"},
    {"smoke", "rounds=-2", "key 'repeat'", "--set rounds=-2"},
    {"link-down-silent", "link_down_us=9..1", "key 'at_us'", "--set link_down_us=9..1"},
    {"link-flap", "link_up_s=soon", "key 'at_s'", "--set link_up_s=soon"},
};

static void test_set_errors(void **state)
{
    (void)state;
    for (unsigned i = 0; i < sizeof(bad_sets) / sizeof(bad_sets[0]); i++) {
        const struct bad_set *b = &bad_sets[i];
        char err[ERRLEN];
        const char *sets[] = {"cpus=2", b->set};
        load_named_err(b->scenario, sets + 1, 1, err);
        must_contain(err, b->want1);
        if (b->want2)
            must_contain(err, b->want2);
        /* the same after a valid override */
        if (strncmp(b->set, "cpus", 4)) {
            load_named_err(b->scenario, sets, 2, err);
            must_contain(err, b->want1);
        }
    }
    /* a NULL string among the overrides */
    {
        char err[ERRLEN];
        const char *sets[] = {NULL};
        load_named_err("smoke", sets, 1, err);
        must_contain(err, "--set");
    }
    /* a too-long key or value */
    {
        char err[ERRLEN], big[200];
        const char *sets[] = {big};
        memset(big, 'k', sizeof(big));
        big[sizeof(big) - 1] = '\0';
        big[150] = '=';
        load_named_err("smoke", sets, 1, err);
        must_contain(err, "not a parameter of scenario smoke");
        snprintf(big, sizeof(big), "rounds=%0100d", 1);
        load_named_err("smoke", sets, 1, err);
        must_contain(err, "too long");
    }
}

/* ---------------------------------------------------------------------------------------------
 * Times, source ids, substitution.
 */
/* A link-up or unmute that may come after its link-down or mute, by their ranges, is an
 * exploration and loads; so does the catalog's link-flap unless --set moves its link-up to the
 * start (then it is refused at the fault's line, before drop_faults could hide it). */
static void test_fault_order(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 2\n[fault]\nep = "
                                   "ep0\nkind = unmute\nat_us = 0..5\n",
                               NULL, 0, &s, err),
                     0);
    assert_int_equal(s.nfaults, 2);
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = link-up\nat_us = 3\n[fault]\nep = "
                                   "ep0\nkind = link-down\nat_us = 0..2\n",
                               NULL, 0, &s, err),
                     0);
    const char *early[] = {"link_up_s=0", "drop_faults=1"};
    char path[512];
    snprintf(path, sizeof(path), "%s/link-flap.scn", QINVAL_SCENARIO_DIR);
    assert_int_equal(sc_load(path, early, 1, &s, err, sizeof(err)), -1);
    must_contain(err, "link-up of ep0 (at 0 s at the latest) comes no later than its link-down");
    assert_int_equal(sc_load(path, early, 2, &s, err, sizeof(err)), -1);
    assert_int_equal(sc_load(path, early + 1, 1, &s, err, sizeof(err)), 0);
    assert_int_equal(s.nfaults, 4); /* the link-down dropped, the link-up kept: minimisation */
}

static void test_at_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        hw_time lo, hi;
    } ok[] = {
        {"at_us = 0", 0, 0},
        {"at_us = 5..10", 5 * HW_US, 10 * HW_US},
        {"at_us = 7..7", 7 * HW_US, 7 * HW_US},
        {"at_us = 1.5", 1500, 1500},
        {"at_us = 0.001..0.002", 1, 2},
        {"at_us = 2.500000", 2500, 2500},
        {"at_s = 5", 5 * HW_S, 5 * HW_S},
        {"at_s = 0.25..1", 250 * HW_MS, HW_S},
        {"at_s = 0.000000001", 1, 1},
        {"at_s = 18446744073", 18446744073 * HW_S, 18446744073 * HW_S},
        {"at_us = 0x10", 0, 0}, /* hex is not a time: see below */
    };
    static scenario s;
    char text[256], err[ERRLEN];
    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(text, sizeof(text), EP0 "[fault]\nep = ep0\nkind = flr\n%s\n", ok[i].line);
        int rc = load_text(text, NULL, 0, &s, err);
        if (strstr(ok[i].line, "0x")) {
            assert_int_equal(rc, -1);
            continue;
        }
        if (rc)
            fail_msg("%s: %s", ok[i].line, err);
        assert_int_equal(s.nfaults, 1);
        assert_int_equal(s.faults[0].at_lo, ok[i].lo);
        assert_int_equal(s.faults[0].at_hi, ok[i].hi);
        assert_int_equal(s.faults[0].line, 3);
        assert_int_equal(s.faults[0].kind, HW_FAULT_FLR);
    }
    snprintf(text, sizeof(text), EP0 "[fault]\nep = ep0\nkind = flr\nat_s = 18446744074\n");
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    must_contain(err, "key 'at_s'");

    /* kinds and their args */
    static const struct {
        const char *kind;
        enum hw_fault k;
        bool dma;
        uint32_t def_arg;
    } kinds[] = {
        {"mute", HW_FAULT_MUTE, false, 0},
        {"unmute", HW_FAULT_UNMUTE, false, 0},
        {"drop", HW_FAULT_DROP, false, 1},
        {"link-down", HW_FAULT_LINK_DOWN, false, 0},
        {"link-up", HW_FAULT_LINK_UP, false, 0},
        {"surprise-removal", HW_FAULT_SURPRISE_REMOVAL, false, 0},
        {"flr", HW_FAULT_FLR, false, 0},
        {"wrong-itag", HW_FAULT_WRONG_ITAG, false, 1},
        {"dma", 0, true, 0},
    };
    for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        /* an unmute or link-up needs something to undo: a mute or link-down before it */
        const char *undone = !strcmp(kinds[i].kind, "unmute")    ? "mute"
                             : !strcmp(kinds[i].kind, "link-up") ? "link-down"
                                                                 : NULL;
        snprintf(text, sizeof(text), EP0 "[fault]\nep = ep0\nkind = %s\nat_us = 1\n%s%s%s",
                 kinds[i].kind, undone ? "[fault]\nep = ep0\nkind = " : "", undone ? undone : "",
                 undone ? "\nat_us = 0\n" : "");
        if (load_text(text, NULL, 0, &s, err))
            fail_msg("%s: %s", kinds[i].kind, err);
        assert_int_equal(s.faults[0].dma, kinds[i].dma);
        if (!kinds[i].dma)
            assert_int_equal(s.faults[0].kind, kinds[i].k);
        assert_int_equal(s.faults[0].arg, kinds[i].def_arg);
        assert_false(s.faults[0].write);
    }
    assert_int_equal(
        load_text(EP0 "[fault]\nep = ep0\nkind = latency\narg = 50\nat_us = 1\n", NULL, 0, &s, err),
        0);
    assert_int_equal(s.faults[0].kind, HW_FAULT_LATENCY);
    assert_int_equal(s.faults[0].arg, 50);
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = dma\narg = 9\nwrite = 1\n"
                                   "at_us = 1\n",
                               NULL, 0, &s, err),
                     0);
    assert_true(s.faults[0].dma);
    assert_true(s.faults[0].write);
    assert_int_equal(s.faults[0].arg, 9);
}

/* Times near the top of the 64-bit range: a saturating one (ITE time-out, watchdog, latency,
 * deadline, fault time) loads up to 2^64 - 1 ns exactly and is refused above it; a bounded one
 * (max_virtual_s, sleep us=) is refused past its own limit. Each refusal names the file and
 * line or the --set, the key, and the accepted range. */
static void test_time_limits(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    static const struct {
        const char *set;
        const char *want; /* NULL: loads */
    } sets[] = {
        {"ite_timeout_ms=18446744073709.551615", NULL},
        {"ite_timeout_ms=18446744073709.551616",
         "--set ite_timeout_ms=18446744073709.551616: key 'ite_timeout_ms': "
         "18446744073709.551616 is out of range (expected a decimal number of milliseconds > 0, "
         "at most 18446744073709.551615)"},
        {"ite_timeout_ms=99999999999999999999999", "at most 18446744073709.551615"},
        {"watchdog_s=18446744073", NULL},
        {"watchdog_s=18446744073.709551615", NULL},
        {"watchdog_s=18446744074",
         "key 'watchdog_s': 18446744074 is out of range (expected a decimal number of seconds "
         "> 0, at most 18446744073.709551615)"},
        {"devtlb_latency_us=18446744073709551.615", NULL},
        {"devtlb_latency_us=18446744073709552", "at most 18446744073709551.615"},
        {"deadline_ms=18446744073709.551615", NULL},
        {"deadline_margin_ms=18446744073709.551615", NULL},
        {"deadline_margin_ms=18446744073709.6", "key 'deadline_margin_ms'"},
        {"max_virtual_s=1000000000", NULL},
        {"max_virtual_s=1000000000.000000001",
         "key 'max_virtual_s': 1000000000.000000001 is out of range (expected a decimal number "
         "of seconds > 0, at most 1000000000: the simulation's largest virtual-time bound)"},
        {"max_virtual_s=18446744073", "at most 1000000000"},
    };
    for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        int rc = sc_load_named(QINVAL_SCENARIO_DIR, "smoke", &sets[i].set, 1, &s, err, ERRLEN);
        if (!sets[i].want && rc)
            fail_msg("%s: %s", sets[i].set, err);
        if (!sets[i].want)
            continue;
        if (rc != -1)
            fail_msg("%s loaded", sets[i].set);
        must_contain(err, sets[i].want);
        assert_null(strchr(err, '\n'));
    }
    const char *top[] = {"ite_timeout_ms=18446744073709.551615",
                         "watchdog_s=18446744073.709551615"};
    load_named_ok("smoke", top, 2, &s);
    assert_true(s.ite_timeout == HW_NEVER && s.watchdog == HW_NEVER);

    /* in a file: the line, the key, the range */
    assert_int_equal(load_text("[params]\nwatchdog_s = 20000000000\n", NULL, 0, &s, err), -1);
    must_contain(err, ":2: key 'watchdog_s': 20000000000 is out of range (expected a decimal "
                      "number of seconds > 0, at most 18446744073.709551615)");
    assert_int_equal(load_text(EP0 "latency_us = 18446744073709551.615\n", NULL, 0, &s, err), 0);
    assert_true(s.eps[0].latency == HW_NEVER);
    assert_int_equal(load_text(EP0 "latency_us = 18446744073709551.616\n", NULL, 0, &s, err), -1);
    must_contain(err, ":3: key 'latency_us': 18446744073709551.616 is out of range (expected a "
                      "decimal number of microseconds >= 0, at most 18446744073709551.615)");
    /* fault times: the whole range up to the top, a range ending there */
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = mute\nat_us = "
                                   "0..18446744073709551.615\n",
                               NULL, 0, &s, err),
                     0);
    assert_true(s.faults[0].at_lo == 0 && s.faults[0].at_hi == HW_NEVER);
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = mute\nat_s = 1..18446744073.71\n",
                               NULL, 0, &s, err),
                     -1);
    must_contain(err, ":6: key 'at_s': '1..18446744073.71' is out of range (expected N or LO..HI, "
                      "a decimal number of seconds >= 0, at most 18446744073.709551615)");
    /* a sleep is bounded by max_virtual_s: a longer one would end every run as a hang */
    assert_int_equal(load_text(CPU0 "op = sleep us=600000000\n", NULL, 0, &s, err), 0);
    assert_int_equal(s.cpu[0].ops[0].sleep, 600 * HW_S);
    assert_int_equal(load_text(CPU0 "op = sleep us=600000000.001\n", NULL, 0, &s, err), -1);
    must_contain(err, ":2: key 'op': sleep us=600000000.001: 600000000.001 is out of range "
                      "(expected a decimal number of microseconds >= 0, at most 600000000: "
                      "max_virtual_s, the run's virtual-time bound)");
    const char *longer[] = {"max_virtual_s=700"};
    assert_int_equal(load_text(CPU0 "op = sleep us=700000000\n", longer, 1, &s, err), 0);
    assert_int_equal(load_text("[params]\nnap = 1\n" CPU0 "op = sleep us=$nap\n",
                               (const char *[]){"nap=1e3"}, 1, &s, err),
                     -1);
    must_contain(err, "us=1e3: '1e3' is not a number of microseconds");
    must_contain(err, "(with $nap from --set nap=1e3)");
    assert_int_equal(load_text("[params]\nnap = 1\n" CPU0 "op = sleep us=$nap\n",
                               (const char *[]){"nap=18446744073709551616"}, 1, &s, err),
                     -1);
    must_contain(err, "us=18446744073709551616: 18446744073709551616 is out of range");
}

static void test_sid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int sid; /* -1: rejected */
    } sids[] = {
        {"01:00.0", 0x0100}, {"ff:1f.7", 0xffff}, {"0:3.1", 0x19},   {"00:00.0", 0},
        {"aB:0c.2", 0xab62}, {"0x1234", 0x1234},  {"65535", 0xffff}, {"256", 0x100},
        {"00:20.0", -1},     {"00:00.8", -1},     {"100:00.0", -1},  {"1:2", -1},
        {"65536", -1},       {"01:00.0x", -1},    {"01:00.", -1},    {":00.0", -1},
        {"01:.0", -1},       {"0x", -1},          {"0x10000", -1},   {"1 2", -1},
        {"01:000.0", -1},    {"01:00.00", -1},    {"g1:00.0", -1},   {"+1", -1},
    };
    static scenario s;
    char text[256], err[ERRLEN];
    for (unsigned i = 0; i < sizeof(sids) / sizeof(sids[0]); i++) {
        snprintf(text, sizeof(text), "[endpoint ep0]\nsid = %s\n", sids[i].text);
        int rc = load_text(text, NULL, 0, &s, err);
        if (sids[i].sid < 0) {
            if (rc != -1)
                fail_msg("sid '%s' accepted", sids[i].text);
            must_contain(err, ":2: key 'sid'");
        } else {
            if (rc)
                fail_msg("sid '%s': %s", sids[i].text, err);
            assert_int_equal(s.eps[0].sid, sids[i].sid);
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Domains and the job ops.
 */
static void test_domains(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    /* a [domain] may come anywhere, an op may name it before its section, endpoints may be
     * listed in any order, and endpoints named in no domain get their own after the sections */
    const char *text = "[params]\n"
                       "pair = b\n"
                       "[cpu 0]\n"
                       "op = unmap domain=left page=1 pages=2\n"
                       "op = unmap ep=a page=6\n"
                       "op = detach ep=c\n"
                       "op = context ep=$pair\n"
                       "op = unmap domain=right page=3\n"
                       "[endpoint a]\nsid = 1:0.0\n"
                       "[endpoint b]\nsid = 2:0.0\nats = 0\n"
                       "[endpoint c]\nsid = 3:0.0\n"
                       "[endpoint d]\nsid = 4:0.0\n"
                       "[domain right]\n"
                       "endpoints = d $pair\n"
                       "[domain left]\n"
                       "endpoints = c\n";
    assert_int_equal(load_text(text, NULL, 0, &s, err), 0);
    assert_domains(&s);
    assert_int_equal(s.ndomains, 3);
    assert_string_equal(s.domains[0].name, "right");
    assert_int_equal(s.domains[0].line, 18);
    assert_int_equal(s.domains[0].neps, 2);
    assert_int_equal(s.domains[0].eps[0], 3);
    assert_int_equal(s.domains[0].eps[1], 1);
    assert_int_equal(s.domains[0].did, 2); /* b, the first of d and b in file order */
    assert_string_equal(s.domains[1].name, "left");
    assert_int_equal(s.domains[1].did, 3);
    assert_string_equal(s.domains[2].name, ""); /* a's own */
    assert_int_equal(s.domains[2].did, 1);
    assert_int_equal(s.domains[2].line, 0);
    assert_int_equal(s.eps[0].domain, 2);
    assert_int_equal(s.eps[1].domain, 0);
    assert_int_equal(s.eps[2].domain, 1);
    assert_int_equal(s.eps[3].domain, 0);

    const struct sc_op *op = s.cpu[0].ops;
    assert_int_equal(s.cpu[0].nops, 5);
    assert_int_equal(op[0].kind, SC_OP_UNMAP);
    assert_int_equal(op[0].domain, 1);
    assert_int_equal(op[0].ep, -1);
    assert_int_equal(op[0].page, 1);
    assert_int_equal(op[0].pages, 2);
    assert_int_equal(op[1].kind, SC_OP_UNMAP);
    assert_int_equal(op[1].domain, -1);
    assert_int_equal(op[1].ep, 0);
    assert_int_equal(op[1].page, 6); /* page 2 of the domain's 4 */
    assert_int_equal(op[1].pages, 1);
    assert_int_equal(op[2].kind, SC_OP_DETACH);
    assert_int_equal(op[2].ep, 2);
    assert_int_equal(op[3].kind, SC_OP_CONTEXT);
    assert_int_equal(op[3].ep, 1);
    assert_int_equal(op[4].domain, 0);
    assert_int_equal(op[4].page, 3);

    /* --set reaches the endpoint list and the ops */
    const char *sets[] = {"pair=a"};
    assert_int_equal(load_text(text, sets, 1, &s, err), 0);
    assert_domains(&s);
    assert_int_equal(s.domains[0].did, 1); /* d and a: a is endpoint 0 */
    assert_int_equal(s.eps[0].domain, 0);
    assert_string_equal(s.domains[2].name, ""); /* b's own now */
    assert_int_equal(s.domains[2].eps[0], 1);
    assert_int_equal(s.domains[2].did, 2);
    assert_int_equal(s.cpu[0].ops[3].ep, 0);
    const char *bad[] = {"pair=z"};
    assert_int_equal(load_text(text, bad, 1, &s, err), -1);
    must_contain(err, ":7: key 'op': ep=z: no endpoint named 'z' (with $pair from --set pair=z)");
    const char *who = EP0 "[params]\nwho = ep0\n[domain a]\nendpoints = $who\n";
    assert_int_equal(load_text(who, bad, 0, &s, err), 0);
    const char *zz[] = {"who=zz"};
    assert_int_equal(load_text(who, zz, 1, &s, err), -1);
    must_contain(err, ":6: key 'endpoints': no endpoint named 'zz' (with $who from --set who=zz)");

    /* every endpoint in one [domain]: none of its own */
    assert_int_equal(load_text(EP0
                               "[endpoint ep1]\nsid = 2:0.0\n[domain all]\nendpoints = ep1 ep0\n",
                               NULL, 0, &s, err),
                     0);
    assert_domains(&s);
    assert_int_equal(s.ndomains, 1);
    assert_int_equal(s.domains[0].did, 1);

    /* the largest range: the domain's four pages */
    assert_int_equal(load_text(EP0 CPU0 "op = unmap ep=ep0 page=4 pages=4\n", NULL, 0, &s, err), 0);
    assert_int_equal(s.cpu[0].ops[0].pages, 4);
}

static void test_substitution(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    const char *text = "[params]\n"
                       "n = 4\n"
                       "who = dev\n"
                       "lat = 3\n"
                       "t = 10\n"
                       "[endpoint dev]\n"
                       "sid = 2:0.0\n"
                       "latency_us = $lat\n"
                       "[fault]\n"
                       "ep = $who\n"
                       "kind = drop\n"
                       "arg = $n\n"
                       "at_us = $t..$t\n"
                       "[cpu 0]\n"
                       "repeat = $n\n"
                       "op = flush devtlb=$who batch=$n\n"
                       "op = flush bad batch=$n bad_index=$lat\n"
                       "op = unmap ep=$who page=$t\n"
                       "op = sleep us=$t\n";
    assert_int_equal(load_text(text, NULL, 0, &s, err), 0);
    assert_int_equal(s.eps[0].latency, 3 * HW_US);
    assert_int_equal(s.faults[0].ep, 0);
    assert_int_equal(s.faults[0].arg, 4);
    assert_int_equal(s.faults[0].at_lo, 10 * HW_US);
    assert_int_equal(s.cpu[0].repeat, 4);
    assert_int_equal(s.cpu[0].ops[0].ep, 0);
    assert_int_equal(s.cpu[0].ops[0].batch, 4);
    assert_int_equal(s.cpu[0].ops[1].bad_index, 3);
    assert_int_equal(s.cpu[0].ops[2].page, 10);
    assert_int_equal(s.cpu[0].ops[3].sleep, 10 * HW_US);

    const char *sets[] = {"n=6", "t=2", "lat=5"};
    assert_int_equal(load_text(text, sets, 3, &s, err), 0);
    assert_int_equal(s.cpu[0].ops[0].batch, 6);
    assert_int_equal(s.cpu[0].ops[1].bad_index, 5);
    assert_int_equal(s.cpu[0].ops[2].page, 2);
    assert_int_equal(s.faults[0].at_hi, 2 * HW_US);
    assert_int_equal(s.eps[0].latency, 5 * HW_US);

    /* common keys are parameters too */
    assert_int_equal(load_text("[cpu 0]\nop = flush iotlb batch=$cpus\n", NULL, 0, &s, err), 0);
    assert_int_equal(s.cpu[0].ops[0].batch, 1);

    /* an override that makes a substituted value wrong is named */
    const char *bad[] = {"t=1.5"};
    assert_int_equal(load_text(text, bad, 1, &s, err), -1);
    must_contain(err, ":18: key 'op': page=1.5");
    must_contain(err, "--set t=1.5");

    /* bad_index from the file, batch from an override: the override is named */
    const char *small[] = {"b=2"};
    assert_int_equal(load_text("[params]\nb = 3\n[cpu 0]\nop = flush bad batch=$b bad_index=2\n",
                               small, 1, &s, err),
                     -1);
    must_contain(err, ":4: key 'op': bad_index=2 (expected 0..1");
    must_contain(err, "--set b=2");

    /* an override of a parameter the scenario does not declare */
    const char *undeclared[] = {"batch=2"};
    assert_int_equal(load_text(text, undeclared, 1, &s, err), -1);
    must_contain(err, "--set batch: not a parameter of scenario ");
}

static void test_load_named(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, "nope", NULL, 0, &s, err, sizeof(err)), -1);
    assert_string_equal(err, "unknown scenario 'nope' (see qinval list scenarios)");
    assert_int_equal(
        sc_load_named(QINVAL_SCENARIO_DIR, "../scenarios/smoke", NULL, 0, &s, err, sizeof(err)),
        -1);
    must_contain(err, "unknown scenario");
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, "", NULL, 0, &s, err, sizeof(err)), -1);
    must_contain(err, "unknown scenario ''");
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, NULL, NULL, 0, &s, err, sizeof(err)), -1);
    /* no catalog at all is said as such, not as an unknown name */
    assert_int_equal(sc_load_named("/nonexistent", "smoke", NULL, 0, &s, err, sizeof(err)), -1);
    assert_string_equal(err, "no scenario catalog at '/nonexistent' (a directory of NAME.scn "
                             "files; QINVAL_SCENARIOS names another)");
    assert_false(sc_catalog_ok("/nonexistent"));
    assert_true(sc_catalog_ok(QINVAL_SCENARIO_DIR));
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, "smoke", NULL, 0, &s, err, sizeof(err)), 0);
    must_contain(s.file, "smoke.scn");
}

/* ---------------------------------------------------------------------------------------------
 * Robustness: small error buffers, random bytes, mutated catalog files.
 */
static void check_err(int rc, const char *err, size_t len)
{
    assert_true(rc == 0 || rc == -1);
    if (rc == 0)
        return;
    assert_true(strlen(err) < len);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
}

static void test_small_err_buffers(void **state)
{
    (void)state;
    static scenario s;
    const char *path = write_tmp("[params]\ncpus = 99\n", 19);
    char err[16];
    for (size_t len = 0; len <= sizeof(err); len++) {
        memset(err, 'Z', sizeof(err));
        assert_int_equal(sc_load(path, NULL, 0, &s, len ? err : NULL, len), -1);
        if (len) {
            assert_true(strlen(err) < len);
            assert_int_equal(strncmp(err, path, len - 1), 0);
        }
    }
    assert_int_equal(sc_load(path, NULL, 0, NULL, err, sizeof(err)), -1);
    memset(err, 'Z', sizeof(err));
    assert_int_equal(sc_load_named(QINVAL_SCENARIO_DIR, "nope", NULL, 0, &s, err, 5), -1);
    assert_string_equal(err, "unkn");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void test_fuzz(void **state)
{
    (void)state;
    static scenario s;
    static char text[8192], orig[8192];
    static const char alphabet[] = "[]=#$.: \t\n\r-*0123456789abcdefxyz_"
                                   "cpuendpointfaultparamsopflushdevtlbmixedbadunmapsleep"
                                   "domainsdetachcontextpages";
    char err[ERRLEN];
    unsigned loaded = 0;

    /* random bytes, and random text over the format's alphabet */
    for (unsigned iter = 0; iter < 2000; iter++) {
        size_t n = rnd() % 2048;
        for (size_t i = 0; i < n; i++)
            text[i] = iter % 2 ? (char)rnd() : alphabet[rnd() % (sizeof(alphabet) - 1)];
        int rc = sc_load(write_tmp(text, n), NULL, 0, &s, err, sizeof(err));
        check_err(rc, err, sizeof(err));
        loaded += rc == 0;
    }

    /* mutations of catalog files: flipped, deleted and duplicated bytes, with random --set */
    for (unsigned iter = 0; iter < 3000; iter++) {
        char path[256];
        FILE *f;
        size_t n;
        snprintf(path, sizeof(path), "%s/%s.scn", QINVAL_SCENARIO_DIR, catalog[iter % NCATALOG]);
        f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(orig, 1, sizeof(orig), f);
        fclose(f);
        memcpy(text, orig, n);
        for (unsigned m = 0, nm = 1 + rnd() % 4; m < nm && n > 0; m++) {
            size_t at = rnd() % n;
            switch (rnd() % 4) {
            case 0:
                text[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
                break;
            case 1:
                memmove(text + at, text + at + 1, n - at - 1);
                n--;
                break;
            case 2:
                if (n < sizeof(text) - 64) {
                    size_t k = rnd() % 64;
                    if (at + k > n)
                        k = n - at;
                    memmove(text + at + k, text + at, n - at);
                    n += k;
                }
                break;
            default:
                text[at] = (char)rnd();
                break;
            }
        }
        static const char *const setpool[] = {
            "cpus=64", "queue_len=8", "batch=7",  "batch=1",        "desc_width=256", "bad_index=1",
            "x=1",     "=",           "rounds=0", "link_up_s=1..2", "cpus=1"};
        const char *sets[3];
        unsigned ns = rnd() % 4;
        for (unsigned i = 0; i < ns && i < 3; i++)
            sets[i] = setpool[rnd() % (sizeof(setpool) / sizeof(setpool[0]))];
        int rc = sc_load(write_tmp(text, n), sets, ns > 3 ? 3 : ns, &s, err, sizeof(err));
        check_err(rc, err, sizeof(err));
        if (rc == 0) {
            loaded++;
            assert_true(s.cpus >= 1 && s.cpus <= SC_MAX_CPUS);
            for (unsigned c = 0; c < s.cpus; c++)
                for (unsigned o = 0; o < s.cpu[c].nops; o++)
                    assert_true(s.cpu[c].ops[o].ep < (int)s.neps);
            assert_domains(&s);
        }
    }
    assert_true(loaded > 0);
}

/* ---- parameter domains ([sweep]) and fault kinds a sweep varies ---- */

static const char sweep_text[] = "[params]\n"             /* 1 */
                                 "batch = 2\n"            /* 2 */
                                 "failure = mute\n"       /* 3 */
                                 "\n"                     /* 4 */
                                 "[sweep]   # domains\n"  /* 5 */
                                 "batch = 1..4 7\n"       /* 6 */
                                 "fetch_window = 2\n"     /* 7: replaces the built-in one */
                                 "failure = mute  flr\n"; /* 8 */

static void assert_item(const struct sc_sweep_item *it, const char *text, bool range, int64_t lo,
                        int64_t hi)
{
    assert_string_equal(it->text, text);
    assert_int_equal(it->range, range);
    if (range) {
        assert_int_equal(it->lo, lo);
        assert_int_equal(it->hi, hi);
    }
}

/* The scenario's lines in file order, then the built-in domains it does not name, in their
 * fixed order (tests/cli/domains.sh keeps a copy of that list: this checks it). */
static void test_sweep_parse(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    const char *sets[] = {"batch=3", "head_policy=complete"};
    assert_int_equal(load_text(sweep_text, sets, 2, &s, err), 0);
    assert_int_equal(s.nsweep, 3 + 5);
    assert_string_equal(s.sweep[0].key, "batch");
    assert_int_equal(s.sweep[0].line, 6);
    assert_false(s.sweep[0].builtin);
    assert_int_equal(s.sweep[0].nitems, 2);
    assert_item(&s.sweep[0].items[0], "1..4", true, 1, 4);
    assert_item(&s.sweep[0].items[1], "7", false, 0, 0);
    assert_string_equal(s.sweep[1].key, "fetch_window");
    assert_int_equal(s.sweep[1].line, 7);
    assert_int_equal(s.sweep[1].nitems, 1);
    assert_false(s.sweep[1].builtin);
    assert_string_equal(s.sweep[2].key, "failure");
    assert_int_equal(s.sweep[2].line, 8);
    assert_item(&s.sweep[2].items[1], "flr", false, 0, 0);
    /* --set changed the values, not the domains */
    assert_string_equal(sc_param(&s, "batch"), "3");
    assert_int_equal(s.head_policy, HW_HEAD_COMPLETE);
    static const char *const builtin[][4] = {
        {"head_policy", "fetch", "complete", NULL},
        {"itesid", "1", "0", NULL},
        {"desc_width", "128", "256", NULL},
        {"strict_reserved", "1", "0", NULL},
        {"ite_discard", "1", "0", NULL},
    };
    for (unsigned b = 0; b < 5; b++) {
        const struct sc_sweep_dom *d = &s.sweep[3 + b];
        assert_string_equal(d->key, builtin[b][0]);
        assert_true(d->builtin);
        assert_int_equal(d->line, 0);
        assert_int_equal(d->nitems, 2);
        for (unsigned i = 0; i < 2; i++)
            assert_item(&d->items[i], builtin[b][1 + i], false, 0, 0);
    }
    /* without a [sweep] section: the six built-in domains, fetch_window's too */
    assert_int_equal(load_text("", NULL, 0, &s, err), 0);
    assert_int_equal(s.nsweep, 6);
    assert_string_equal(s.sweep[3].key, "fetch_window");
    assert_int_equal(s.sweep[3].nitems, 3);
    assert_item(&s.sweep[3].items[2], "64", false, 0, 0);
    for (unsigned i = 0; i < 6; i++)
        assert_true(s.sweep[i].builtin);
    /* a [sweep] section before [params] sees its keys; a range of one value */
    assert_int_equal(load_text("[sweep]\nn = 5..5\n[params]\nn = 1\n", NULL, 0, &s, err), 0);
    assert_item(&s.sweep[0].items[0], "5..5", true, 5, 5);
}

static void sweep_err(const char *text, int line, const char *key, const char *want)
{
    static scenario s;
    char err[ERRLEN], where[160];
    assert_int_equal(load_text(text, NULL, 0, &s, err), -1);
    snprintf(where, sizeof(where), "%s:%d: key '%s': ", tmp_path, line, key);
    if (strncmp(err, where, strlen(where)))
        fail_msg("'%s' does not start with '%s'", err, where);
    must_contain(err, want);
    assert_null(strchr(err, '\n'));
}

static void test_sweep_errors(void **state)
{
    (void)state;
    static char text[8192];
    sweep_err("[sweep]\ncpus =\n", 2, "cpus", "empty domain");
    sweep_err("[sweep]\ncpus = # only a comment\n", 2, "cpus", "empty domain");
    sweep_err("[sweep]\nbogus = 1 2\n", 2, "bogus", "unknown key in [sweep]");
    sweep_err("[sweep]\ncpus = 1\nitesid = 0\ncpus = 2\n", 4, "cpus",
              "given twice in [sweep] (first at line 2)");
    static const char *const ranges[] = {"1..",     "..4",   "4..1",  "a..b",
                                         "1..2..3", "-1..2", "1...2", "0x1..2"};
    for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        snprintf(text, sizeof(text), "[params]\nn = 1\n[sweep]\nn = 1 %s\n", ranges[i]);
        char want[64];
        snprintf(want, sizeof(want), "malformed range '%s'", ranges[i]);
        sweep_err(text, 4, "n", want);
    }
    size_t n = (size_t)snprintf(text, sizeof(text), "[sweep]\ncpus =");
    for (unsigned i = 0; i <= SC_MAX_SWEEP_ITEMS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, " %u", i + 1);
    snprintf(text + n, sizeof(text) - n, "\n");
    sweep_err(text, 2, "cpus", "too many values (max 16)");
    /* $ is refused: a domain is not substituted */
    sweep_err("[params]\nn = 1\nm = 2\n[sweep]\nn = 1 $m\n", 5, "n", "not substituted");
    /* too many keys, counting the built-in domains not named */
    n = (size_t)snprintf(text, sizeof(text), "[params]\n");
    for (unsigned i = 0; i < SC_MAX_SWEEP_KEYS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "p%u = 1\n", i);
    n += (size_t)snprintf(text + n, sizeof(text) - n, "[sweep]\n");
    for (unsigned i = 0; i < SC_MAX_SWEEP_KEYS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "p%u = 1\n", i);
    /* 24 lines and 6 built-in domains: the first that does not fit is line 2 + 24 + 1 + 18 */
    sweep_err(text, 2 + SC_MAX_SWEEP_KEYS + 1 + (SC_MAX_SWEEP_KEYS - 6), "p18",
              "too many [sweep] keys (max 24, counting the 6 built-in");
}

/* A [fault]'s kind from a $parameter: every failure a sweep gives it loads, with one arg that
 * only link-flap reads (the kinds that take none ignore it); link-flap's arg defaults to 1 ms. */
static void test_fault_kind_param(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN], set[64];
    static const char text[] = "[params]\nfailure = mute\n" EP0 "[fault]\nep = ep0\n"
                               "kind = $failure\nat_us = 3\narg = 500\n"
                               "[fault]\nep = ep0\nkind = link-up\nat_s = 5\n";
    static const struct {
        const char *kind;
        enum hw_fault hw;
    } kinds[] = {{"mute", HW_FAULT_MUTE},
                 {"link-down", HW_FAULT_LINK_DOWN},
                 {"link-flap", HW_FAULT_LINK_DOWN},
                 {"surprise-removal", HW_FAULT_SURPRISE_REMOVAL},
                 {"flr", HW_FAULT_FLR}};
    for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *sets[] = {set};
        snprintf(set, sizeof(set), "failure=%s", kinds[i].kind);
        if (load_text(text, sets, 1, &s, err))
            fail_msg("%s: %s", set, err);
        bool flap = !strcmp(kinds[i].kind, "link-flap");
        assert_int_equal(s.faults[0].kind, kinds[i].hw);
        assert_int_equal(s.faults[0].flap, flap);
        assert_int_equal(s.faults[0].arg, flap ? 500 : 0);
    }
    /* a literal kind that takes no arg still refuses one */
    assert_int_equal(
        load_text(EP0 "[fault]\nep = ep0\nkind = mute\nat_us = 0\narg = 5\n", NULL, 0, &s, err),
        -1);
    must_contain(err, ":7: key 'arg': kind = mute takes no arg");
    assert_int_equal(
        load_text(EP0 "[fault]\nep = ep0\nkind = link-flap\nat_us = 0\n", NULL, 0, &s, err), 0);
    assert_true(s.faults[0].flap);
    assert_int_equal(s.faults[0].arg, 1000);
    assert_int_equal(load_text(EP0 "[fault]\nep = ep0\nkind = link-flap\nat_us = 0\narg = 0\n",
                               NULL, 0, &s, err),
                     -1);
    must_contain(err, ":7: key 'arg': must be > 0 for kind = link-flap");
}

/* The observer's view of one run: when ep0's link went down and came back. */
struct link_seen {
    hw_time down, up;
    unsigned downs, ups;
};

static void see_links(void *ctx, const sim_world *w, const chk_result *res)
{
    struct link_seen *seen = ctx;
    size_t n;
    const hw_event *ev = hw_events(sim_hw(w), &n);
    (void)res;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != HW_EV_LINK || ev[i].ep != 0)
            continue;
        if (ev[i].c == HW_LINK_DOWN) {
            seen->down = ev[i].t;
            seen->downs++;
        } else if (ev[i].c == HW_LINK_UP) {
            seen->up = ev[i].t;
            seen->ups++;
        }
    }
    assert_int_equal(hw_ep_link(sim_hw(w), 0), HW_LINK_UP);
}

static unsigned decide_first(void *ctx, enum chk_decision_kind kind, unsigned n, unsigned dflt,
                             const unsigned *ids)
{
    (void)ctx, (void)kind, (void)n, (void)ids;
    return dflt;
}

/* A link-flap is one [fault] and, at run time, the link going down and coming back arg us
 * later: the engine's run sees both, and ep0's link is up at the end. */
static void test_link_flap_runs(void **state)
{
    (void)state;
    static scenario s;
    char err[ERRLEN];
    const char *sets[] = {"failure=link-flap"};
    assert_int_equal(load_text("[params]\nfailure = mute\nite_timeout_ms = 10\n" EP0
                               "[fault]\nep = ep0\nkind = $failure\nat_us = 1\narg = 50\n" CPU0
                               "op = flush devtlb=ep0\nop = sleep us=100\n",
                               sets, 1, &s, err),
                     0);
    assert_int_equal(s.nfaults, 1);
    struct link_seen seen = {0};
    const chk_observer obs = {see_links, &seen};
    chk_result res;
    const sim_driver_ops *drv = sim_driver_find("qinval");
    assert_non_null(drv);
    chk_run_observed(&s, drv, decide_first, NULL, NULL, NULL, &obs, &res);
    if (res.verdict != CHK_PASS)
        fail_msg("%s: %s", chk_verdict_name(res.verdict), res.why);
    assert_int_equal(seen.downs, 1);
    assert_int_equal(seen.ups, 1);
    assert_int_equal(seen.up - seen.down, 50 * HW_US);
}

static int teardown_all(void **state)
{
    (void)state;
    if (tmp_path[0])
        unlink(tmp_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_loads),
        cmocka_unit_test(test_catalog_list),
        cmocka_unit_test(test_catalog_structure),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_broken),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_set_valid),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_at_ranges),
        cmocka_unit_test(test_fault_order),
        cmocka_unit_test(test_time_limits),
        cmocka_unit_test(test_sid),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_substitution),
        cmocka_unit_test(test_load_named),
        cmocka_unit_test(test_small_err_buffers),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_sweep_parse),
        cmocka_unit_test(test_sweep_errors),
        cmocka_unit_test(test_fault_kind_param),
        cmocka_unit_test(test_link_flap_runs),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
