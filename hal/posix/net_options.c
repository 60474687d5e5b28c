/*
 * net_options.c: the --net option of the posix HAL, parsed into a
 * struct posix_net_config. Two kinds of NIC:
 *
 *   --net slirp[,hostfwd=tcp|udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=M]
 *       user-mode networking through libslirp (net_slirp.c), restricted:
 *       the service reaches nothing outside; the host reaches it only
 *       through the forwarded ports, which bind 127.0.0.1 and nothing else
 *       (any other host address is refused here). GUESTADDR defaults to
 *       10.0.2.15 and must lie in 10.0.2.0/24. A udp forward is one-way:
 *       restricted libslirp drops every datagram the guest sends.
 *   --net tap:IFNAME[,mq][,tso][,mac=M]
 *       an existing TAP interface through /dev/net/tun (net_tap.c); mq: one
 *       queue per CPU (the TAP must have been made with multi_queue); tso:
 *       TCP segmentation offload both ways: the stack writes up to 64 KiB
 *       of a connection at once and Linux cuts it up (HAL_NET_TX_TSO), and
 *       Linux hands the stack its own TSO packets whole (HAL_NET_RX_GSO).
 *       Off by default: whatever reads the TAP's frames raw (a packet
 *       socket, a capture) then sees those large frames, not wire-sized
 *       ones.
 *
 * Every malformed spec is refused with a one-line message naming it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posix.h"

#define SPEC_MAX 512

static int refuse(const char *spec, const char *why)
{
	fprintf(stderr, "--net%s%s: %s\n", *spec ? " " : "", spec, why);
	return -1;
}

/* parse_port: a decimal port 1..65535 that is the whole of text. */
static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v == 0 || v > 65535 || text[0] == '-' || text[0] == '+')
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* parse_mac: six hex pairs separated by ':'; unicast only (a multicast
 * source address would be dropped by every peer). */
static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (strlen(text) != 17 ||
	    sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
	           &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return mac[0] & 1 ? -1 : 0;
}

/*
 * parse_hostfwd: "tcp:127.0.0.1:8080-:80" or "udp:127.0.0.1:5353-10.0.2.15:53"
 * (text is a writable copy).
 */
static int parse_hostfwd(const char *spec, char *text, struct posix_hostfwd *fwd)
{
	char *host = strchr(text, ':');
	if (!host)
		return refuse(spec, "hostfwd: expected tcp|udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT");
	*host++ = '\0';
	if (strcmp(text, "tcp") == 0)
		fwd->udp = false;
	else if (strcmp(text, "udp") == 0)
		fwd->udp = true;
	else
		return refuse(spec, "hostfwd: the protocol must be tcp or udp");

	char *dash = strchr(host, '-');
	char *hport = dash ? memrchr(host, ':', (size_t)(dash - host)) : NULL;
	if (!dash || !hport)
		return refuse(spec, "hostfwd: expected tcp|udp:127.0.0.1:HOSTPORT-[GUESTADDR]:GUESTPORT");
	*dash = '\0';
	*hport++ = '\0';
	if (strcmp(host, "127.0.0.1") != 0)
		return refuse(spec, "hostfwd: the host address must be 127.0.0.1 (the service is "
		                    "reachable from this host only)");
	if (parse_port(hport, &fwd->host_port) < 0)
		return refuse(spec, "hostfwd: the host port must be 1..65535");

	char *guest = dash + 1;
	char *gport = strrchr(guest, ':');
	if (!gport)
		return refuse(spec, "hostfwd: expected GUESTADDR:GUESTPORT or :GUESTPORT after '-'");
	*gport++ = '\0';
	struct in_addr ga;
	if (!*guest)
		inet_pton(AF_INET, "10.0.2.15", &ga);
	else if (inet_pton(AF_INET, guest, &ga) != 1 ||
	         (ntohl(ga.s_addr) & 0xffffff00u) != 0x0a000200u)
		return refuse(spec, "hostfwd: the guest address must lie in 10.0.2.0/24");
	fwd->guest_addr = ga.s_addr;
	if (parse_port(gport, &fwd->guest_port) < 0)
		return refuse(spec, "hostfwd: the guest port must be 1..65535");
	return 0;
}

/* parse_tap_name: "tap:IFNAME": a name the kernel would take. */
static int parse_tap_name(const char *spec, const char *name, struct posix_net_config *out)
{
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof(out->ifname) || strpbrk(name, "/: \t") ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return refuse(spec, "tap: expected tap:IFNAME (1 to 15 characters, no '/', ':' or spaces)");
	memcpy(out->ifname, name, n + 1);
	return 0;
}

int posix_net_parse(const char *spec, struct posix_net_config *out)
{
	char copy[SPEC_MAX];
	if (!spec || !*spec)
		return refuse("", "expected slirp[,hostfwd=...] or tap:IFNAME[,mq]");
	if (strlen(spec) >= sizeof(copy))
		return refuse("...", "the option is too long");
	strcpy(copy, spec);
	*out = (struct posix_net_config){ 0 };

	char *save;
	char *kind = strtok_r(copy, ",", &save);
	if (kind && strcmp(kind, "slirp") == 0) {
		out->kind = POSIX_NET_SLIRP;
	} else if (kind && strncmp(kind, "tap:", 4) == 0) {
		out->kind = POSIX_NET_TAP;
		if (parse_tap_name(spec, kind + 4, out) < 0)
			return -1;
	} else {
		return refuse(spec, "expected slirp[,hostfwd=...] or tap:IFNAME[,mq]");
	}

	for (char *item; (item = strtok_r(NULL, ",", &save)) != NULL;) {
		if (strncmp(item, "mac=", 4) == 0) {
			if (parse_mac(item + 4, out->mac) < 0)
				return refuse(spec, "mac: expected a unicast xx:xx:xx:xx:xx:xx");
			out->has_mac = true;
		} else if (out->kind == POSIX_NET_TAP && strcmp(item, "mq") == 0) {
			out->multi_queue = true;
		} else if (out->kind == POSIX_NET_TAP && strcmp(item, "tso") == 0) {
			out->tso = true;
		} else if (out->kind == POSIX_NET_SLIRP && strncmp(item, "hostfwd=", 8) == 0) {
			if (out->nfwd >= POSIX_MAX_HOSTFWD)
				return refuse(spec, "at most 8 hostfwd");
			struct posix_hostfwd *fwd = &out->fwd[out->nfwd];
			if (parse_hostfwd(spec, item + 8, fwd) < 0)
				return -1;
			for (unsigned i = 0; i < out->nfwd; i++)
				if (out->fwd[i].udp == fwd->udp && out->fwd[i].host_port == fwd->host_port)
					return refuse(spec, "hostfwd: the same host port twice");
			out->nfwd++;
		} else {
			fprintf(stderr, "--net %s: unknown setting '%s'\n", spec, item);
			return -1;
		}
	}
	return 0;
}
