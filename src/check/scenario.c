/*
 * scenario.c — the scenario loader: reads a scenarios/NAME.scn file (format in scenario.h),
 * applies `--set KEY=VALUE` overrides, substitutes $parameters and resolves everything into a
 * fixed-size struct scenario, or says in one line what is wrong and where.
 *
 * The file is read twice. Pass 1 checks the structure (line syntax, section headers, key
 * names) and collects the top-level keys, the [params] entries and the endpoint and domain
 * names; then the overrides are applied and the common parameters validated and resolved.
 * Pass 2 reads the endpoints, the domains, the fault plan and the workloads with every
 * $parameter at its final value, so an override reaches every line that refers to it.
 */
#include "check/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/sim.h"

#define SC_LINE_MAX 1024 /* characters per line, excluding the newline */
/* A workload's length is bounded by what is run (the time budget), not by what it could run:
 * memory grows with the submits made (run.c). The bound keeps a CPU's operations (repeat x at
 * most SC_MAX_OPS) countable in 32 bits, where ops_limit and the run count them. */
#define SC_REPEAT_MAX 250000000u
#define SC_OP_TOKENS  16

_Static_assert((uint64_t)SC_REPEAT_MAX *SC_MAX_OPS < UINT32_MAX,
               "a CPU's operations fit below ops_limit's 'none' (UINT32_MAX)");

enum sect { SECT_TOP, SECT_PARAMS, SECT_EP, SECT_DOMAIN, SECT_FAULT, SECT_CPU, SECT_SWEEP };

/* Keys of each section; the index is also the slot in struct ld.key_line. */
static const char *const top_keys[] = {"name", "summary", "from", NULL};
static const char *const ep_keys[] = {"sid", "ats", "latency_us", NULL};
enum { EPK_SID, EPK_ATS, EPK_LATENCY };
static const char *const domain_keys[] = {"endpoints", NULL};
static const char *const fault_keys[] = {"ep", "kind", "at_us", "at_s", "arg", "write", NULL};
enum { FK_EP, FK_KIND, FK_AT_US, FK_AT_S, FK_ARG, FK_WRITE };
static const char *const cpu_keys[] = {"repeat", "op", NULL};
enum { CK_REPEAT, CK_OP };

/* The common parameters and their built-in defaults. desc_width precedes queue_len: the
 * accepted queue lengths depend on the descriptor width. */
static const struct {
    const char *key;
    const char *def;
} common_keys[] = {
    {"cpus", "1"},
    {"desc_width", "128"},
    {"queue_len", "256"},
    {"head_policy", "fetch"},
    {"fetch_window", "8"},
    {"ite_timeout_ms", "1000"},
    {"watchdog_s", "10"},
    {"itesid", "1"},
    {"devtlb_latency_us", "2"},
    {"max_virtual_s", "600"},
    {"deadline_ms", "0"},
    {"mem_points", "0"},
    {"deadline_margin_ms", "0.1"},
    {"drop_faults", "none"},
    {"ops_limit", "none"},
    {"strict_reserved", "1"},
    {"ite_discard", "1"},
};
#define NCOMMON (sizeof(common_keys) / sizeof(common_keys[0]))

/* clang-format off */
static const char *const fault_names[] = {
    [HW_FAULT_MUTE] = "mute",
    [HW_FAULT_UNMUTE] = "unmute",
    [HW_FAULT_DROP] = "drop",
    [HW_FAULT_LINK_DOWN] = "link-down",
    [HW_FAULT_LINK_UP] = "link-up",
    [HW_FAULT_SURPRISE_REMOVAL] = "surprise-removal",
    [HW_FAULT_FLR] = "flr",
    [HW_FAULT_WRONG_ITAG] = "wrong-itag",
    [HW_FAULT_LATENCY] = "latency",
};
/* clang-format on */
#define NFAULT_NAMES (sizeof(fault_names) / sizeof(fault_names[0]))

/* A link-flap's outage when its [fault] gives no arg, in microseconds. */
#define SC_FLAP_DEFAULT_US 1000u

/* The built-in parameter domains, in the order they follow a scenario's [sweep] lines. */
static const struct {
    const char *key;
    const char *items;
} builtin_domains[] = {
    {"head_policy", "fetch complete"}, {"itesid", "1 0"},          {"desc_width", "128 256"},
    {"fetch_window", "1 8 64"},        {"strict_reserved", "1 0"}, {"ite_discard", "1 0"},
};
#define NBUILTIN (sizeof(builtin_domains) / sizeof(builtin_domains[0]))

const char *sc_fault_name(enum hw_fault f)
{
    return (unsigned)f < NFAULT_NAMES && fault_names[f] ? fault_names[f] : "?";
}

struct ld {
    scenario *s;
    const char *file;
    char *err;
    size_t errlen;
    int pass;
    int line;
    enum sect sect;
    char sect_name[SC_NAME_LEN + 16];
    int sect_line;
    int idx;         /* endpoint or fault index; CPU number, -1 for [cpu *] */
    int key_line[8]; /* where each key of the current section was given (0: not given) */
    bool kind_param[SC_MAX_FAULTS]; /* the [fault]'s kind came from a $parameter */
    int top_line[3];
    unsigned neps;  /* endpoint sections met so far in this pass */
    unsigned ndoms; /* domain sections met so far in this pass */
    struct sc_workload *wl;
    bool cpu_explicit[SC_MAX_CPUS];
    bool have_star;
    struct sc_workload star;
};

/* ---------------------------------------------------------------------------------------------
 * Error messages: one line, built piece by piece into the caller's buffer, truncated safely.
 */
struct msg {
    char *buf;
    size_t len, pos;
};

static void vput(struct msg *m, const char *fmt, va_list ap)
{
    if (!m->buf || m->pos + 1 >= m->len)
        return;
    int n = vsnprintf(m->buf + m->pos, m->len - m->pos, fmt, ap);
    if (n < 0)
        return;
    m->pos += (size_t)n;
    if (m->pos >= m->len)
        m->pos = m->len - 1;
}

static void put(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct msg *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(m, fmt, ap);
    va_end(ap);
}

static struct msg msg_start(struct ld *l)
{
    struct msg m = {l->err, l->errlen, 0};
    if (m.buf && m.len)
        m.buf[0] = '\0';
    return m;
}

/* "FILE:LINE: key 'KEY': text[ (VALUE from --set K=V)]"; line 0 leaves the line out, a NULL
 * key the key. `from` names the overridden parameter a substituted value came from. */
