#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct net4 {
	uint32_t net, mask;
	const char *what;
};

/*
 * IPv4 networks refused by default, most specific first (169.254.169.254 is
 * the metadata service before it is link-local). The documentation and
 * benchmarking nets are refused because nothing legitimate lives there and
 * test setups do.
 */
static const struct net4 refused4[] = {
    {0xa9fea9fe, 0xffffffff, "metadata"},    /* 169.254.169.254 */
    {0xffffffff, 0xffffffff, "broadcast"},   /* 255.255.255.255 */
    {0x00000000, 0xff000000, "unspecified"}, /* 0.0.0.0/8 */
    {0x0a000000, 0xff000000, "private"},     /* 10/8 */
    {0x64400000, 0xffc00000, "shared"},	     /* 100.64/10 (CGNAT) */
    {0x7f000000, 0xff000000, "loopback"},    /* 127/8 */
    {0xa9fe0000, 0xffff0000, "link-local"},  /* 169.254/16 */
    {0xac100000, 0xfff00000, "private"},     /* 172.16/12 */
    {0xc0000000, 0xffffff00, "reserved"},    /* 192.0.0/24 (IETF protocol assignments) */
    {0xc0000200, 0xffffff00, "reserved"},    /* 192.0.2/24 (TEST-NET-1) */
    {0xc0a80000, 0xffff0000, "private"},     /* 192.168/16 */
    {0xc6120000, 0xfffe0000, "reserved"},    /* 198.18/15 (benchmarking) */
    {0xc6336400, 0xffffff00, "reserved"},    /* 198.51.100/24 (TEST-NET-2) */
    {0xcb007100, 0xffffff00, "reserved"},    /* 203.0.113/24 (TEST-NET-3) */
    {0xe0000000, 0xf0000000, "multicast"},   /* 224/4 */
    {0xf0000000, 0xf0000000, "reserved"},    /* 240/4 */
};

static const char *class4(uint32_t a)
{
	for (size_t i = 0; i < sizeof refused4 / sizeof refused4[0]; i++)
		if ((a & refused4[i].mask) == refused4[i].net)
			return refused4[i].what;
	return NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *class6(const uint8_t *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const uint8_t metadata[16] = {0xfd, 0, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54};

	if (memcmp(a, zero, 15) == 0)
		return a[15] == 1 ? "loopback" : "unspecified"; /* ::1, :: */
	/* Forms that carry an IPv4 address: judged by it. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 || memcmp(a, zero, 12) == 0)
		return class4(be32(a + 12));
	if (memcmp(a, metadata, 16) == 0)
		return "metadata"; /* fd00:ec2::254 */
	if ((a[0] & 0xfe) == 0xfc)
		return "private"; /* fc00::/7 (ULA) */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local"; /* fe80::/10 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "private"; /* fec0::/10 (deprecated site-local) */
	if (a[0] == 0xff)
		return "multicast";
	if (a[0] == 0x01 && a[1] == 0 && memcmp(a + 2, zero, 6) == 0)
		return "reserved"; /* 100::/64 (discard-only) */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "reserved"; /* 2001:db8::/32 (documentation) */
	return NULL;
}

const char *netaddr_refused_class(const struct sockaddr *sa, socklen_t len)
{
	if (sa != NULL && sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return class4(ntohl(in->sin_addr.s_addr));
	}
	if (sa != NULL && sa->sa_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return class6(in6->sin6_addr.s6_addr);
	}
	return "unknown family";
}

const char *netaddr_refused_class_text(const char *ip)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	if (ip != NULL && inet_pton(AF_INET, ip, &in.sin_addr) == 1)
		return netaddr_refused_class((struct sockaddr *)&in, sizeof in);
	if (ip != NULL && inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
		return netaddr_refused_class((struct sockaddr *)&in6, sizeof in6);
	return "unknown family";
}

void netaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	const char *r = NULL;

	if (buflen == 0)
		return;
	if (sa != NULL && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		r = inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
			      (socklen_t)buflen);
	else if (sa != NULL && sa->sa_family == AF_INET6 &&
		 len >= (socklen_t)sizeof(struct sockaddr_in6))
		r = inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			      (socklen_t)buflen);
	if (r == NULL)
		snprintf(buf, buflen, "?");
}
