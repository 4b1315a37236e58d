/*
 * scenario.h — a scenario: the hardware knobs, the endpoints, the fault plan and each CPU's
 * workload, read from a file in scenarios/ and adjusted by `--set KEY=VALUE`. The checker
 * turns it into a world (src/check/instantiate.c); this header is only the data.
 *
 * File format (scenarios/NAME.scn), line oriented, '#' starts a comment:
 *
 *   name = ite-even-batch
 *   summary = one line
 *   from = seed 001
 *
 *   [params]                    # parameters: defaults, overridable with --set
 *   batch = 2                   # a scenario-specific key
 *   cpus = 1                    # common keys (below) may be given defaults here too
 *
 *   [sweep]                     # parameter domains: the values `qinval sweep` may give
 *   batch = 1..4 8              # a key: words as --set takes them, or integer ranges LO..HI
 *   failure = mute flr          # (any number of items up to 16; no $substitution here)
 *
 *   [endpoint ep0]
 *   sid = 01:00.0
 *   ats = 1
 *   latency_us = $devtlb_latency_us     # $key: the value of a parameter
 *
 *   [domain shared]             # a domain (one page table) shared by endpoints
 *   endpoints = ep0 ep1         # names of [endpoint] sections, each in one domain at most
 *
 *   [fault]                     # one timed event of the fault plan
 *   ep = ep0
 *   kind = drop                 # mute unmute drop link-down link-up link-flap
 *                               # surprise-removal flr wrong-itag latency dma (or $param)
 *   at_us = 0                   # fixed time, or a range lo..hi explored by the strategy
 *                               # (or at_s = ... in seconds; decimals allowed in both)
 *   arg = 1                     # count / latency / page index for dma (kind-specific)
 *                               # link-flap: the outage in us (default 1000)
 *
 *   [cpu 0]                     # workload of CPU 0; "[cpu *]" applies to every CPU
 *                               # without its own section (others idle; N >= cpus ignored)
 *   repeat = 1                  # 0..250000000 times (memory grows with what is run)
 *   op = flush devtlb=ep0 batch=$batch
 *   op = sleep us=5
 *
 * Faults: link-flap is one [fault] that the run turns into two hardware faults: the link
 * drops silently (as link-down) at the fault's time and comes back (link-up) `arg`
 * microseconds later (default 1000, > 0). arg is read by drop (requests to drop, default 1),
 * wrong-itag (answers with a wrong ITag, default 1), latency (the new latency in us, required),
 * link-flap and dma (page index, default 0); mute, unmute, link-down, link-up,
 * surprise-removal and flr take none and refuse one, except when `kind` is a $parameter: a
 * sweep over kinds gives every kind the same arg, and these ignore it (arg 0). Nor is a
 * link-up or unmute of an endpoint with such a fault checked against what it undoes.
 *
 * Parameter domains ([sweep], read with every parameter known): each line `key = ITEM ...`
 * lists the values a sweep may give `key`, a common key or one of [params]. An ITEM is a word
 * (a value as --set takes it) or LO..HI (whole decimal numbers, LO <= HI: the sweep picks
 * values inside). The values are not checked here; the catalog's are by tests/cli/domains.sh.
 * Refused, at the line: an empty domain, an unknown key, a key given twice, a malformed range,
 * more than SC_MAX_SWEEP_ITEMS items, a '$', more than SC_MAX_SWEEP_KEYS domains counting the
 * built-in ones. Built-in domains, which every scenario gets for a key its [sweep] does not
 * name (a line replaces the built-in list; one item pins the key): head_policy = fetch
 * complete, itesid = 1 0, desc_width = 128 256, fetch_window = 1 8 64, strict_reserved = 1 0,
 * ite_discard = 1 0. A domain need not hold the key's default: the catalog's own point (the
 * defaults) is what a sweep runs first. --set changes values, never domains.
 *
 * Domains: an endpoint named in no [domain] section has a domain of its own. A domain's id
 * (DID) is the index of its first endpoint (in file order) + 1, so without [domain] sections
 * endpoint i is in domain i + 1. Each domain has one page table mapping SC_DOMAIN_PAGES pages
 * (page P is page P mod SC_DOMAIN_PAGES); its endpoints' context entries point at it.
 *
 * Workload operations (one per `op =` line, run in order, the list `repeat` times):
 *   flush iotlb [batch=N]          N page-selective IOTLB invalidations in one submit
 *   flush devtlb=EP [batch=N]      N-1 IOTLB invalidations then one device-TLB for EP
 *   flush mixed=EP [batch=N]       alternating IOTLB and device-TLB (EP) descriptors
 *   flush bad [batch=N] [bad_index=K]  a batch whose K-th descriptor is malformed
 *   unmap domain=D page=P [pages=N]  (or ep=EP for EP's domain) a job (driver.h, struct
 *                                  drv_op, run by the driver's `op` or as a submit of its
 *                                  careful batch): pages P..P+N-1 leave the domain's page
 *                                  table, then DRV_OP_UNMAP, whose careful batch is one
 *                                  page-selective IOTLB invalidation covering the range and one
 *                                  device-TLB invalidation covering it per ATS endpoint in the
 *                                  domain now. On success the pages are freed and given to
 *                                  another owner at once
 *   detach ep=EP                   EP leaves its domain: its context entry is cleared, then
 *                                  the job DRV_OP_DETACH (domain-selective IOTLB invalidation,
 *                                  device-TLB all addresses for EP if ATS)
 *   context ep=EP                  EP's context entry changes (the device is released): it is
 *                                  cleared, then the job DRV_OP_CONTEXT (device-selective
 *                                  context-cache invalidation, device-TLB all addresses for EP
 *                                  if ATS). After a detach or context job EP is no longer in
 *                                  the domain; when one succeeds and leaves the domain empty
 *                                  (and no earlier one of it failed), all its pages are freed
 *                                  and reused at once
 *   flr ep=EP                      reset bracket: driver hooks around an FLR of EP
 *   sleep us=N                     idle N microseconds
 * The flush ops' IOTLB invalidations name domain EP + 1 (EP's index; 1 without one), whatever
 * domain EP is in.
 *
 * Common keys (valid in every scenario): cpus, queue_len, desc_width (128|256), head_policy
 * (fetch|complete), fetch_window, ite_timeout_ms, watchdog_s, itesid (0|1), devtlb_latency_us,
 * max_virtual_s, deadline_ms, deadline_margin_ms, mem_points (0|1: plain shared loads and
 * stores are scheduling points too), strict_reserved (0|1, default 1: reserved descriptor bits
 * raise IQE), ite_discard (0|1, default 1: an ITE drops fetched descriptors not yet started;
 * both hw_config knobs, docs/hardware-model.md), and the two reductions counterexample
 * minimisation uses: drop_faults (none | I,J,...: leave out those [fault] sections, 0-based in
 * file order) and ops_limit (none | N,N,...: CPU i runs at most its N operations; '*' for all of
 * them). Any other key must be declared in the scenario's [params].
 */
