/*
 * region.h — the simplest description of where in a parameter space a failure appears, for
 * `qinval sweep`: from the points a sweep ran (a value per factor each) and the ones that showed
 * the failure, a conjunction of constraints such as "itesid=1, failure=link-down|link-flap,
 * batch>=2".
 *
 * Every constraint is a set of values the failing points took, so every failing point matches
 * the description. Constraints are added greedily, each time the one that rules out the most
 * points that did not fail, until none of those is left or no constraint rules out more; a
 * description that still matches points where the failure was not seen says so ("at 5 of 7
 * points matching"). Factors left unconstrained are "any": not named.
 */
#ifndef QINVAL_CHECK_REGION_H
#define QINVAL_CHECK_REGION_H

#include <stdbool.h>
#include <stddef.h>

struct chk_region_in {
    unsigned nfactors;
    const char *const *keys; /* nfactors names */
    size_t npoints;
    const char *const *values; /* npoints * nfactors: point p's value of factor f at p*nf + f */
    const bool *in;            /* npoints: the failure appeared at point p */
};

/* The description into buf ("every point run" when no constraint is needed, "no point" when
 * the failure appeared at none). */
void chk_region_describe(const struct chk_region_in *r, char *buf, size_t len);

#endif /* QINVAL_CHECK_REGION_H */