static int fail_at(struct ld *l, int line, const char *key, const struct sc_param *from,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_at(struct ld *l, int line, const char *key, const struct sc_param *from,
                   const char *fmt, ...)
{
    struct msg m = msg_start(l);
    va_list ap;
    if (line > 0)
        put(&m, "%s:%d: ", l->file, line);
    else
        put(&m, "%s: ", l->file);
    if (key)
        put(&m, "key '%s': ", key);
    va_start(ap, fmt);
    vput(&m, fmt, ap);
    va_end(ap);
    if (from)
        put(&m, " (with $%s from --set %s=%s)", from->key, from->key, from->value);
    return -1;
}

/* An error in the value of a parameter: at its line in the file, or at the --set that gave it. */
static int param_fail(struct ld *l, const struct sc_param *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int param_fail(struct ld *l, const struct sc_param *p, const char *fmt, ...)
{
    struct msg m = msg_start(l);
    va_list ap;
    if (p->line > 0)
        put(&m, "%s:%d: key '%s': ", l->file, p->line, p->key);
    else
        put(&m, "--set %s=%s: key '%s': ", p->key, p->value, p->key);
    va_start(ap, fmt);
    vput(&m, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_fail(struct ld *l, const char *set, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_fail(struct ld *l, const char *set, const char *fmt, ...)
{
    struct msg m = msg_start(l);
    va_list ap;
    put(&m, "--set %s: ", set);
    va_start(ap, fmt);
    vput(&m, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Small parsers. Every number must parse completely: no sign, no spaces, no trailing junk.
 */
static bool copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A parameter or key name: [A-Za-z_][A-Za-z0-9_]*, shorter than SC_NAME_LEN. */
static bool is_ident(const char *s)
{
    size_t n = 0;
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; s[n]; n++)
        if (!is_ident_char(s[n]))
            return false;
    return n < SC_NAME_LEN;
}

/* An endpoint or scenario name: letters, digits, '_', '-', '.'. */
static bool is_name(const char *s)
{
    size_t n = 0;
    if (!s[0])
        return false;
    for (; s[n]; n++)
        if (!is_ident_char(s[n]) && s[n] != '-' && s[n] != '.')
            return false;
    return n < SC_NAME_LEN;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decimal, or hexadecimal with 0x. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        int d = hexval(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            return false;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return true;
}

/* What parse_time() found: a time, text that is not one, or one that does not fit in 64 bits
 * of nanoseconds. */
enum pt { PT_OK, PT_SYNTAX, PT_RANGE };

/* A decimal amount of a unit (unit = 10^digits ns), e.g. "1.5" ms; exact, at most 1 ns
 * resolution. */
static enum pt parse_time(const char *s, unsigned digits, hw_time *out)
{
    hw_time unit = 1, ip = 0, fp = 0;
    unsigned fd = 0;
    bool big = false; /* the whole part alone does not fit */
    const char *p = s;
    for (unsigned i = 0; i < digits; i++)
        unit *= 10;
    if (!(*p >= '0' && *p <= '9'))
        return PT_SYNTAX;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (ip > (UINT64_MAX - 9) / 10)
            big = true;
        else
            ip = ip * 10 + (hw_time)(*p - '0');
    }
    if (*p == '.') {
        const char *f = ++p, *end;
        if (!(*p >= '0' && *p <= '9'))
            return PT_SYNTAX;
        while (*p >= '0' && *p <= '9')
            p++;
        end = p;
        while (end > f && end[-1] == '0') /* trailing zeros add nothing */
            end--;
        if ((size_t)(end - f) > digits)
            return PT_SYNTAX; /* finer than 1 ns */
        for (const char *q = f; q < end; q++, fd++)
            fp = fp * 10 + (hw_time)(*q - '0');
        for (; fd < digits; fd++)
            fp *= 10;
    }
    if (*p)
        return PT_SYNTAX;
    if (big || ip > (UINT64_MAX - fp) / unit)
        return PT_RANGE;
    *out = ip * unit + fp;
    return PT_OK;
}

static const char *unit_name(unsigned digits)
{
    return digits == 9 ? "seconds" : digits == 6 ? "milliseconds" : "microseconds";
}

/*
 * The values a time accepts. Every time of a scenario is one of two kinds, and each key says
 * which where it is read:
 *  - saturating (hi = HW_NEVER): anything up to 2^64 - 1 ns is taken, and a time that the
 *    run's clock plus this one would carry past that is "never" (util/sat_time.h): an ITE
 *    time-out, a watchdog, a latency, a deadline or a fault that never comes;
 *  - bounded (a smaller hi): a larger value is refused at load, naming the limit.
 */
struct time_spec {
    unsigned digits;    /* the unit: 10^digits ns (3 us, 6 ms, 9 s) */
    bool positive;      /* 0 is refused */
    hw_time hi;         /* the largest value taken */
    const char *hi_why; /* what the limit is when it is not the 64-bit one (NULL: it is) */
};

/* t in the unit of `digits`, as the shortest exact decimal ("1.5", "600"). */
static const char *time_text(hw_time t, unsigned digits, char *buf, size_t len)
{
    hw_time unit = 1;
    for (unsigned i = 0; i < digits; i++)
        unit *= 10;
    hw_time frac = t % unit;
    unsigned w = digits;
    while (w > 0 && frac % 10 == 0 && frac) {
        frac /= 10;
        w--;
    }
    if (frac)
        snprintf(buf, len, "%llu.%0*llu", (unsigned long long)(t / unit), (int)w,
                 (unsigned long long)frac);
    else
        snprintf(buf, len, "%llu", (unsigned long long)(t / unit));
    return buf;
}

/* "a decimal number of seconds > 0, at most 18446744073.709551615" */
static const char *time_expect(const struct time_spec *ts, char *buf, size_t len)
{
    char hi[32];
    snprintf(buf, len, "a decimal number of %s %s, at most %s%s%s", unit_name(ts->digits),
             ts->positive ? "> 0" : ">= 0", time_text(ts->hi, ts->digits, hi, sizeof(hi)),
             ts->hi_why ? ": " : "", ts->hi_why ? ts->hi_why : "");
    return buf;
}

/* Read a time as `ts` allows: NULL, or what is wrong with `text` in one line (into why). */
static const char *read_time(const char *text, const struct time_spec *ts, hw_time *out, char *why,
                             size_t len)
{
    char expect[160];
    enum pt r = parse_time(text, ts->digits, out);
    time_expect(ts, expect, sizeof(expect));
    if (r == PT_SYNTAX)
        snprintf(why, len, "'%s' is not a number of %s (expected %s, e.g. 1.5)", text,
                 unit_name(ts->digits), expect);
    else if (r == PT_RANGE || *out > ts->hi)
        snprintf(why, len, "%s is out of range (expected %s)", text, expect);
    else if (ts->positive && *out == 0)
        snprintf(why, len, "must be > 0 (expected %s)", expect);
    else
        return NULL;
    return why;
}

/* The largest time: saturating quantities take all of it. */
#define ANY_TIME(d, pos) ((struct time_spec){.digits = (d), .positive = (pos), .hi = HW_NEVER})

/* "bb:dd.f" (hex bus, hex device 0..1f, function 0..7) or a number 0..0xffff. */
static bool parse_sid(const char *s, uint16_t *out)
{
    if (strchr(s, ':')) {
        unsigned bus = 0, dev = 0, nb = 0, nd = 0;
        for (; hexval(*s) >= 0 && nb < 3; s++, nb++)
            bus = bus * 16 + (unsigned)hexval(*s);
        if (nb < 1 || nb > 2 || *s++ != ':')
            return false;
        for (; hexval(*s) >= 0 && nd < 3; s++, nd++)
            dev = dev * 16 + (unsigned)hexval(*s);
        if (nd < 1 || nd > 2 || dev > 0x1f || *s++ != '.')
            return false;
        if (!(*s >= '0' && *s <= '7') || s[1])
            return false;
        *out = (uint16_t)(bus << 8 | dev << 3 | (unsigned)(*s - '0'));
        return true;
    }
    uint64_t v;
    if (!parse_u64(s, &v) || v > 0xffff)
        return false;
    *out = (uint16_t)v;
    return true;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int key_index(const char *const *keys, const char *key)
{
    for (int i = 0; keys[i]; i++)
        if (!strcmp(keys[i], key))
            return i;
    return -1;
}

/* "a, b or c" into buf. */
static const char *key_list(const char *const *keys, char *buf, size_t len)
{
    struct msg m = {buf, len, 0};
    buf[0] = '\0';
    for (int i = 0; keys[i]; i++)
        put(&m, "%s%s", i == 0 ? "" : keys[i + 1] ? ", " : " or ", keys[i]);
    return buf;
}

static struct sc_param *find_param(scenario *s, const char *key)
{
    for (unsigned i = 0; i < s->nparams; i++)
        if (!strcmp(s->params[i].key, key))
            return &s->params[i];
    return NULL;
}

static int find_ep(const scenario *s, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(s->eps[i].name, name))
            return (int)i;
    return -1;
}

/* A [domain] section by name, among the first n. */
static int find_domain(const scenario *s, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(s->domains[i].name, name))
            return (int)i;
    return -1;
}

/* A parameter value: one word, no '$' (parameters do not refer to each other). */
static const char *bad_param_value(const char *v)
{
    if (!v[0])
        return "empty value";
    if (strlen(v) >= SC_NAME_LEN)
        return "value too long (max 47 characters)";
    if (strpbrk(v, " \t\r"))
        return "value must be one word";
    if (strchr(v, '$'))
        return "a parameter's value cannot refer to another parameter";
    return NULL;
}

/* Replace every $name in `in` by the parameter's final value. *from is set to the last
 * substituted parameter that an override gave, for error messages. */
static int expand(struct ld *l, const char *key, const char *in, char *out, size_t cap,
                  const struct sc_param **from)
{
    size_t o = 0;
    *from = NULL;
    while (*in) {
        const char *add = in;
        size_t n = 1;
        if (*in == '$') {
            char name[SC_NAME_LEN];
            size_t k = 0;
            const struct sc_param *p;
            in++;
            while (is_ident_char(in[k]))
                k++;
            if (k == 0)
                return fail_at(l, l->line, key, NULL, "'$' without a parameter name");
            if (k >= SC_NAME_LEN)
                return fail_at(l, l->line, key, NULL, "unknown parameter '$%.*s...'", 20, in);
            memcpy(name, in, k);
            name[k] = '\0';
            p = find_param(l->s, name);
            if (!p)
                return fail_at(l, l->line, key, NULL,
                               "unknown parameter '$%s' (declare it in [params])", name);
            if (p->line < 0)
                *from = p;
            add = p->value;
            n = strlen(p->value);
            in += k;
        } else {
            in++;
        }
        if (o + n >= cap)
            return fail_at(l, l->line, key, NULL, "value too long after substitution");
        memcpy(out + o, add, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Common parameters: validation and resolution (between the passes).
 */
static int param_uint(struct ld *l, const char *key, uint64_t lo, uint64_t hi, const char *expect,
                      uint64_t *out)
{
    struct sc_param *p = find_param(l->s, key);
    if (!parse_u64(p->value, out))
        return param_fail(l, p, "'%s' is not a whole number (expected %s)", p->value, expect);
    if (*out < lo || *out > hi)
        return param_fail(l, p, "%s is out of range (expected %s)", p->value, expect);
    return 0;
}

static int param_time(struct ld *l, const char *key, struct time_spec ts, hw_time *out)
{
    struct sc_param *p = find_param(l->s, key);
    char why[320];
    if (read_time(p->value, &ts, out, why, sizeof(why)))
        return param_fail(l, p, "%s", why);
    return 0;
}

static int resolve_common(struct ld *l)
{
    scenario *s = l->s;
    uint64_t v;
    struct sc_param *p;

    if (param_uint(l, "cpus", 1, SC_MAX_CPUS, "1..64", &v))
        return -1;
    s->cpus = (unsigned)v;
    p = find_param(s, "desc_width");
    if (strcmp(p->value, "128") && strcmp(p->value, "256"))
        return param_fail(l, p, "'%s' is not a descriptor width (expected 128 or 256)", p->value);
    s->dw256 = !strcmp(p->value, "256");
    {
        uint64_t hi = s->dw256 ? 16384 : 32768;
        char expect[96];
        snprintf(expect, sizeof(expect), "a power of two from 8 to %u for %s-bit descriptors",
                 (unsigned)hi, s->dw256 ? "256" : "128");
        if (param_uint(l, "queue_len", 8, hi, expect, &v))
            return -1;
        if (v & (v - 1))
            return param_fail(l, find_param(s, "queue_len"),
                              "%s is not a power of two (expected %s)",
                              find_param(s, "queue_len")->value, expect);
        s->queue_len = (unsigned)v;
    }
    p = find_param(s, "head_policy");
    if (!strcmp(p->value, "fetch"))
        s->head_policy = HW_HEAD_FETCH;
    else if (!strcmp(p->value, "complete"))
        s->head_policy = HW_HEAD_COMPLETE;
    else
        return param_fail(l, p, "'%s' is not a head policy (expected fetch or complete)", p->value);
    if (param_uint(l, "fetch_window", 1, 64, "1..64", &v))
        return -1;
    s->fetch_window = (unsigned)v;
    /* An ITE time-out or a watchdog too long for the clock never fires (saturating). */
    if (param_time(l, "ite_timeout_ms", ANY_TIME(6, true), &s->ite_timeout) ||
        param_time(l, "watchdog_s", ANY_TIME(9, true), &s->watchdog))
        return -1;
    if (param_uint(l, "itesid", 0, 1, "0 or 1", &v))
        return -1;
    s->itesid = v != 0;
    /* A latency too long for the clock is an answer that never comes, a deadline (or margin)
     * one that is never reached (saturating). The virtual-time bound is bounded: past
     * SIM_MAX_VIRTUAL the run's clock would come near HW_NEVER, where "never" and "then" meet,
     * and "the bound passed" could not be told. */
    const struct time_spec bound = {.digits = 9,
                                    .positive = true,
                                    .hi = SIM_MAX_VIRTUAL,
                                    .hi_why = "the simulation's largest virtual-time bound"};
    if (param_time(l, "devtlb_latency_us", ANY_TIME(3, false), &s->devtlb_latency) ||
        param_time(l, "max_virtual_s", bound, &s->max_virtual) ||
        param_time(l, "deadline_ms", ANY_TIME(6, false), &s->deadline) ||
        param_time(l, "deadline_margin_ms", ANY_TIME(6, false), &s->deadline_margin))
        return -1;
    if (param_uint(l, "mem_points", 0, 1, "0 or 1", &v))
        return -1;
    s->mem_points = v != 0;
    if (param_uint(l, "strict_reserved", 0, 1, "0 or 1", &v))
        return -1;
    s->strict_reserved = v != 0;
    if (param_uint(l, "ite_discard", 0, 1, "0 or 1", &v))
        return -1;
    s->ite_discard = v != 0;
    return 0;
}

static int apply_set(struct ld *l, const char *set)
{
    char key[SC_NAME_LEN];
    const char *eq, *val, *bad;
    struct sc_param *p;
    size_t klen;

    if (!set)
        return set_fail(l, "(null)", "missing argument (expected --set KEY=VALUE)");
    eq = strchr(set, '=');
    if (!eq)
        return set_fail(l, set, "missing '=' (expected --set KEY=VALUE)");
    klen = (size_t)(eq - set);
    if (klen == 0)
        return set_fail(l, set, "empty key (expected --set KEY=VALUE)");
    val = eq + 1;
    p = NULL;
    if (klen < SC_NAME_LEN) {
        memcpy(key, set, klen);
        key[klen] = '\0';
        p = find_param(l->s, key);
    }
    if (!p) {
        struct msg m = msg_start(l);
        put(&m, "--set %.*s: not a parameter of scenario %s (%s)", (int)(klen > 64 ? 64 : klen),
            set, l->s->name, l->file);
        return -1;
    }
    bad = bad_param_value(val);
    if (bad)
        return set_fail(l, set, "key '%s': %s", key, bad);
    memcpy(p->value, val, strlen(val) + 1);
    p->line = -1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Pass 2: values of [endpoint], [fault] and [cpu] keys.
 */
static int ep_key(struct ld *l, int k, const char *key, const char *val,
                  const struct sc_param *from)
{
    struct sc_endpoint *e = &l->s->eps[l->idx];
    switch (k) {
    case EPK_SID:
        if (!parse_sid(val, &e->sid))
            return fail_at(l, l->line, key, from,
                           "'%s' is not a source id (expected bb:dd.f with hex bus, device "
                           "0..1f, function 0..7, or a number 0..0xffff)",
                           val);
        for (int i = 0; i < l->idx; i++)
            if (l->s->eps[i].sid == e->sid)
                return fail_at(l, l->line, key, from, "source id '%s' is also endpoint %s's", val,
                               l->s->eps[i].name);
        return 0;
    case EPK_ATS:
        if (strcmp(val, "0") && strcmp(val, "1"))
            return fail_at(l, l->line, key, from, "'%s' (expected 0 or 1)", val);
        e->ats = val[0] == '1';
        return 0;
    default: { /* saturating, as devtlb_latency_us: an answer that never comes */
        char why[320];
        const struct time_spec ts = ANY_TIME(3, false);
        if (read_time(val, &ts, &e->latency, why, sizeof(why)))
            return fail_at(l, l->line, key, from, "%s", why);
        return 0;
    }
    }
}

/* endpoints = EP [EP...]: the endpoints of the current [domain] section. */
static int domain_key(struct ld *l, const char *key, const char *val, const struct sc_param *from)
{
    char buf[SC_LINE_MAX + 1], *save = NULL;
    struct sc_domain *d = &l->s->domains[l->idx];
    copy_str(buf, sizeof(buf), val);
    for (char *t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        int ep = find_ep(l->s, l->s->neps, t);
        if (ep < 0)
            return fail_at(l, l->line, key, from, "no endpoint named '%s'", t);
        int in = l->s->eps[ep].domain;
        if (in == l->idx)
            return fail_at(l, l->line, key, from, "endpoint %s is listed twice", t);
        if (in >= 0)
            return fail_at(l, l->line, key, from,
                           "endpoint %s is already in domain %s (line %d): an endpoint belongs "
                           "to one domain at most",
                           t, l->s->domains[in].name, l->s->domains[in].line);
        l->s->eps[ep].domain = l->idx;
        d->eps[d->neps++] = ep;
    }
    return 0;
}

/* After pass 2: every endpoint named in no [domain] section gets a domain of its own, and each
 * domain its id, its first endpoint's index + 1 (so a scenario without [domain] sections has
 * the ids it always had: endpoint i in domain i + 1). */
static void finish_domains(scenario *s)
{
    for (unsigned e = 0; e < s->neps; e++) {
        if (s->eps[e].domain >= 0)
            continue;
        struct sc_domain *d = &s->domains[s->ndomains];
        memset(d, 0, sizeof(*d));
        d->neps = 1;
        d->eps[0] = (int)e;
        s->eps[e].domain = (int)s->ndomains++;
    }
    for (unsigned i = 0; i < s->ndomains; i++) {
        struct sc_domain *d = &s->domains[i];
        int first = d->eps[0];
        for (unsigned k = 1; k < d->neps; k++)
            if (d->eps[k] < first)
                first = d->eps[k];
        d->did = (uint16_t)(first + 1);
    }
}

static int parse_at(struct ld *l, const char *key, const char *val, const struct sc_param *from,
                    unsigned digits, struct sc_fault *f)
{
    char lo[SC_LINE_MAX + 1];
    const char *dots = strstr(val, "..");
    const char *hi = val;
    if (dots) {
        size_t n = (size_t)(dots - val);
        memcpy(lo, val, n);
        lo[n] = '\0';
        hi = dots + 2;
    } else {
        copy_str(lo, sizeof(lo), val);
    }
    /* Saturating: a fault time past the end of the clock is a fault that never comes. */
    enum pt rlo = parse_time(lo, digits, &f->at_lo), rhi = parse_time(hi, digits, &f->at_hi);
    if (rlo == PT_SYNTAX || rhi == PT_SYNTAX)
        return fail_at(l, l->line, key, from,
                       "'%s' is not a time (expected N or LO..HI in %s, decimals allowed)", val,
                       unit_name(digits));
    if (rlo == PT_RANGE || rhi == PT_RANGE) {
        char expect[160];
        const struct time_spec ts = ANY_TIME(digits, false);
        return fail_at(l, l->line, key, from, "'%s' is out of range (expected N or LO..HI, %s)",
                       val, time_expect(&ts, expect, sizeof(expect)));
    }
    if (f->at_lo > f->at_hi)
        return fail_at(l, l->line, key, from, "'%s': LO > HI (expected LO..HI with LO <= HI)", val);
    return 0;
}

static int fault_key(struct ld *l, int k, const char *key, const char *val,
                     const struct sc_param *from)
{
    struct sc_fault *f = &l->s->faults[l->idx];
    uint64_t v;
    switch (k) {
    case FK_EP:
        f->ep = find_ep(l->s, l->s->neps, val);
        if (f->ep < 0)
            return fail_at(l, l->line, key, from, "no endpoint named '%s'", val);
        return 0;
    case FK_KIND:
        if (!strcmp(val, "dma")) {
            f->dma = true;
            return 0;
        }
        if (!strcmp(val, "link-flap")) {
            f->kind = HW_FAULT_LINK_DOWN;
            f->flap = true;
            return 0;
        }
        for (unsigned i = 0; i < NFAULT_NAMES; i++) {
            if (!strcmp(val, fault_names[i])) {
                f->kind = (enum hw_fault)i;
                return 0;
            }
        }
        return fail_at(l, l->line, key, from,
                       "unknown fault '%s' (expected mute, unmute, drop, link-down, link-up, "
                       "link-flap, surprise-removal, flr, wrong-itag, latency or dma)",
                       val);
    case FK_AT_US:
    case FK_AT_S:
        if (l->key_line[k == FK_AT_US ? FK_AT_S : FK_AT_US])
            return fail_at(l, l->line, key, NULL, "at_us and at_s both given (expected one)");
        return parse_at(l, key, val, from, k == FK_AT_US ? 3 : 9, f);
    case FK_ARG:
        if (!parse_u64(val, &v) || v > UINT32_MAX)
            return fail_at(l, l->line, key, from, "'%s' (expected a number 0..4294967295)", val);
        f->arg = (uint32_t)v;
        return 0;
    default:
        if (strcmp(val, "0") && strcmp(val, "1"))
            return fail_at(l, l->line, key, from, "'%s' (expected 0 or 1)", val);
        f->write = val[0] == '1';
        return 0;
    }
}

/* One `op = ...` line. */
static int parse_op(struct ld *l, const char *value, struct sc_workload *wl)
{
    char buf[SC_LINE_MAX + 1];
    char *tok[SC_OP_TOKENS], *save = NULL;
    unsigned nt = 0, first_opt;
    struct sc_op op = {.ep = -1, .domain = -1, .batch = 1, .pages = 1, .line = l->line};
    const char *const *opts;
    static const char *const flush_opts[] = {"batch", NULL};
    static const char *const bad_opts[] = {"batch", "bad_index", NULL};
    static const char *const unmap_opts[] = {"ep", "domain", "page", "pages", NULL};
    enum { UNMAP_EP, UNMAP_DOMAIN, UNMAP_PAGE, UNMAP_PAGES };
    static const char *const ep_opts[] = {"ep", NULL}; /* flr, detach, context */
    static const char *const sleep_opts[] = {"us", NULL};
    int given[4] = {0, 0, 0, 0};
    uint64_t bad_index = 0;
    const struct sc_param *bad_from = NULL, *batch_from = NULL, *pages_from = NULL;
    char list[64];

    if (wl->nops >= SC_MAX_OPS)
        return fail_at(l, l->line, "op", NULL, "too many ops in %s (max %d)", l->sect_name,
                       SC_MAX_OPS);
    copy_str(buf, sizeof(buf), value);
    for (char *t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (nt == SC_OP_TOKENS)
            return fail_at(l, l->line, "op", NULL, "too many words");
        tok[nt++] = t;
    }
    if (nt == 0)
        return fail_at(l, l->line, "op", NULL, "empty op");

    if (!strcmp(tok[0], "flush")) {
        char empty[1] = "", *target = nt > 1 ? tok[1] : empty;
        char *eq = strchr(target, '=');
        first_opt = 2;
        opts = flush_opts;
        if (eq)
            *eq = '\0';
        if (!strcmp(target, "iotlb") && !eq) {
            op.kind = SC_OP_FLUSH_IOTLB;
        } else if (!strcmp(target, "bad") && !eq) {
            op.kind = SC_OP_FLUSH_BAD;
            opts = bad_opts;
        } else if ((!strcmp(target, "devtlb") || !strcmp(target, "mixed")) && eq) {
            char name[SC_LINE_MAX + 1];
            const struct sc_param *from;
            op.kind = target[0] == 'd' ? SC_OP_FLUSH_DEVTLB : SC_OP_FLUSH_MIXED;
            if (expand(l, "op", eq + 1, name, sizeof(name), &from))
                return -1;
            op.ep = find_ep(l->s, l->s->neps, name);
            if (op.ep < 0)
                return fail_at(l, l->line, "op", from, "%s=%s: no endpoint named '%s'", target,
                               name, name);
        } else {
            if (eq)
                *eq = '=';
            return fail_at(l, l->line, "op", NULL,
                           "flush '%s' (expected flush iotlb, flush devtlb=EP, flush mixed=EP or "
                           "flush bad)",
                           target);
        }
    } else if (!strcmp(tok[0], "unmap")) {
        op.kind = SC_OP_UNMAP;
        opts = unmap_opts;
        first_opt = 1;
    } else if (!strcmp(tok[0], "flr") || !strcmp(tok[0], "detach") || !strcmp(tok[0], "context")) {
        op.kind = tok[0][0] == 'f' ? SC_OP_FLR : tok[0][0] == 'd' ? SC_OP_DETACH : SC_OP_CONTEXT;
        opts = ep_opts;
        first_opt = 1;
    } else if (!strcmp(tok[0], "sleep")) {
        op.kind = SC_OP_SLEEP;
        opts = sleep_opts;
        first_opt = 1;
    } else {
        return fail_at(l, l->line, "op", NULL,
                       "unknown op '%s' (expected flush, unmap, detach, context, flr or sleep)",
                       tok[0]);
    }

    for (unsigned i = first_opt; i < nt; i++) {
        char val[SC_LINE_MAX + 1];
        const struct sc_param *from;
        char *eq = strchr(tok[i], '=');
        const char *name = tok[i];
        uint64_t v;
        int k;
        if (!eq)
            return fail_at(l, l->line, "op", NULL, "'%s' (expected OPTION=VALUE, OPTION one of %s)",
                           tok[i], key_list(opts, list, sizeof(list)));
        *eq = '\0';
        k = key_index(opts, name);
        if (k < 0)
            return fail_at(l, l->line, "op", NULL, "unknown option '%s' for %s (expected %s)", name,
                           tok[0], key_list(opts, list, sizeof(list)));
        if (given[k])
            return fail_at(l, l->line, "op", NULL, "option '%s' given twice", name);
        given[k] = 1;
        if (expand(l, "op", eq + 1, val, sizeof(val), &from))
            return -1;
        if (!strcmp(name, "batch")) {
            unsigned hi = l->s->queue_len - 1;
            if (!parse_u64(val, &v) || v < 1 || v > hi)
                return fail_at(l, l->line, "op", from,
                               "batch=%s (expected 1..%u: a batch and its wait descriptor must "
                               "fit in the %u-entry queue)",
                               val, hi, l->s->queue_len);
            op.batch = (unsigned)v;
            batch_from = from;
        } else if (!strcmp(name, "bad_index")) {
            if (!parse_u64(val, &bad_index) || bad_index > UINT32_MAX)
                return fail_at(l, l->line, "op", from, "bad_index=%s (expected a number >= 0)",
                               val);
            bad_from = from;
        } else if (!strcmp(name, "ep")) {
            op.ep = find_ep(l->s, l->s->neps, val);
            if (op.ep < 0)
                return fail_at(l, l->line, "op", from, "ep=%s: no endpoint named '%s'", val, val);
        } else if (!strcmp(name, "domain")) {
            op.domain = find_domain(l->s, l->s->ndomains, val);
            if (op.domain < 0)
                return fail_at(l, l->line, "op", from,
                               "domain=%s: no domain named '%s' (expected the name of a [domain] "
                               "section)",
                               val, val);
        } else if (!strcmp(name, "page")) {
            if (!parse_u64(val, &v) || v > UINT32_MAX)
                return fail_at(l, l->line, "op", from,
                               "page=%s (expected a page index 0..4294967295)", val);
            op.page = (unsigned)v;
        } else if (!strcmp(name, "pages")) {
            if (!parse_u64(val, &v) || v < 1 || v > SC_DOMAIN_PAGES)
                return fail_at(l, l->line, "op", from,
                               "pages=%s (expected 1..%u: a domain maps %u pages)", val,
                               SC_DOMAIN_PAGES, SC_DOMAIN_PAGES);
            op.pages = (unsigned)v;
            pages_from = from;
        } else {
            /* Bounded by max_virtual_s: a longer sleep would end every execution at the bound,
             * reported as a hang of whatever driver ran. */
            char why[320];
            const struct time_spec ts = {.digits = 3,
                                         .positive = false,
                                         .hi = l->s->max_virtual,
                                         .hi_why = "max_virtual_s, the run's virtual-time bound"};
            if (read_time(val, &ts, &op.sleep, why, sizeof(why)))
                return fail_at(l, l->line, "op", from, "sleep us=%s: %s", val, why);
        }
    }
    if (op.kind == SC_OP_UNMAP) {
        static const char usage[] =
            "expected unmap ep=EP page=P or unmap domain=D page=P [pages=N]";
        if (!given[UNMAP_EP] && !given[UNMAP_DOMAIN])
            return fail_at(l, l->line, "op", NULL, "unmap needs ep=EP or domain=D (%s)", usage);
        if (given[UNMAP_EP] && given[UNMAP_DOMAIN])
            return fail_at(l, l->line, "op", NULL, "unmap takes ep=EP or domain=D, not both (%s)",
                           usage);
        if (!given[UNMAP_PAGE])
            return fail_at(l, l->line, "op", NULL, "unmap needs page=... (%s)", usage);
        unsigned first = op.page % SC_DOMAIN_PAGES;
        if (first + op.pages > SC_DOMAIN_PAGES)
            return fail_at(l, l->line, "op", pages_from,
                           "pages=%u from page=%u (expected 1..%u: the range must end within the "
                           "domain's %u pages, and page %u is its page %u)",
                           op.pages, op.page, SC_DOMAIN_PAGES - first, SC_DOMAIN_PAGES, op.page,
                           first);
    } else if (op.kind != SC_OP_FLUSH_IOTLB && op.kind != SC_OP_FLUSH_DEVTLB &&
               op.kind != SC_OP_FLUSH_MIXED && op.kind != SC_OP_FLUSH_BAD) {
        for (int k = 0; opts[k]; k++)
            if (!given[k])
                return fail_at(l, l->line, "op", NULL, "%s needs %s=... (expected %s %s)", tok[0],
                               opts[k], tok[0], op.kind == SC_OP_SLEEP ? "us=N" : "ep=EP");
    }
    if (op.kind == SC_OP_FLUSH_BAD) {
        if (bad_index >= op.batch)
            return fail_at(l, l->line, "op", bad_from ? bad_from : batch_from,
                           "bad_index=%llu (expected 0..%u: below batch=%u)",
                           (unsigned long long)bad_index, op.batch - 1, op.batch);
        op.bad_index = (int)bad_index;
    }
    wl->ops[wl->nops++] = op;
    return 0;
}

static int cpu_key(struct ld *l, int k, const char *key, const char *raw)
{
    if (k == CK_OP)
        return parse_op(l, raw, l->wl);
    char val[SC_LINE_MAX + 1];
    const struct sc_param *from;
    uint64_t v;
    if (expand(l, key, raw, val, sizeof(val), &from))
        return -1;
    if (!parse_u64(val, &v) || v > SC_REPEAT_MAX)
        return fail_at(l, l->line, key, from, "'%s' (expected 0..%u)", val, SC_REPEAT_MAX);
    l->wl->repeat = (unsigned)v;
    return 0;
}

/* A [fault]'s arg once the section is read: its default where it is missing; refused for a kind
 * that takes none, unless the kind came from a $parameter (a sweep over kinds gives one arg to
 * all of them): then it is ignored (0). */
static int fault_arg(struct ld *l, struct sc_fault *f)
{
    bool given = l->key_line[FK_ARG] != 0;
    if (f->flap) {
        if (!given)
            f->arg = SC_FLAP_DEFAULT_US;
        else if (f->arg == 0)
            return fail_at(l, l->key_line[FK_ARG], "arg", NULL,
                           "must be > 0 for kind = link-flap (expected the outage in "
                           "microseconds, 1..4294967295)");
        return 0;
    }
    if (f->dma || f->kind == HW_FAULT_DROP || f->kind == HW_FAULT_WRONG_ITAG ||
        f->kind == HW_FAULT_LATENCY) {
        if (!given && f->kind == HW_FAULT_LATENCY && !f->dma)
            return fail_at(l, l->sect_line, "arg", NULL,
                           "missing for kind = latency (expected microseconds)");
        if (!given)
            f->arg = f->dma ? 0 : 1;
        return 0;
    }
    if (given && !l->kind_param[l->idx])
        return fail_at(l, l->key_line[FK_ARG], "arg", NULL,
                       "kind = %s takes no arg (expected arg only for drop, wrong-itag, "
                       "latency, link-flap or dma)",
                       fault_names[f->kind]);
    f->arg = 0;
    return 0;
}

/* Checks that need the whole section (pass 2). */
static int end_section(struct ld *l)
{
    if (l->pass != 2)
        return 0;
    if (l->sect == SECT_EP) {
        if (!l->key_line[EPK_SID])
            return fail_at(l, l->sect_line, "sid", NULL,
                           "missing in %s (expected e.g. sid = 01:00.0)", l->sect_name);
    } else if (l->sect == SECT_DOMAIN) {
        if (!l->key_line[0])
            return fail_at(l, l->sect_line, "endpoints", NULL,
                           "missing in %s: a domain needs at least one endpoint (expected "
                           "endpoints = EP [EP...])",
                           l->sect_name);
    } else if (l->sect == SECT_FAULT) {
        struct sc_fault *f = &l->s->faults[l->idx];
        if (!l->key_line[FK_EP])
            return fail_at(l, l->sect_line, "ep", NULL,
                           "missing in [fault] (expected the endpoint's name)");
        if (!l->key_line[FK_KIND])
            return fail_at(l, l->sect_line, "kind", NULL, "missing in [fault]");
        if (!l->key_line[FK_AT_US] && !l->key_line[FK_AT_S])
            return fail_at(l, l->sect_line, "at_us", NULL,
                           "missing in [fault] (expected at_us = N or LO..HI, or at_s)");
        if (l->key_line[FK_WRITE] && !f->dma)
            return fail_at(l, l->key_line[FK_WRITE], "write", NULL, "only for kind = dma");
        return fault_arg(l, f);
    } else if (l->sect == SECT_CPU) {
        if (l->wl->nops == 0)
            return fail_at(l, l->sect_line, "op", NULL, "%s has no op (expected at least one)",
                           l->sect_name);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Lines.
 */

/* The NAME of [KIND NAME] (an endpoint or a domain): checked, and named in l->sect_name. */
static int section_name(struct ld *l, const char *kind, const char *name)
{
    if (!is_name(name))
        return fail_at(l, l->line, NULL, NULL,
                       "bad %s name '%.*s' (expected letters, digits, '_', '-', '.', at most 47)",
                       kind, 64, name);
    snprintf(l->sect_name, sizeof(l->sect_name), "[%s %s]", kind, name);
    return 0;
}

static int section_header(struct ld *l, char *text)
{
    char *inner = text + 1, *w[3], *save = NULL;
    unsigned nw = 0;
    size_t len = strlen(text);
    scenario *s = l->s;

    if (len < 2 || text[len - 1] != ']')
        return fail_at(l, l->line, NULL, NULL, "malformed section header (expected [name])");
    if (end_section(l))
        return -1;
    text[len - 1] = '\0';
    for (char *t = strtok_r(inner, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (nw == 3)
            break;
        w[nw++] = t;
    }
    memset(l->key_line, 0, sizeof(l->key_line));
    l->sect_line = l->line;

    if (nw == 1 && !strcmp(w[0], "params")) {
        l->sect = SECT_PARAMS;
        snprintf(l->sect_name, sizeof(l->sect_name), "[params]");
        return 0;
    }
    if (nw == 1 && !strcmp(w[0], "sweep")) {
        l->sect = SECT_SWEEP;
        snprintf(l->sect_name, sizeof(l->sect_name), "[sweep]");
        return 0;
    }
    if (nw == 1 && !strcmp(w[0], "fault")) {
        l->sect = SECT_FAULT;
        snprintf(l->sect_name, sizeof(l->sect_name), "[fault]");
        if (l->pass == 2) {
            if (s->nfaults >= SC_MAX_FAULTS)
                return fail_at(l, l->line, NULL, NULL, "too many faults (max %d)", SC_MAX_FAULTS);
            l->idx = (int)s->nfaults++;
            s->faults[l->idx] = (struct sc_fault){.ep = -1, .line = l->line};
        }
        return 0;
    }
    if (nw == 2 && !strcmp(w[0], "endpoint")) {
        l->sect = SECT_EP;
        if (section_name(l, w[0], w[1]))
            return -1;
        if (l->pass == 1) {
            if (find_ep(s, l->neps, w[1]) >= 0)
                return fail_at(l, l->line, NULL, NULL, "duplicate endpoint '%s'", w[1]);
            if (l->neps >= SC_MAX_EPS)
                return fail_at(l, l->line, NULL, NULL, "too many endpoints (max %d)", SC_MAX_EPS);
            copy_str(s->eps[l->neps].name, SC_NAME_LEN, w[1]);
        } else {
            struct sc_endpoint *e = &s->eps[l->neps];
            e->ats = true;
            e->latency = s->devtlb_latency;
        }
        l->idx = (int)l->neps++;
        return 0;
    }
    if (nw == 2 && !strcmp(w[0], "domain")) {
        l->sect = SECT_DOMAIN;
        if (section_name(l, w[0], w[1]))
            return -1;
        if (l->pass == 1) {
            int other = find_domain(s, l->ndoms, w[1]);
            if (other >= 0)
                return fail_at(l, l->line, NULL, NULL, "duplicate domain '%s' (first at line %d)",
                               w[1], s->domains[other].line);
            if (l->ndoms >= SC_MAX_DOMAINS)
                return fail_at(l, l->line, NULL, NULL, "too many domains (max %d)", SC_MAX_DOMAINS);
            struct sc_domain *d = &s->domains[l->ndoms];
            copy_str(d->name, SC_NAME_LEN, w[1]);
            d->line = l->line;
        }
        l->idx = (int)l->ndoms++;
        return 0;
    }
    if (nw == 2 && !strcmp(w[0], "cpu")) {
        uint64_t n = 0;
        l->sect = SECT_CPU;
        if (strcmp(w[1], "*") && (!parse_u64(w[1], &n) || n >= SC_MAX_CPUS))
            return fail_at(l, l->line, NULL, NULL,
                           "bad CPU '%.*s' (expected [cpu N], N 0..%d, "
                           "or [cpu *])",
                           32, w[1], SC_MAX_CPUS - 1);
        l->idx = strcmp(w[1], "*") ? (int)n : -1;
        if (l->idx >= 0)
            snprintf(l->sect_name, sizeof(l->sect_name), "[cpu %d]", l->idx);
        else
            snprintf(l->sect_name, sizeof(l->sect_name), "[cpu *]");
        if (l->pass == 2) {
            bool *seen = l->idx >= 0 ? &l->cpu_explicit[l->idx] : &l->have_star;
            if (*seen)
                return fail_at(l, l->line, NULL, NULL, "duplicate section %s", l->sect_name);
            *seen = true;
            l->wl = l->idx >= 0 ? &s->cpu[l->idx] : &l->star;
            *l->wl = (struct sc_workload){.repeat = 1};
        }
        return 0;
    }
    return fail_at(l, l->line, NULL, NULL,
                   "unknown section '[%.*s]' (expected [params], [sweep], [endpoint NAME], "
                   "[domain NAME], [fault], [cpu N] or [cpu *])",
                   64, inner);
}

static int top_key(struct ld *l, const char *key, const char *val)
{
    char list[64];
    int k = key_index(top_keys, key);
    scenario *s = l->s;
    if (k < 0)
        return fail_at(l, l->line, key, NULL, "unknown key before the first section (expected %s)",
                       key_list(top_keys, list, sizeof(list)));
    if (l->pass != 1)
        return 0;
    if (l->top_line[k])
        return fail_at(l, l->line, key, NULL, "given twice (first at line %d)", l->top_line[k]);
    l->top_line[k] = l->line;
    if (k == 0) {
        if (!is_name(val))
            return fail_at(l, l->line, key, NULL,
                           "'%.*s' (expected letters, digits, '_', '-', '.', at most 47)", 64, val);
        copy_str(s->name, sizeof(s->name), val);
    } else if (!copy_str(k == 1 ? s->summary : s->from, SC_TEXT_LEN, val)) {
        return fail_at(l, l->line, key, NULL, "too long (max %d characters)", SC_TEXT_LEN - 1);
    }
    return 0;
}

static int params_key(struct ld *l, const char *key, const char *val)
{
    scenario *s = l->s;
    struct sc_param *p;
    const char *bad;
    if (l->pass != 1)
        return 0;
    bad = bad_param_value(val);
    if (bad)
        return fail_at(l, l->line, key, NULL, "%s", bad);
    p = find_param(s, key);
    if (p && p->line > 0)
        return fail_at(l, l->line, key, NULL, "given twice (first at line %d)", p->line);
    if (!p) {
        if (s->nparams >= SC_MAX_PARAMS)
            return fail_at(l, l->line, key, NULL, "too many parameters (max %d)", SC_MAX_PARAMS);
        p = &s->params[s->nparams++];
        copy_str(p->key, sizeof(p->key), key);
        p->common = false;
    }
    copy_str(p->value, sizeof(p->value), val);
    p->line = l->line;
    return 0;
}

static int section_key(struct ld *l, const char *key, const char *raw)
{
    const char *const *keys = l->sect == SECT_EP       ? ep_keys
                              : l->sect == SECT_DOMAIN ? domain_keys
                              : l->sect == SECT_FAULT  ? fault_keys
                                                       : cpu_keys;
    char list[80], val[SC_LINE_MAX + 1];
    const struct sc_param *from;
    int k = key_index(keys, key);
    if (k < 0)
        return fail_at(l, l->line, key, NULL, "unknown key in %s (expected %s)", l->sect_name,
                       key_list(keys, list, sizeof(list)));
    if (l->pass != 2)
        return 0;
    if (l->key_line[k] && !(l->sect == SECT_CPU && k == CK_OP))
        return fail_at(l, l->line, key, NULL, "given twice in %s (first at line %d)", l->sect_name,
                       l->key_line[k]);
    if (l->sect == SECT_CPU) {
        l->key_line[k] = l->line;
        return cpu_key(l, k, key, raw);
    }
    if (expand(l, key, raw, val, sizeof(val), &from))
        return -1;
    if (l->sect == SECT_FAULT && k == FK_KIND)
        l->kind_param[l->idx] = strchr(raw, '$') != NULL;
    if (l->sect == SECT_EP) {
        l->key_line[k] = l->line;
        return ep_key(l, k, key, val, from);
    }
    if (l->sect == SECT_DOMAIN) {
        l->key_line[k] = l->line;
        return domain_key(l, key, val, from);
    }
    if (fault_key(l, k, key, val, from))
        return -1;
    l->key_line[k] = l->line;
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * [sweep]: the values a sweep may give each parameter (pass 2, when every parameter is known).
 * A domain is taken as written: no $substitution.
 */
static struct sc_sweep_dom *find_sweep(scenario *s, const char *key)
{
    for (unsigned i = 0; i < s->nsweep; i++)
        if (!strcmp(s->sweep[i].key, key))
            return &s->sweep[i];
    return NULL;
}

/* A non-negative decimal integer that fits in int64_t. */
static bool parse_dec(const char *s, int64_t *out)
{
    uint64_t v;
    if (!*s || strspn(s, "0123456789") != strlen(s) || !parse_u64(s, &v) || v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* One item of a domain: a word as --set takes it, or an integer range LO..HI. */
static int sweep_item(struct ld *l, const char *key, const char *word, struct sc_sweep_item *it)
{
    const char *dots = strstr(word, "..");
    if (strchr(word, '$'))
        return fail_at(l, l->line, key, NULL,
                       "'%.*s': a [sweep] value is taken as written, not substituted (expected "
                       "values, not $parameters)",
                       64, word);
    if (strlen(word) >= SC_NAME_LEN)
        return fail_at(l, l->line, key, NULL, "value '%.20s...' too long (max %d characters)", word,
                       SC_NAME_LEN - 1);
    copy_str(it->text, sizeof(it->text), word);
    it->range = dots != NULL;
    if (!dots)
        return 0;
    char lo[SC_NAME_LEN];
    memcpy(lo, word, (size_t)(dots - word));
    lo[dots - word] = '\0';
    if (!parse_dec(lo, &it->lo) || !parse_dec(dots + 2, &it->hi) || it->lo > it->hi)
        return fail_at(l, l->line, key, NULL,
                       "malformed range '%s' (expected LO..HI, whole numbers with LO <= HI)", word);
    return 0;
}

/* The items of `text` (words separated by blanks) into d. */
static int sweep_items(struct ld *l, const char *key, const char *text, struct sc_sweep_dom *d)
{
    char buf[SC_LINE_MAX + 1], *save = NULL;
    copy_str(buf, sizeof(buf), text);
    for (char *t = strtok_r(buf, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (d->nitems == SC_MAX_SWEEP_ITEMS)
            return fail_at(l, l->line, key, NULL, "too many values (max %d)", SC_MAX_SWEEP_ITEMS);
        if (sweep_item(l, key, t, &d->items[d->nitems++]))
            return -1;
    }
    if (d->nitems == 0)
        return fail_at(l, l->line, key, NULL,
                       "empty domain (expected one or more values or LO..HI ranges)");
    return 0;
}

/* key = ITEM ITEM ...: a domain of the scenario's. */
static int sweep_key(struct ld *l, const char *key, const char *val)
{
    scenario *s = l->s;
    const struct sc_sweep_dom *twice;
    if (l->pass != 2)
        return 0;
    if (!find_param(s, key))
        return fail_at(l, l->line, key, NULL,
                       "unknown key in [sweep] (expected a common key or one declared in "
                       "[params])");
    twice = find_sweep(s, key);
    if (twice)
        return fail_at(l, l->line, key, NULL, "given twice in [sweep] (first at line %d)",
                       twice->line);
    if (s->nsweep == SC_MAX_SWEEP_KEYS)
        return fail_at(l, l->line, key, NULL, "too many [sweep] keys (max %d)", SC_MAX_SWEEP_KEYS);
    struct sc_sweep_dom *d = &s->sweep[s->nsweep++];
    memset(d, 0, sizeof(*d));
    copy_str(d->key, sizeof(d->key), key);
    d->line = l->line;
    return sweep_items(l, key, val, d);
}

/* After pass 2: the built-in domains the file does not name, after its own. */
static int finish_sweep(struct ld *l)
{
    scenario *s = l->s;
    unsigned unnamed = 0;
    for (unsigned b = 0; b < NBUILTIN; b++)
        unnamed += find_sweep(s, builtin_domains[b].key) == NULL;
    if (s->nsweep + unnamed > SC_MAX_SWEEP_KEYS)
        return fail_at(l, s->sweep[SC_MAX_SWEEP_KEYS - unnamed].line,
                       s->sweep[SC_MAX_SWEEP_KEYS - unnamed].key, NULL,
                       "too many [sweep] keys (max %d, counting the %u built-in domains the "
                       "scenario does not name)",
                       SC_MAX_SWEEP_KEYS, unnamed);
    for (unsigned b = 0; b < NBUILTIN; b++) {
        const char *key = builtin_domains[b].key;
        if (find_sweep(s, key))
            continue;
        struct sc_sweep_dom *d = &s->sweep[s->nsweep++];
        memset(d, 0, sizeof(*d));
        copy_str(d->key, sizeof(d->key), key);
        d->builtin = true;
        if (sweep_items(l, key, builtin_domains[b].items, d))
            return -1;
    }
    return 0;
}

static int do_line(struct ld *l, char *text)
{
    char *hash = strchr(text, '#'), *eq, *key, *val;
    if (hash)
        *hash = '\0';
    text = trim(text);
    if (!*text)
        return 0;
    if (*text == '[')
        return section_header(l, text);
    eq = strchr(text, '=');
    if (!eq)
        return fail_at(l, l->line, NULL, NULL,
                       "malformed line '%.40s' (expected KEY = VALUE or [section])", text);
    *eq = '\0';
    key = trim(text);
    val = trim(eq + 1);
    if (!is_ident(key))
        return fail_at(l, l->line, NULL, NULL,
                       "malformed key '%.40s' (expected a name of "
                       "letters, digits and '_')",
                       key);
    if (l->sect == SECT_SWEEP)
        return sweep_key(l, key, val);
    if (!*val)
        return fail_at(l, l->line, key, NULL, "empty value");
    switch (l->sect) {
    case SECT_TOP:
        return top_key(l, key, val);
    case SECT_PARAMS:
        return params_key(l, key, val);
    default:
        return section_key(l, key, val);
    }
}

/* Read one line into buf (without the newline). Returns 1, 0 at the end, -1 on error. */
static int read_line(struct ld *l, FILE *f, char *buf)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == 0 || (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
            return fail_at(l, l->line + 1, NULL, NULL,
                           "control character 0x%02x (expected a text file)", (unsigned)c);
        if (n == SC_LINE_MAX)
            return fail_at(l, l->line + 1, NULL, NULL, "line too long (max %d characters)",
                           SC_LINE_MAX);
        buf[n++] = (char)c;
    }
    if (ferror(f))
        return fail_at(l, 0, NULL, NULL, "read error: %s", strerror(errno));
    buf[n] = '\0';
    if (c == EOF && n == 0)
        return 0;
    l->line++;
    return 1;
}

static int run_pass(struct ld *l, FILE *f, int pass)
{
    char buf[SC_LINE_MAX + 1];
    int r;
    l->pass = pass;
    l->line = 0;
    l->sect = SECT_TOP;
    l->neps = 0;
    l->ndoms = 0;
    if (pass == 2 && fseek(f, 0, SEEK_SET))
        return fail_at(l, 0, NULL, NULL, "cannot read the file twice: %s", strerror(errno));
    while ((r = read_line(l, f, buf)) > 0)
        if (do_line(l, buf))
            return -1;
    if (r < 0)
        return -1;
    return end_section(l);
}

static void default_name(scenario *s, const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;
    base = base ? base + 1 : path;
    n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".scn"))
        n -= 4;
    if (n >= sizeof(s->name))
        n = sizeof(s->name) - 1;
    memcpy(s->name, base, n);
    s->name[n] = '\0';
}

/* ---------------------------------------------------------------------------------------------
 * Reductions (what counterexample minimisation edits): drop_faults and ops_limit, applied after
 * the file is read, so a minimised counterexample is the scenario plus two --set keys.
 */

/* The next comma-separated item of a list, or NULL at its end. */
static const char *list_item(const char *s, char *item, size_t cap)
{
    if (!*s)
        return NULL;
    size_t n = strcspn(s, ",");
    if (n >= cap)
        n = cap - 1;
    memcpy(item, s, n);
    item[n] = '\0';
    return s[n] ? s + n + 1 : s + n;
}

/* A fault time for a message: in seconds when whole, else microseconds, else nanoseconds. */
static const char *fault_time(hw_time t, char *buf, size_t len)
{
    if (t % HW_S == 0)
        snprintf(buf, len, "%llu s", (unsigned long long)(t / HW_S));
    else if (t % HW_US == 0)
        snprintf(buf, len, "%llu us", (unsigned long long)(t / HW_US));
    else
        snprintf(buf, len, "%llu ns", (unsigned long long)t);
    return buf;
}

/* Does a [fault] of endpoint ep take its kind from a $parameter (which a sweep varies)? */
static bool kind_swept(const struct ld *l, int ep)
{
    for (unsigned i = 0; i < l->s->nfaults; i++)
        if (l->kind_param[i] && l->s->faults[i].ep == ep)
            return true;
    return false;
}

/* A link-up (an unmute) undoes a link-down (a mute) of the same endpoint; a link-flap counts as
 * a link-down. One that comes, in every execution, no later than the earliest of them would do
 * nothing: the plan as written (before drop_faults, which the minimiser uses) is refused,
 * naming both. One that may come either side, by the ranges, is an exploration like any other.
 * Not checked for an endpoint with a fault whose kind is a $parameter: what the link-up undoes
 * depends on the value (after a mute it does nothing, and harms nothing). */
static int check_fault_order(struct ld *l)
{
    char t_up[48], t_first[48];
    const scenario *s = l->s;
    for (unsigned i = 0; i < s->nfaults; i++) {
        const struct sc_fault *up = &s->faults[i];
        enum hw_fault undone;
        if (up->dma || (up->kind != HW_FAULT_LINK_UP && up->kind != HW_FAULT_UNMUTE) ||
            kind_swept(l, up->ep))
            continue;
        undone = up->kind == HW_FAULT_LINK_UP ? HW_FAULT_LINK_DOWN : HW_FAULT_MUTE;
        const struct sc_fault *first = NULL;
        for (unsigned j = 0; j < s->nfaults; j++) {
            const struct sc_fault *d = &s->faults[j];
            if (!d->dma && d->kind == undone && d->ep == up->ep &&
                (!first || d->at_lo < first->at_lo))
                first = d;
        }
        if (first && first->at_lo < up->at_hi)
            continue;
        if (!first)
            return fail_at(l, up->line, NULL, NULL,
                           "[fault] %s of %s with no %s of it in the plan: it would do nothing",
                           fault_names[up->kind], s->eps[up->ep].name, fault_names[undone]);
        return fail_at(l, up->line, NULL, NULL,
                       "[fault] %s of %s (at %s at the latest) comes no later than its %s (line "
                       "%d, at %s at the earliest): it would do nothing",
                       fault_names[up->kind], s->eps[up->ep].name,
                       fault_time(up->at_hi, t_up, sizeof(t_up)), fault_names[undone], first->line,
                       fault_time(first->at_lo, t_first, sizeof(t_first)));
    }
    return 0;
}

/* drop_faults = none | I[,I...]: remove those [fault] sections (0-based, in file order). */
static int apply_drop_faults(struct ld *l)
{
    scenario *s = l->s;
    struct sc_param *p = find_param(s, "drop_faults");
    bool drop[SC_MAX_FAULTS] = {false};
    char item[SC_NAME_LEN];
    uint64_t v;
    if (!strcmp(p->value, "none"))
        return 0;
    for (const char *it = p->value; (it = list_item(it, item, sizeof(item)));) {
        if (!parse_u64(item, &v) || v >= s->nfaults)
            return param_fail(l, p,
                              "'%s' is not a fault index (expected none or indexes below %u, the "
                              "number of [fault] sections, separated by commas)",
                              item, s->nfaults);
        drop[v] = true;
    }
    unsigned k = 0;
    for (unsigned i = 0; i < s->nfaults; i++)
        if (!drop[i])
            s->faults[k++] = s->faults[i];
    s->nfaults = k;
    return 0;
}

/* ops_limit = none | N[,N...]: CPU i runs at most the i-th number of workload operations
 * ('*' or a missing entry: all of them). */
static int apply_ops_limit(struct ld *l)
{
    scenario *s = l->s;
    struct sc_param *p = find_param(s, "ops_limit");
    char item[SC_NAME_LEN];
    uint64_t v;
    unsigned cpu = 0;
    for (unsigned i = 0; i < SC_MAX_CPUS; i++)
        s->cpu[i].limit = UINT32_MAX;
    if (!strcmp(p->value, "none"))
        return 0;
    for (const char *it = p->value; (it = list_item(it, item, sizeof(item))); cpu++) {
        if (cpu >= s->cpus)
            return param_fail(l, p, "more entries than cpus (%u)", s->cpus);
        if (!strcmp(item, "*"))
            continue;
        if (!parse_u64(item, &v) || v > UINT32_MAX)
            return param_fail(l, p,
                              "'%s' is not an operation count (expected none, or per CPU a whole "
                              "number or '*', separated by commas)",
                              item);
        s->cpu[cpu].limit = (uint32_t)v;
    }
    return 0;
}

static int load_stream(FILE *f, const char *path, const char *const *sets, unsigned nsets,
                       scenario *out, char *err, size_t errlen);

int sc_load(const char *path, const char *const *sets, unsigned nsets, scenario *out, char *err,
            size_t errlen)
{
    return load_stream(NULL, path, sets, nsets, out, err, errlen);
}

int sc_load_stream(FILE *f, const char *name, const char *const *sets, unsigned nsets,
                   scenario *out, char *err, size_t errlen)
{
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no stream", name ? name : "(null)");
        return -1;
    }
    return load_stream(f, name, sets, nsets, out, err, errlen);
}

/* f: the file's text, kept open (the caller closes it), or NULL to open `path`. */
static int load_stream(FILE *f, const char *path, const char *const *sets, unsigned nsets,
                       scenario *out, char *err, size_t errlen)
{
    struct ld l;
    FILE *own = NULL;
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return -1;
    memset(out, 0, sizeof(*out));
    memset(&l, 0, sizeof(l));
    l.s = out;
    l.file = path ? path : "(null)";
    l.err = err;
    l.errlen = errlen;
    if (!path)
        return fail_at(&l, 0, NULL, NULL, "no scenario file");
    if (strlen(path) >= sizeof(out->file))
        return fail_at(&l, 0, NULL, NULL, "path too long (max %zu characters)",
                       sizeof(out->file) - 1);
    copy_str(out->file, sizeof(out->file), path);
    for (unsigned i = 0; i < NCOMMON; i++) {
        struct sc_param *p = &out->params[out->nparams++];
        copy_str(p->key, sizeof(p->key), common_keys[i].key);
        copy_str(p->value, sizeof(p->value), common_keys[i].def);
        p->common = true;
        p->line = 0;
    }

    if (!f) {
        f = own = fopen(path, "r");
        if (!f)
            return fail_at(&l, 0, NULL, NULL, "cannot open: %s", strerror(errno));
    }
    if (run_pass(&l, f, 1))
        goto out;
    out->neps = l.neps;
    out->ndomains = l.ndoms; /* the [domain] sections; endpoints' own come after pass 2 */
    for (unsigned e = 0; e < out->neps; e++)
        out->eps[e].domain = -1;
    if (!out->name[0])
        default_name(out, path);
    for (unsigned i = 0; i < (sets ? nsets : 0); i++)
        if (apply_set(&l, sets[i]))
            goto out;
    if (resolve_common(&l))
        goto out;
    if (run_pass(&l, f, 2))
        goto out;
    finish_domains(out);
    if (finish_sweep(&l))
        goto out;
    for (unsigned i = 0; i < SC_MAX_CPUS; i++) {
        if (i >= out->cpus)
            memset(&out->cpu[i], 0, sizeof(out->cpu[i]));
        else if (!l.cpu_explicit[i])
            out->cpu[i] = l.have_star ? l.star : (struct sc_workload){.repeat = 0};
    }
    if (check_fault_order(&l) || apply_drop_faults(&l) || apply_ops_limit(&l))
        goto out;
    rc = 0;
out:
    if (own)
        fclose(own);
    return rc;
}

bool sc_runs_nothing(const scenario *s)
{
    for (unsigned i = 0; i < s->cpus; i++)
        if (s->cpu[i].repeat && s->cpu[i].nops)
            return false;
    return true;
}

int sc_load_named(const char *dir, const char *name, const char *const *sets, unsigned nsets,
                  scenario *out, char *err, size_t errlen)
{
    char path[512];
    struct stat st;
    int n;
    if (err && errlen)
        err[0] = '\0';
    if (!name || !name[0] || name[0] == '.' || strchr(name, '/') || strlen(name) >= SC_NAME_LEN)
        goto unknown;
    n = snprintf(path, sizeof(path), "%s/%s.scn", dir ? dir : ".", name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        if (err && errlen)
            snprintf(err, errlen, "scenario directory path too long");
        return -1;
    }
    if (stat(path, &st) != 0 && errno == ENOENT)
        goto unknown;
    return sc_load(path, sets, nsets, out, err, errlen);
unknown:
    if (err && errlen && !sc_catalog_ok(dir))
        sc_no_catalog(dir, err, errlen);
    else if (err && errlen)
        snprintf(err, errlen, "unknown scenario '%.*s' (see qinval list scenarios)", 64,
                 name ? name : "");
    return -1;
}

void sc_no_catalog(const char *dir, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "no scenario catalog at '%.*s' (a directory of NAME.scn files; QINVAL_SCENARIOS "
             "names another)",
             300, dir ? dir : ".");
}

bool sc_catalog_ok(const char *dir)
{
    DIR *d = opendir(dir ? dir : ".");
    if (!d)
        return false;
    closedir(d);
    return true;
}

const char *sc_param(const scenario *s, const char *key)
{
    if (!s || !key)
        return NULL;
    for (unsigned i = 0; i < s->nparams && i < SC_MAX_PARAMS; i++)
        if (!strcmp(s->params[i].key, key))
            return s->params[i].value;
    return NULL;
}

unsigned sc_list(const char *dir, char names[][SC_NAME_LEN], unsigned max)
{
    DIR *d;
    struct dirent *de;
    unsigned n = 0;
    if (!names || max == 0)
        return 0;
    d = opendir(dir ? dir : ".");
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char name[SC_NAME_LEN];
        unsigned at;
        if (len <= 4 || len - 4 >= SC_NAME_LEN || de->d_name[0] == '.' ||
            strcmp(de->d_name + len - 4, ".scn"))
            continue;
        memcpy(name, de->d_name, len - 4);
        name[len - 4] = '\0';
        /* keep the `max` smallest names, sorted (insertion) */
        for (at = n; at > 0 && strcmp(names[at - 1], name) > 0; at--)
            ;
        if (at >= max)
            continue;
        if (n < max)
            n++;
        memmove(names[at + 1], names[at], (size_t)(n - 1 - at) * SC_NAME_LEN);
        memcpy(names[at], name, len - 3);
    }
    closedir(d);
    return n;
}
