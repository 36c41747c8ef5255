/*
 * netaddr: which addresses the daemon refuses to reach on a plugin's behalf.
 *
 * The daemon sits next to PostgreSQL, the cloud's metadata service and the
 * platform's internal services; a plugin with the `network` permission must
 * not reach them through egress unless the operator allows it. The check is
 * made on the address a socket is about to connect to (after DNS, after
 * connect-to overrides, for every redirect), so a name that resolves to a
 * public address once and a private one later gains nothing.
 */
#ifndef SS_NETADDR_H
#define SS_NETADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * The class of address sa is in when egress refuses it by default —
 * "loopback", "private", "link-local", "metadata", "shared" (CGNAT
 * 100.64/10), "unspecified" (0.0.0.0/8, ::), "multicast", "broadcast",
 * "reserved" (240/4, the documentation and benchmarking nets, discard-only
 * 100::/64), "unknown family" — or NULL when it is a public address.
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64
 * (64:ff9b::/96) addresses are judged by the IPv4 address they carry.
 */
const char *netaddr_refused_class(const struct sockaddr *sa, socklen_t len);

/* As netaddr_refused_class for a numeric address in text ("10.0.0.1", "::1"); not numeric: "unknown
 * family". */
const char *netaddr_refused_class_text(const char *ip);

/* Writes the numeric address of sa ("10.0.0.1", "fe80::1") to buf; "?" if none. */
void netaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

#endif