#ifndef QINVAL_SCENARIO_H
#define QINVAL_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hw/hw.h"

#define SC_MAX_PARAMS   50
#define SC_MAX_EPS      8
#define SC_MAX_DOMAINS  SC_MAX_EPS /* each has an endpoint of its own */
#define SC_DOMAIN_PAGES 4u         /* pages each domain maps */
#define SC_MAX_FAULTS   16
#define SC_MAX_OPS      16
#define SC_MAX_CPUS     64
#define SC_NAME_LEN     48
#define SC_TEXT_LEN     160
#define SC_MAX_DRV_SETS 4
#define SC_DRV_SET_LEN  1024

#define SC_MAX_SWEEP_KEYS  24
#define SC_MAX_SWEEP_ITEMS 16

struct sc_param {
    char key[SC_NAME_LEN];
    char value[SC_NAME_LEN];
    bool common; /* one of the common keys */
    int line;    /* where it was declared (0: built-in default, -1: --set) */
};

struct sc_endpoint {
    char name[SC_NAME_LEN];
    uint16_t sid;
    bool ats;
    hw_time latency;
    int domain; /* index into domains */
};

struct sc_domain {
    char name[SC_NAME_LEN]; /* "" for an endpoint's own domain (no [domain] section) */
    uint16_t did;           /* its first endpoint's index + 1 */
    unsigned neps;
    int eps[SC_MAX_EPS]; /* endpoint indexes, as listed */
    int line;            /* its [domain] section (0: an endpoint's own) */
};

struct sc_fault {
    int ep;               /* index into endpoints */
    enum hw_fault kind;   /* unused when dma is set; HW_FAULT_LINK_DOWN for a link-flap */
    bool dma;             /* a DMA attempt by the endpoint rather than a fault */
    bool flap;            /* link-flap: link-down at the time, link-up `arg` us later */
    hw_time at_lo, at_hi; /* explored in [lo, hi]; equal for a fixed time */
    uint32_t arg;         /* 0 for the kinds that take none */
    bool write;           /* dma: write rather than read */
    int line;
};

enum sc_op_kind {
    SC_OP_FLUSH_IOTLB,
    SC_OP_FLUSH_DEVTLB,
    SC_OP_FLUSH_MIXED,
    SC_OP_FLUSH_BAD,
    SC_OP_UNMAP,
    SC_OP_DETACH,
    SC_OP_CONTEXT,
    SC_OP_FLR,
    SC_OP_SLEEP
};

struct sc_op {
    enum sc_op_kind kind;
    int ep;         /* endpoint index, or -1 */
    int domain;     /* unmap domain=D: domain index, or -1 (unmap ep=EP: EP's domain) */
    unsigned batch; /* descriptors per submit (>= 1) */
    int bad_index;  /* flush bad */
    unsigned page;  /* unmap: the first page */
    unsigned pages; /* unmap: how many (>= 1) */
    hw_time sleep;
    int line;
};

