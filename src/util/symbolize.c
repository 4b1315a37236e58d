/*
 * symbolize.c — code address to driver function name, with elfutils (libdwfl for the modules
 * of this process, libdw for their DWARF). See symbolize.h.
 *
 * The walk: the compilation unit holding the address, then, from it inwards, the chain of
 * functions, inlined instances and blocks whose ranges hold it (dwarf_getscopes is not used:
 * past an inlined instance it follows the abstract definition's scopes, not the caller). The
 * name is that of the innermost function on the chain whose declaration is not in a platform
 * or harness file. Separate debugging files are never looked for (no network, no waiting): the
 * binaries carry their own (-g).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "util/strcopy.h"
#include "util/symbolize.h"

#define SYM_CACHE 64 /* addresses remembered; a run names one or two */
#define SYM_DEPTH 64 /* nesting of scopes followed; deeper ones count as the innermost */

struct sym_entry {
    uintptr_t pc;
    bool used, exact, ok;
    char name[64];
};

static struct {
    pthread_mutex_t lock;
    Dwfl *dwfl;
    struct sym_entry cache[SYM_CACHE];
    unsigned next; /* the entry replaced next */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The binaries' own debugging information only. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                        char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file;
    (void)debuglink_crc, (void)debuginfo_file_name;
    return -1;
}

static const Dwfl_Callbacks callbacks = {.find_elf = dwfl_linux_proc_find_elf,
                                         .find_debuginfo = no_debuginfo};

/* (Re)read the modules mapped in this process now. False if libdwfl cannot. */
static bool report(void)
{
    if (!S.dwfl && !(S.dwfl = dwfl_begin(&callbacks)))
        return false;
    dwfl_report_begin(S.dwfl);
    int rc = dwfl_linux_proc_report(S.dwfl, getpid());
    return dwfl_report_end(S.dwfl, NULL, NULL) == 0 && rc == 0;
}

/* The module holding addr, reporting the modules again once if none does (one loaded since). */
static Dwfl_Module *module_at(Dwarf_Addr addr)
{
    Dwfl_Module *m = S.dwfl ? dwfl_addrmodule(S.dwfl, addr) : NULL;
    if (!m && report())
        m = dwfl_addrmodule(S.dwfl, addr);
    return m;
}

/* A declaration file that is not driver code: the simulation, the platform interface, the
 * kernel harness's shim headers, the system's headers. */
static bool platform_file(const char *f)
{
    const char *base = strrchr(f, '/');
    base = base ? base + 1 : f;
    return !strncmp(base, "lkh_shim", 8) || strstr(f, "/src/sim/") ||
           strstr(f, "qinval/platform.h") || !strncmp(f, "/usr/include/", 13) ||
           !strncmp(f, "/usr/lib/", 9);
}

static bool is_function(Dwarf_Die *d)
{
    int tag = dwarf_tag(d);
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
}

/* The child of `parent` whose ranges hold pc (a function, inlined instance or block), into
 * *out. */
static bool child_at(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *out)
{
    if (dwarf_child(parent, out) != 0)
        return false;
    do {
        int tag = dwarf_tag(out);
        if ((tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
             tag == DW_TAG_lexical_block) &&
            dwarf_haspc(out, pc) > 0)
            return true;
    } while (dwarf_siblingof(out, out) == 0);
    return false;
}

/* The innermost driver function on the chain of scopes holding pc inside cu. */
static bool dwarf_name(Dwarf_Die *cu, Dwarf_Addr pc, char *buf, size_t len)
{
    Dwarf_Die chain[SYM_DEPTH];
    size_t n = 0;
    Dwarf_Die *at = cu;
    while (n < SYM_DEPTH && child_at(at, pc, &chain[n]))
        at = &chain[n++];
    while (n-- > 0) {
        if (!is_function(&chain[n]))
            continue;
        const char *file = dwarf_decl_file(&chain[n]);
        if (file && platform_file(file))
            continue;
        Dwarf_Attribute a;
        const char *name = dwarf_formstring(dwarf_attr_integrate(&chain[n], DW_AT_name, &a));
        if (name) {
            str_copy_cut(buf, len, name);
            return true;
        }
    }
    return false;
}

/* The compilation unit holding addr: from the address ranges table, else (clang emits no
 * .debug_aranges) the first unit whose own ranges hold it. */
static Dwarf_Die *unit_at(Dwfl_Module *m, Dwarf_Addr addr, Dwarf_Addr *bias)
{
    Dwarf_Die *cu = dwfl_module_addrdie(m, addr, bias);
    if (cu)
        return cu;
    while ((cu = dwfl_module_nextcu(m, cu, bias)))
        if (dwarf_haspc(cu, addr - *bias) > 0)
            return cu;
    return NULL;
}

/* Resolve one address (the lock is held). */
static bool resolve(uintptr_t pc, bool exact, char *buf, size_t len)
{
    Dwarf_Addr addr = exact ? pc : pc - 1, bias;
    Dwfl_Module *m = module_at(addr);
    if (!m)
        return false;
    Dwarf_Die *cu = unit_at(m, addr, &bias);
    if (cu && dwarf_name(cu, addr - bias, buf, len))
        return true;
    const char *sym = dwfl_module_addrname(m, addr);
    if (!sym)
        return false;
    str_copy_cut(buf, len, sym);
    return true;
}

bool sym_function(const void *pc, bool exact, char *buf, size_t len)
{
    uintptr_t a = (uintptr_t)pc;
    pthread_mutex_lock(&S.lock);
    struct sym_entry *e = NULL;
    for (unsigned i = 0; i < SYM_CACHE && !e; i++)
        if (S.cache[i].used && S.cache[i].pc == a && S.cache[i].exact == exact)
            e = &S.cache[i];
    if (!e) {
        e = &S.cache[S.next++ % SYM_CACHE];
        *e = (struct sym_entry){.pc = a, .used = true, .exact = exact};
        e->ok = a && resolve(a, exact, e->name, sizeof(e->name));
        if (!e->ok)
            str_copy_cut(e->name, sizeof(e->name), "?");
    }
    bool ok = e->ok;
    str_copy_cut(buf, len, e->name);
    pthread_mutex_unlock(&S.lock);
    return ok;
}
