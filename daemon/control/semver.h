/*
 * Semantic Versioning 2.0.0 (semver.org): parsing and precedence, for the
 * catalog's "newest compatible version". Pure functions, no allocation.
 */
#ifndef SS_SEMVER_H
#define SS_SEMVER_H

#include <stdbool.h>

/* The longest version string accepted, as manifest versions. */
#define SEMVER_MAX 64

/*
 * MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]: numbers without leading zeros,
 * pre-release identifiers [0-9A-Za-z-]+ (numeric ones without leading
 * zeros), build identifiers [0-9A-Za-z-]+, at most SEMVER_MAX bytes.
 */
bool semver_valid(const char *v);

/*
 * Precedence of two valid versions: <0, 0, >0. Build metadata is ignored
 * (1.0.0+a and 1.0.0+b are equal), a pre-release sorts before its release,
 * and pre-release identifiers compare numerically when both are numbers,
 * as ASCII otherwise, numbers before words, a shorter list first.
 * An invalid version sorts before every valid one.
 */
int semver_compare(const char *a, const char *b);

#endif
