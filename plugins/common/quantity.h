/*
 * quantity: Kubernetes resource quantities ("500m", "2Gi", "1.5", "1e3"),
 * as sessions carry their CPU and memory and nodes report their capacity:
 * a decimal number with an optional suffix, binary (Ki Mi Gi Ti Pi Ei),
 * decimal SI (n u m k M G T P E) or an exponent (e3, E-2).
 */
#ifndef SS_PLUGINS_QUANTITY_H
#define SS_PLUGINS_QUANTITY_H

#include <stdbool.h>

#define QUANTITY_GIB 1073741824.0 /* bytes in a Gi */

/* *v = the quantity s in base units (cores, bytes); false for anything else. */
bool quantity_parse(const char *s, double *v);

#endif
