/*
 * Fuzzes config_parse_listen(), which reads --listen and SHORTD_LISTEN.
 * Invariants: an accepted value leaves a numeric IPv4 or IPv6 address and a
 * port of at most 65535; a refused one leaves the configuration untouched.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = fuzz_cstr(data, size);
	struct config c, before;
	unsigned char addr[16];

	config_defaults(&c);
	before = c;
	if (config_parse_listen(&c, value) == 0) {
		FUZZ_CHECK(c.listen_port <= 65535);
		FUZZ_CHECK(inet_pton(AF_INET, c.listen_host, addr) == 1 ||
		           inet_pton(AF_INET6, c.listen_host, addr) == 1);
	} else {
		FUZZ_CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	}
	free(value);
	return 0;
}
