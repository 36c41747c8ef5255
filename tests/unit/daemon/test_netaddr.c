#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "netaddr.h"

/* The class netaddr gives the numeric address text (v4 or v6); NULL: public. */
static const char *class_of(const char *text)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		return netaddr_refused_class((struct sockaddr *)&in, sizeof in);
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1)
		return netaddr_refused_class((struct sockaddr *)&in6, sizeof in6);
	fail_msg("bad test address %s", text);
	return NULL;
}

static void expect(const char *text, const char *want)
{
	const char *got = class_of(text);
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(want, got) != 0)
		fail_msg("%s: got %s, want %s", text, got ? got : "public", want ? want : "public");
}

static void ipv4(void **state)
{
	expect("127.0.0.1", "loopback");
	expect("127.255.255.254", "loopback");
	expect("10.1.2.3", "private");
	expect("172.16.0.1", "private");
	expect("172.31.255.255", "private");
	expect("172.32.0.1", NULL);
	expect("192.168.1.1", "private");
	expect("169.254.1.1", "link-local");
	expect("169.254.169.254", "metadata");
	expect("100.64.0.1", "shared");
	expect("100.127.255.255", "shared");
	expect("100.128.0.1", NULL);
	expect("0.0.0.0", "unspecified");
	expect("0.1.2.3", "unspecified");
	expect("224.0.0.1", "multicast");
	expect("239.255.255.250", "multicast");
	expect("255.255.255.255", "broadcast");
	expect("240.0.0.1", "reserved");
	expect("192.0.2.10", "reserved");
	expect("198.18.0.1", "reserved");
	expect("8.8.8.8", NULL);
	expect("1.1.1.1", NULL);
	expect("93.184.216.34", NULL);
	expect("11.0.0.1", NULL);
	expect("192.169.0.1", NULL);
}

static void ipv6(void **state)
{
	expect("::1", "loopback");
	expect("::", "unspecified");
	expect("fc00::1", "private");
	expect("fd12:3456::1", "private");
	expect("fd00:ec2::254", "metadata");
	expect("fe80::1", "link-local");
	expect("febf::1", "link-local");
	expect("fec0::1", "private");
	expect("ff02::1", "multicast");
	expect("2001:db8::1", "reserved");
	expect("100::1", "reserved");
	expect("2606:4700::1111", NULL);
	expect("2a00:1450:4001::200e", NULL);
}

/* IPv4 carried in IPv6 is judged by the IPv4 address. */
static void ipv4_in_ipv6(void **state)
{
	expect("::ffff:127.0.0.1", "loopback");
	expect("::ffff:10.0.0.1", "private");
	expect("::ffff:169.254.169.254", "metadata");
	expect("::ffff:8.8.8.8", NULL);
	expect("::127.0.0.1", "loopback");
	expect("64:ff9b::192.168.0.1", "private");
	expect("64:ff9b::8.8.8.8", NULL);
}

static void other_families(void **state)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct sockaddr_in in = {.sin_family = AF_INET};
	char buf[64];

	assert_string_equal(netaddr_refused_class(&sa, sizeof sa), "unknown family");
	assert_string_equal(netaddr_refused_class(NULL, 0), "unknown family");
	/* A truncated sockaddr is never read past its length. */
	assert_string_equal(netaddr_refused_class((struct sockaddr *)&in, 4), "unknown family");
	inet_pton(AF_INET, "10.0.0.7", &in.sin_addr);
	netaddr_format((struct sockaddr *)&in, sizeof in, buf, sizeof buf);
	assert_string_equal(buf, "10.0.0.7");
	netaddr_format(&sa, sizeof sa, buf, sizeof buf);
	assert_string_equal(buf, "?");
	/* The text form, as curl reports a connection's address. */
	assert_string_equal(netaddr_refused_class_text("10.0.0.7"), "private");
	assert_string_equal(netaddr_refused_class_text("::ffff:127.0.0.1"), "loopback");
	assert_null(netaddr_refused_class_text("8.8.8.8"));
	assert_string_equal(netaddr_refused_class_text("example.com"), "unknown family");
	assert_string_equal(netaddr_refused_class_text(NULL), "unknown family");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4),
	    cmocka_unit_test(ipv6),
	    cmocka_unit_test(ipv4_in_ipv6),
	    cmocka_unit_test(other_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
