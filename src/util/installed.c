/*
 * installed.c — BINDIR/../share/qinval lookups for an installed qinval (see installed.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/installed.h"

bool installed_path(const char *rel, char *out, size_t cap)
{
    char exe[4000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = '\0';
    int len = snprintf(out, cap, "%s/../share/qinval/%s", exe, rel);
    return len > 0 && (size_t)len < cap && access(out, R_OK) == 0;
}
