/* Writes the seed corpora of tests/fuzz/corpus/ (the binary ones, built
 * with the unit tests' DNS packet builder; the text seeds are plain files
 * there): run `build-fuzz/fuzz/seeds tests/fuzz/corpus` after changing an
 * input format. Each file is named after what it holds. */
#include "../unit/util.h"

#include "nxretry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ID 0x4a5b
#define WWW "www.example.com"
#define ZONE "example.com"

static const char *root;

static void save(const char *target, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* fuzz_reply: the control byte (fuzz_reply.c), then the message. */
static void reply_seed(const char *name, uint8_t ctl, const struct pkt *p)
{
	unsigned char buf[PKT_MAX + 1];
	buf[0] = ctl;
	memcpy(buf + 1, p->buf, p->len);
	save("fuzz_reply", name, buf, p->len + 1);
}

enum { AA_WANTED = 0x01, AS_A = 1 << 2, AS_AAAA = 2 << 2, AS_NS = 3 << 2, AS_SOA = 4 << 2,
       TWICE = 0x80 };

static void replies(void)
{
	struct pkt p;
	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.42");
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.43");
	reply_seed("a-answer-aa", AA_WANTED | TWICE, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_AAAA);
	pkt_aaaa(&p, PKT_AN, WWW, 60, "2001:db8::42");
	reply_seed("aaaa-answer-aa", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(&p, PKT_AN, PKT_QNAME, 300, "web.example.com");
	pkt_cname(&p, PKT_AN, "web.example.com", 300, "host.example.com");
	pkt_a(&p, PKT_AN, "host.example.com", 300, "192.0.2.7");
	reply_seed("cname-chain-in-reply", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(&p, PKT_AN, PKT_QNAME, 300, "elsewhere.example.net");
	reply_seed("cname-leaves-reply", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(&p, PKT_AN, PKT_QNAME, 300, "loop.example.com");
	pkt_cname(&p, PKT_AN, "loop.example.com", 300, WWW);
	reply_seed("cname-loop", 0, &p);

	pkt_reply(&p, ID, PKT_AA, PKT_RCODE_NXDOMAIN, WWW, NX_T_A);
	pkt_soa(&p, PKT_NS, ZONE, 3600, 900);
	reply_seed("nxdomain-soa", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_AAAA);
	pkt_soa_names(&p, PKT_NS, ZONE, 300, "ns1.example.com", "hostmaster.example.com", 60);
	reply_seed("nodata-soa", AA_WANTED, &p);

	pkt_reply(&p, ID, 0, 0, "host.child.example.com", NX_T_A);
	pkt_ns(&p, PKT_NS, "child.example.com", 3600, "ns1.child.example.com");
	pkt_ns(&p, PKT_NS, "child.example.com", 3600, "ns2.example.net");
	pkt_a(&p, PKT_AR, "ns1.child.example.com", 3600, "192.0.2.53");
	pkt_aaaa(&p, PKT_AR, "ns1.child.example.com", 3600, "2001:db8::53");
	reply_seed("referral-glue", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, ZONE, NX_T_NS);
	pkt_ns(&p, PKT_AN, PKT_QNAME, 86400, "ns1.example.com");
	pkt_ns(&p, PKT_AN, PKT_QNAME, 86400, "ns2.example.com");
	pkt_a(&p, PKT_AR, "ns1.example.com", 86400, "192.0.2.1");
	pkt_aaaa(&p, PKT_AR, "ns2.example.com", 86400, "2001:db8::2");
	reply_seed("ns-answer-glue", AS_NS, &p);

	pkt_reply(&p, ID, PKT_AA, 0, ZONE, NX_T_SOA);
	pkt_soa(&p, PKT_AN, PKT_QNAME, 3600, 300);
	reply_seed("soa-answer", AS_SOA, &p);

	pkt_reply(&p, ID, 0, PKT_RCODE_SERVFAIL, WWW, NX_T_A);
	reply_seed("servfail", AA_WANTED, &p);
	pkt_reply(&p, ID, 0, PKT_RCODE_REFUSED, WWW, NX_T_A);
	reply_seed("refused", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA | PKT_TC, 0, WWW, NX_T_A);
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.42");
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.43");
	pkt_truncate(&p, p.len - 7);
	reply_seed("truncated-cut", AA_WANTED, &p);

	pkt_reply(&p, ID, 0, 0, WWW, NX_T_A);
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.42");
	reply_seed("lame-answer", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_cname(&p, PKT_AN, PKT_QNAME, 300, "bad$name.example.com");
	reply_seed("cname-not-host-name", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_a(&p, PKT_AN, PKT_QNAME, 300, "192.0.2.42");
	pkt_rr(&p, PKT_AR, "", 41, 1232, 0, NULL, 0); /* OPT */
	reply_seed("answer-opt", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_rr_head(&p, PKT_AN, PKT_QNAME, NX_T_A, 300);
	pkt_u16(&p, 4);
	pkt_bytes(&p, "\xc0\x00\x02\x01", 4);
	pkt_count_add(&p, PKT_AN, 1);
	pkt_set_count(&p, PKT_NS, 3);
	reply_seed("counts-past-end", AA_WANTED, &p);

	pkt_reply(&p, ID, PKT_AA, 0, WWW, NX_T_A);
	pkt_rr_head(&p, PKT_AN, "", NX_T_A, 300);
	pkt_u16(&p, 4);
	pkt_name_loop(&p);
	pkt_count_add(&p, PKT_AN, 1);
	reply_seed("pointer-loop", 0, &p);
}

/* fuzz_discovery: the control byte, then messages with 2-byte lengths. */
static void discovery_seed(const char *name, uint8_t ctl, const struct pkt *const *msgs, int n)
{
	unsigned char buf[4 * (PKT_MAX + 2) + 1];
	size_t len = 0;
	buf[len++] = ctl;
	for (int i = 0; i < n; i++) {
		buf[len++] = (unsigned char)(msgs[i]->len >> 8);
		buf[len++] = (unsigned char)msgs[i]->len;
		memcpy(buf + len, msgs[i]->buf, msgs[i]->len);
		len += msgs[i]->len;
	}
	save("fuzz_discovery", name, buf, len);
}

static void discovery(void)
{
	/* Suffix 0: dev.example.com, a name in the zone example.com. */
	static struct pkt soa, alias, parent, ns;
	pkt_reply(&soa, 1, PKT_RD | PKT_RA, 0, "dev.example.com", NX_T_SOA);
	pkt_soa(&soa, PKT_NS, ZONE, 300, 300);
	pkt_reply(&ns, 2, PKT_RD | PKT_RA, 0, ZONE, NX_T_NS);
	pkt_ns(&ns, PKT_AN, PKT_QNAME, 86400, "ns1.example.com");
	pkt_ns(&ns, PKT_AN, PKT_QNAME, 86400, "ns2.example.net");
	pkt_a(&ns, PKT_AR, "ns1.example.com", 86400, "192.0.2.1");
	pkt_aaaa(&ns, PKT_AR, "ns1.example.com", 86400, "2001:db8::1");
	discovery_seed("nodata-then-ns", 0, (const struct pkt *[]){&soa, &ns}, 2);

	pkt_reply(&alias, 3, PKT_RD | PKT_RA, 0, "dev.example.com", NX_T_SOA);
	pkt_cname(&alias, PKT_AN, PKT_QNAME, 300, "dev.example.net");
	pkt_soa(&alias, PKT_NS, "example.net", 300, 300);
	pkt_reply(&parent, 4, PKT_RD | PKT_RA, 0, ZONE, NX_T_SOA);
	pkt_soa(&parent, PKT_AN, PKT_QNAME, 300, 300);
	discovery_seed("alias-then-parent", 0,
		       (const struct pkt *[]){&alias, &parent, &ns}, 3);

	/* Suffix 1: example.com, its own apex. */
	discovery_seed("apex-answer", 1, (const struct pkt *[]){&parent, &ns}, 2);

	/* Suffix 3: lab.test, NXDOMAIN with the root's SOA. */
	pkt_reply(&soa, 5, PKT_RD | PKT_RA, PKT_RCODE_NXDOMAIN, "lab.test", NX_T_SOA);
	pkt_soa_names(&soa, PKT_NS, "", 86400, "a.root-servers.net", "nstld.verisign-grs.com",
		      86400);
	discovery_seed("nxdomain-root-soa", 3, (const struct pkt *[]){&soa, &ns}, 2);
}

static void text_seed(const char *target, const char *name, uint8_t ctl, const char *fields,
		      size_t len)
{
	unsigned char buf[4096];
	buf[0] = ctl;
	memcpy(buf + 1, fields, len);
	save(target, name, buf, len + 1);
}

#define TEXT(target, name, ctl, fields) text_seed(target, name, ctl, fields, sizeof fields - 1)

static void texts(void)
{
	TEXT("fuzz_names", "host", 0x25,
	     "www.example.com\0example.com\0dev.example.com, lab.test\0"
	     "127.0.0.1 localhost\n192.0.2.1 www.example.com www\n");
	TEXT("fuzz_names", "upper-dot", 0x63,
	     "WWW.Example.COM.\0EXAMPLE.com\0example.com,,\tlab.test.\0# none\n");
	TEXT("fuzz_names", "numeric", 0x10, "192.0.2.1\0\0 \0::1 localhost ip6-localhost\n");
	TEXT("fuzz_names", "bad", 0xa0, "a..b\0-x.example\0a..b,c\0");
	TEXT("fuzz_env", "all-set", 0x1f, "debug\00030\0first\0dev.example.com,example.net");
	TEXT("fuzz_env", "zones-only", 0x10, "example.org dev.example.com");
	TEXT("fuzz_env", "blank", 0x1e, " \0\t\0\0,");
	TEXT("fuzz_env", "bad-timeout", 0x03, "0x10");
	TEXT("fuzz_nameserver", "v4-port", 3,
	     "198.51.100.53:5353\0nameserver 127.0.0.53\nnameserver ::1\n");
	TEXT("fuzz_nameserver", "v6-port", 2,
	     "[2001:db8::53]:53\0# comment\nsearch example.com\nnameserver fe80::1%eth0\n");
	TEXT("fuzz_nameserver", "host-port", 4, "ns1.example.net:0000005353\0 nameserver 10.0.0.1\n");
	TEXT("fuzz_nameserver", "bare-v6", 1, "2001:db8::53\0nameserver 127.0.53\n");
	TEXT("fuzz_escape", "controls", 0, "\x04\x00www.ex\\ample.com\n\x1b[31m\xc3\xa9$(id)");
	TEXT("fuzz_escape", "short", 0, "\x07\x00\x01\x02\\\\");
}

/* fuzz_result: selectors, flags, buflen, misc, addresses, names. */
static void results(void)
{
	static const unsigned char v4v6[] = {
		0x00,                   /* AF_UNSPEC, any socktype, hostent AF_INET */
		0x00, 0x02,             /* AI_CANONNAME */
		0x01, 0x00,             /* buflen 256 */
		0x08,                   /* sort */
		3,                      /* addresses */
		0, 192, 0, 2, 42,
		1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53,
		0, 10, 0, 0, 1,
		'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0,
		'w', 'w', 'w', 0,
		'h', 't', 't', 'p'};
	save("fuzz_result", "v4-v6-canon-http", v4v6, sizeof v4v6);
	static const unsigned char mapped[] = {
		0x46,                   /* AF_INET6 hints, hostent AF_INET6 */
		0x00, 0x18,             /* AI_V4MAPPED | AI_ALL */
		0x00, 0x30,             /* buflen 48: ERANGE */
		0x03,                   /* offset 3 */
		1,
		0, 127, 0, 0, 1,
		'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 0, '5', '3'};
	save("fuzz_result", "v4-mapped-small-buffer", mapped, sizeof mapped);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	replies();
	discovery();
	texts();
	results();
	return 0;
}