struct sc_workload {
    unsigned repeat;
    unsigned nops;
    uint32_t limit; /* at most this many operations in all (ops_limit; UINT32_MAX: no limit) */
    struct sc_op ops[SC_MAX_OPS];
};

/* One value of a [sweep] domain: a word, or the integers lo..hi (range; lo <= hi). */
struct sc_sweep_item {
    char text[SC_NAME_LEN]; /* as written ("1..4" for a range) */
    bool range;
    int64_t lo, hi; /* range only */
};

/* The values a sweep may give one key: a [sweep] line, or a built-in domain (builtin, line 0). */
struct sc_sweep_dom {
    char key[SC_NAME_LEN];
    unsigned nitems;
    struct sc_sweep_item items[SC_MAX_SWEEP_ITEMS];
    bool builtin;
    int line;
};

typedef struct scenario {
    char name[SC_NAME_LEN];
    char summary[SC_TEXT_LEN];
    char from[SC_TEXT_LEN];
    char file[256];

    /* parameters after defaults, file values and --set overrides */
    unsigned nparams;
    struct sc_param params[SC_MAX_PARAMS];

    /* resolved common settings */
    unsigned cpus;
    unsigned queue_len;
    bool dw256;
    enum hw_head_policy head_policy;
    unsigned fetch_window;
    hw_time ite_timeout;
    hw_time watchdog;
    bool itesid;
    hw_time devtlb_latency;
    hw_time max_virtual;
    hw_time deadline;        /* per-call bound handed to drivers that honour one */
    hw_time deadline_margin; /* how late such a call may return (deadline_overrun oracle) */
    bool mem_points;         /* plain shared loads/stores are scheduling points (sim_config) */
    bool strict_reserved;    /* hw_config.strict_reserved: reserved bits raise IQE */
    bool ite_discard;        /* hw_config.ite_discard: an ITE drops fetched, unstarted work */

    /* Parameter domains: the [sweep] lines in file order, then the built-in domains the file
     * does not name (head_policy, itesid, desc_width, fetch_window, strict_reserved,
     * ite_discard). --set overrides leave them as they are. */
    unsigned nsweep;
    struct sc_sweep_dom sweep[SC_MAX_SWEEP_KEYS];

    unsigned neps;
    struct sc_endpoint eps[SC_MAX_EPS];
    unsigned ndomains; /* the [domain] sections first, in file order, then endpoints' own */
    struct sc_domain domains[SC_MAX_DOMAINS];
    unsigned nfaults;
    struct sc_fault faults[SC_MAX_FAULTS];
    struct sc_workload cpu[SC_MAX_CPUS]; /* [0, cpus) */

    /* The driver's own settings (sim_driver_ops.setting_keys), "KEY=VALUE", handed to the
     * driver with each world (drv_params.settings). Not read from the scenario file: the
     * command line puts them here (cli_load). */
    unsigned ndrv_sets;
    char drv_sets[SC_MAX_DRV_SETS][SC_DRV_SET_LEN];
} scenario;

/* Load a scenario file, apply `nsets` overrides "KEY=VALUE", resolve. Returns 0, or -1 with a
 * one-line message in err naming the file, the line (or "--set") and the key. */
int sc_load(const char *path, const char *const *sets, unsigned nsets, scenario *out, char *err,
            size_t errlen);
/* The same from an open stream (seekable: the loader reads it twice), named `name` in messages
 * and as the file; the caller closes it. For a text in memory (fmemopen) such as a fuzzer's. */
int sc_load_stream(FILE *f, const char *name, const char *const *sets, unsigned nsets,
                   scenario *out, char *err, size_t errlen);
/* Find scenarios/NAME.scn in `dir` and load it (same contract). */
int sc_load_named(const char *dir, const char *name, const char *const *sets, unsigned nsets,
                  scenario *out, char *err, size_t errlen);
/* No CPU runs any operation (no op line, or repeat = 0): checking it would say nothing of a
 * driver. The loader accepts such a scenario (the benchmarks time an empty execution); the
 * command line refuses it. */
bool sc_runs_nothing(const scenario *s);
/* The value of a parameter, or NULL. */
const char *sc_param(const scenario *s, const char *key);
/* A fault kind's name in the catalog's format ("link-down", "wrong-itag", ...). */
const char *sc_fault_name(enum hw_fault f);
/* Is `dir` a directory that can be read, that is a scenario catalog (even an empty one)? */
bool sc_catalog_ok(const char *dir);
/* The message for a missing catalog at `dir` (what sc_load_named says then). */
void sc_no_catalog(const char *dir, char *err, size_t errlen);
/* Names of the scenarios in `dir` (sorted), up to max; returns how many. */
unsigned sc_list(const char *dir, char names[][SC_NAME_LEN], unsigned max);

#endif /* QINVAL_SCENARIO_H */
