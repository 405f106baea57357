/* nxretry --resolver: the command and its children resolve through a stub
 * resolver (shim/stub/) that lives exactly as long as the command, so that
 * programs the preload cannot reach (static Go, dig, browsers' own DNS
 * clients) get freshly created names too. The preload stays on.
 *
 * The stub listens on port 53 of a loopback address of its own (nothing
 * honours a port in resolv.conf) and forwards to the nameservers the host's
 * resolv.conf names. Two ways make the command's resolv.conf name it:
 *  - namespace: the command runs in a private mount namespace where a
 *    generated file is bind-mounted over /etc/resolv.conf (over the file a
 *    symbolic link names, as mount(2) resolves the path); the host's file is
 *    never written. Needs CAP_SYS_ADMIN.
 *  - rewrite: as root where a new mount namespace is forbidden (a container
 *    with Docker's default capabilities), /etc/resolv.conf itself names the
 *    stub first and the original servers after it until the command ends.
 *    If nxretry dies without restoring it, queries to the dead stub's
 *    address are refused at once (ICMP port unreachable) and clients move
 *    on to the original servers.
 * nxretry forks the stub (in its own process group: a terminal's ^C goes to
 * the command alone), then the command; it forwards SIGINT, SIGTERM, SIGHUP
 * and SIGQUIT sent to it, reaps (as PID 1 in a container, orphans too), and
 * when the command ends restores, stops the stub and exits as the command
 * did. */
#include "resolver.h"
#include "nxretry.h"
#include "stub/stub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESOLV_CONF "/etc/resolv.conf"
#define STUB_PORT 53
#define ADDRESS_TRIES 8           /* candidate addresses in 127.53.0.0/16 */
#define STUB_STOP_MS 2000         /* from SIGTERM to SIGKILL */
#define RESOLV_MAX (64 * 1024)    /* a larger file is no resolv.conf */
#define WHY_MAX 256

/* Rewrite mode puts lines before the original and after it: a file that
 * starts with mark_begin was left by an nxretry that was killed; the
 * original starts after mark_end and ends before mark_tail. */
static const char mark_begin[] = "# nxretry --resolver:";
static const char mark_end[] = "# nxretry: the original follows\n";
static const char mark_tail[] = "# nxretry: the stub may hold a question until the name exists\n";
#define CLIENT_TIMEOUT_MAX 30 /* glibc's cap on options timeout: */

/* The signals nxretry waits for (blocked, then taken by sigwaitinfo). */
static const int waited[] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT};

struct text {
	char *bytes;
	size_t len;
};

/* Who the command runs as: under sudo, the invoking user. */
struct identity {
	bool drop;
	uid_t uid;
	gid_t gid;
	const char *user; /* SUDO_USER, for initgroups; NULL: the group alone */
};

static const char *env_get(const char *name) { return getenv(name); }

bool nx_resolver_parse_way(const char *text, enum nx_resolver_way *out)
{
	static const char *const names[] = {"auto", "namespace", "rewrite"};
	for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(text, names[i])) {
			*out = (enum nx_resolver_way)i;
			return true;
		}
	return false;
}

static int read_file(const char *path, struct text *out)
{
	*out = (struct text){0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	out->bytes = malloc(RESOLV_MAX + 1);
	ssize_t n = 0;
	if (out->bytes) {
		while (out->len < RESOLV_MAX &&
		       ((n = read(fd, out->bytes + out->len, RESOLV_MAX - out->len)) > 0 ||
			(n < 0 && errno == EINTR)))
			out->len += n > 0 ? (size_t)n : 0;
	}
	int err = !out->bytes ? ENOMEM : n < 0 ? errno : out->len == RESOLV_MAX ? EFBIG : 0;
	close(fd);
	if (err) {
		free(out->bytes);
		*out = (struct text){0};
		errno = err;
		return -1;
	}
	out->bytes[out->len] = '\0';
	return 0;
}

static int write_all(int fd, const char *p, size_t len, off_t at)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n, at += n, len -= (size_t)n;
	}
	return 0;
}

/* The first line of text that starts with mark, or NULL. */
static char *find_line(char *text, const char *mark)
{
	size_t n = strlen(mark);
	for (char *line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (!strncmp(line, mark, n))
			return line;
	return NULL;
}

/* Keeps only the original of a file an nxretry killed in rewrite mode
 * left; true when it was such a file. */
static bool strip_ours(struct text *t)
{
	char *start;
	if (strncmp(t->bytes, mark_begin, sizeof mark_begin - 1) ||
	    !(start = find_line(t->bytes, mark_end)))
		return false;
	start += sizeof mark_end - 1;
	char *tail = find_line(start, mark_tail);
	size_t len = tail ? (size_t)(tail - start) : t->len - (size_t)(start - t->bytes);
	memmove(t->bytes, start, len);
	t->len = len;
	t->bytes[len] = '\0';
	return true;
}

/* A line's keyword, as glibc reads it: at the line's start, then a blank. */
static const char *keyword_value(const char *line, const char *keyword)
{
	size_t n = strlen(keyword);
	if (strncmp(line, keyword, n) || (line[n] != ' ' && line[n] != '\t'))
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

/* The nameserver lines of t, port 53, without the stub's own address. */
static int upstreams(const struct text *t, const struct nx_nameserver *self,
		     struct nx_nameserver *out, int max)
{
	int n = 0;
	for (const char *line = t->bytes; line && n < max;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *v = keyword_value(line, "nameserver");
		char addr[64];
		size_t len = v ? strcspn(v, " \t\r\n") : 0;
		if (!len || len >= sizeof addr)
			continue;
		memcpy(addr, v, len);
		addr[len] = '\0';
		struct nx_nameserver s;
		/* A bracketed or ported form is no resolv.conf address: glibc skips it. */
		if (strchr(addr, '[') || nx_nameserver_parse(addr, &s) || s.port != STUB_PORT)
			continue;
		if (s.addr.family == self->addr.family && !memcmp(s.addr.bytes, self->addr.bytes, 16))
			continue;
		out[n++] = s;
	}
	return n;
}

/* The file the command reads in namespace mode: the stub alone (a second
 * server would get every question the stub holds longer than the client's
 * try, and answer it with the stale denial), then the host's other lines
 * (search, options...). */
static int compose_private(const struct text *host, const char *stub, struct text *out)
{
	enum { HEADER_MAX = 256 };
	out->bytes = malloc(HEADER_MAX + host->len + 2); /* + a last newline, NUL */
	if (!out->bytes)
		return -1;
	int n = snprintf(out->bytes, HEADER_MAX,
			 "# nxretry --resolver (pid %ld): its stub, for the command's life\n"
			 "nameserver %s\n",
			 (long)getpid(), stub);
	if (n < 0 || n >= HEADER_MAX)
		return -1;
	out->len = (size_t)n;
	for (const char *line = host->bytes; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		if (!keyword_value(line, "nameserver")) {
			memcpy(out->bytes + out->len, line, len);
			out->len += len;
		}
		line += len;
	}
	if (out->len && out->bytes[out->len - 1] != '\n')
		out->bytes[out->len++] = '\n';
	out->bytes[out->len] = '\0';
	return 0;
}

/* The file rewrite mode writes: the stub first, then the original whole
 * (glibc uses the first three nameservers), then a timeout that keeps
 * clients on the stub while it waits for a name (on a shorter one they ask
 * the next server, which answers the cached denial); a dead stub's address
 * refuses at once, so that costs nothing when nxretry was killed. The last
 * options line wins, in glibc as in Go. */
static int compose_rewrite(const struct text *host, const char *stub, double wait_s,
			   struct text *out)
{
	size_t room = host->len + 512;
	out->bytes = malloc(room);
	if (!out->bytes)
		return -1;
	int timeout = wait_s + 1 < CLIENT_TIMEOUT_MAX ? (int)wait_s + 2 : CLIENT_TIMEOUT_MAX;
	bool newline = host->len && host->bytes[host->len - 1] != '\n';
	int n = snprintf(out->bytes, room,
			 "%s the stub of pid %ld first, the original servers after it;\n"
			 "# restored when its command ends.\n"
			 "nameserver %s\n%s%s%s%soptions timeout:%d\n",
			 mark_begin, (long)getpid(), stub, mark_end, host->bytes, newline ? "\n" : "",
			 mark_tail, timeout < 5 ? 5 : timeout);
	if (n < 0 || (size_t)n >= room)
		return -1;
	out->len = (size_t)n;
	return 0;
}

/* 0 when port 53 of sa is free for UDP and TCP, else bind's errno. */
static int port_free(const struct sockaddr_in *sa)
{
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
	for (unsigned i = 0; i < sizeof types / sizeof *types; i++) {
		int fd = socket(AF_INET, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		int one = 1;
		if (types[i] == SOCK_STREAM)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		int rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
		int err = errno;
		close(fd);
		if (rc)
			return err;
	}
	return 0;
}

/* A loopback address whose port 53 is free: 127.53.A.B, A and B from 1 to
 * 254 from the pid, so concurrent runs differ, and clear of 127.0.0.0/24
 * (127.0.0.1, systemd-resolved's .53 and .54, a local dnsmasq). 0, or -1
 * with errno (EACCES: no privilege for port 53; EADDRINUSE: all taken,
 * e.g. by a server bound to 0.0.0.0:53). */
static int pick_address(struct nx_nameserver *out)
{
	unsigned base = (unsigned)getpid();
	int err = EADDRINUSE;
	for (unsigned k = 0; k < ADDRESS_TRIES; k++) {
		unsigned host = (base + k * 7919u) % (254u * 254u);
		uint32_t ip = 0x7f350000u | (1 + host / 254) << 8 | (1 + host % 254);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(STUB_PORT)};
		sa.sin_addr.s_addr = htonl(ip);
		err = port_free(&sa);
		if (!err) {
			*out = (struct nx_nameserver){.addr = {.family = AF_INET}, .port = STUB_PORT};
			memcpy(out->addr.bytes, &sa.sin_addr, 4);
			return 0;
		}
		if (err != EADDRINUSE)
			break;
	}
	errno = err;
	return -1;
}

/* Under sudo (real uid 0, SUDO_UID another user's): the invoking user. */
static void invoker(struct identity *id)
{
	*id = (struct identity){0};
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	if (getuid() != 0 || !u || !g)
		return;
	char *end_u, *end_g;
	errno = 0;
	unsigned long uid = strtoul(u, &end_u, 10), gid = strtoul(g, &end_g, 10);
	if (errno || !*u || *end_u || !*g || *end_g || uid > 0x7fffffff || gid > 0x7fffffff) {
		nx_log(NX_LOG_WARN, "SUDO_UID=%s SUDO_GID=%s are not ids: the command runs as root", u, g);
		return;
	}
	if (uid == 0)
		return;
	const char *user = getenv("SUDO_USER");
	*id = (struct identity){.drop = true, .uid = (uid_t)uid, .gid = (gid_t)gid,
				.user = user && *user ? user : NULL};
}

static int drop_identity(const struct identity *id)
{
	if (!id->drop)
		return 0;
	int rc = id->user ? initgroups(id->user, id->gid) : setgroups(1, &id->gid);
	if (rc || setgid(id->gid) || setuid(id->uid)) {
		nx_log(NX_LOG_ERROR, "cannot become uid %lu gid %lu: %s", (unsigned long)id->uid,
		       (unsigned long)id->gid, strerror(errno));
		return -1;
	}
	return 0;
}

static void waited_set(sigset_t *set)
{
	sigemptyset(set);
	for (unsigned i = 0; i < sizeof waited / sizeof *waited; i++)
		sigaddset(set, waited[i]);
}

/* A child starts with nxretry's blocked signals unblocked. */
static void child_signals(void)
{
	sigset_t set;
	waited_set(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Forks the stub: it binds (nx_stub_open) and says so through a pipe
 * before it serves, so it is reachable once this returns its pid; -1 when
 * it could not bind (it said why). */
static pid_t start_stub(const struct nx_config *cfg, const struct nx_stub_options *o,
			const struct identity *id)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		setpgid(0, 0);
		child_signals();
		struct nx_stub *s;
		if (nx_stub_open(cfg, o, &s) || drop_identity(id))
			_exit(1);
		/* After the identity change, which clears it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char ready = 1;
		if (getppid() != parent || write(p[1], &ready, 1) != 1)
			_exit(1);
		close(p[1]);
		_exit(nx_stub_run(s) ? 1 : 0);
	}
	close(p[1]);
	char ready = 0;
	ssize_t n = -1;
	while (pid > 0 && (n = read(p[0], &ready, 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n == 1)
		return pid;
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return -1;
}

static void stop_stub(pid_t stub)
{
	if (stub <= 0)
		return;
	kill(stub, SIGTERM);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int64_t end = nx_now_ms() + STUB_STOP_MS;
	for (;;) {
		pid_t p = waitpid(stub, NULL, WNOHANG);
		if (p == stub || (p < 0 && errno != EINTR))
			return;
		int64_t left = end - nx_now_ms();
		if (left <= 0) {
			nx_log(NX_LOG_WARN, "the stub did not stop within %d ms: killed", STUB_STOP_MS);
			kill(stub, SIGKILL);
			waitpid(stub, NULL, 0);
			return;
		}
		struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
		sigtimedwait(&chld, NULL, &ts);
	}
}

/* A private mount namespace in which /etc/resolv.conf (or the file its link
 * names) reads t: the host's mounts still propagate in, ours never out. 0,
 * or -1 with what failed in why. */
static int private_resolv_conf(const struct text *t, char *why)
{
	if (unshare(CLONE_NEWNS)) {
		snprintf(why, WHY_MAX, "no private mount namespace (unshare: %s)", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL)) {
		snprintf(why, WHY_MAX, "cannot make / a slave mount: %s", strerror(errno));
		return -1;
	}
	/* The file lives on a tmpfs mounted over a directory that exists only
	 * while it is bound (a memfd cannot be bound, an O_TMPFILE neither):
	 * nothing is created in the host's tree, and the detached tmpfs stays
	 * alive through the bind. */
	static const char *const scratch_dirs[] = {"/tmp", "/run", "/mnt", "/dev"};
	const char *scratch = NULL;
	for (unsigned i = 0; !scratch && i < sizeof scratch_dirs / sizeof *scratch_dirs; i++)
		if (!mount("nxretry", scratch_dirs[i], "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			   "mode=0755,size=1m"))
			scratch = scratch_dirs[i];
	if (!scratch) {
		snprintf(why, WHY_MAX, "cannot mount a tmpfs: %s", strerror(errno));
		return -1;
	}
	char file[64];
	snprintf(file, sizeof file, "%s/resolv.conf", scratch);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc = fd < 0 || write_all(fd, t->bytes, t->len, 0) ? -1 : 0;
	if (fd >= 0)
		close(fd);
	if (rc)
		snprintf(why, WHY_MAX, "cannot write %s: %s", file, strerror(errno));
	else if ((rc = mount(file, RESOLV_CONF, NULL, MS_BIND, NULL)))
		snprintf(why, WHY_MAX, "cannot bind a file over %s: %s", RESOLV_CONF, strerror(errno));
	else /* programs in the namespace cannot point it elsewhere */
		mount(NULL, RESOLV_CONF, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
	umount2(scratch, MNT_DETACH);
	return rc;
}

/* Writes t as path's content: a new file beside it renamed over it (readers
 * see the old or the new file whole), or where that cannot be, in place
 * with one write then a truncation: when path is a mount point (Docker
 * bind-mounts /etc/resolv.conf: rename gives EBUSY) or its directory is
 * read-only. 0, or -1 with errno. */
static int replace_file(const char *path, const struct text *t, const struct stat *st)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.nxretry-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int rc = write_all(fd, t->bytes, t->len, 0) || fchown(fd, st->st_uid, st->st_gid) ||
				 fchmod(fd, st->st_mode & 07777) || fsync(fd);
		close(fd);
		if (!rc && !rename(tmp, path))
			return 0;
		int err = errno;
		unlink(tmp);
		if (rc || err != EBUSY) {
			errno = err;
			return -1;
		}
	} else if (errno != EROFS && errno != EACCES && errno != EPERM) {
		return -1;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, t->bytes, t->len, 0) || ftruncate(fd, (off_t)t->len) ? -1 : 0;
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* Puts the original back if the file is still what nxretry wrote. */
static void restore(const char *path, const struct text *mine, const struct text *orig,
		    const struct stat *st)
{
	struct text now;
	if (read_file(path, &now) || now.len != mine->len || memcmp(now.bytes, mine->bytes, now.len)) {
		nx_log(NX_LOG_WARN, "%s changed while the command ran: left as it is", path);
	} else if (replace_file(path, orig, st)) {
		nx_log(NX_LOG_ERROR,
		       "cannot restore %s (%s): it names the dead stub first, then the original servers",
		       path, strerror(errno));
	}
	free(now.bytes);
}

/* stat(2) itself: libc's stat is GLIBC_2.33, and nxretry runs on 2.17. */
static int stat_path(const char *path, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

static bool in_container(void)
{
	const char *c = getenv("container"); /* podman, systemd-nspawn, LXC */
	return getpid() == 1 || (c && *c) || access("/.dockerenv", F_OK) == 0 ||
	       access("/run/.containerenv", F_OK) == 0;
}

/* Waits for the command, forwarding the signals sent to nxretry; a
 * terminal's (si_code SI_KERNEL) reached the command's process group
 * already. Reaps every child; a stub that exits early is said once (in a
 * namespace it was the command's only server). */
static int supervise(pid_t cmd, pid_t *stub, bool rewrite)
{
	sigset_t set;
	waited_set(&set);
	for (;;) {
		siginfo_t si;
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			if (si.si_code != SI_KERNEL)
				kill(cmd, si.si_signo);
			continue;
		}
		int st, status = 0;
		bool done = false;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p == cmd) {
				status = st;
				done = true;
			} else if (p == *stub) {
				nx_log(NX_LOG_ERROR, "the stub ended early (%s %d): %s",
				       WIFSIGNALED(st) ? "signal" : "exit",
				       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
				       rewrite ? "lookups go on to the original servers"
					       : "the command's lookups fail from now on");
				*stub = -1;
			}
		}
		if (done)
			return status;
	}
}

/* The command's exit status, or its signal raised again (a core the
 * command dumped is not followed by nxretry's). PID 1 ignores signals it
 * has no handler for, and ends with 128 + the signal as a shell reports. */
static int exit_as(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	int sig = WTERMSIG(status);
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	raise(sig);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL);
	return 128 + sig;
}

static __attribute__((noreturn)) void run_command(char **argv, const struct identity *id)
{
	child_signals();
	if (drop_identity(id))
		_exit(126);
	execvp(argv[0], argv);
	int err = errno;
	nx_log(NX_LOG_ERROR, "%s: %s", argv[0], strerror(err));
	_exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

int nx_resolver_run(enum nx_resolver_way way, char **argv)
{
	struct nx_config cfg;
	if (nx_config_load(&cfg, env_get))
		return 2;
	if (nx_log_level < NX_LOG_WARN) /* the one line of a fallback is always said */
		nx_log_level = NX_LOG_WARN;
	static const char alone[] = "; running the command with the preload alone "
				    "(static programs and dig are not reached)";

	struct text host;
	if (read_file(RESOLV_CONF, &host)) {
		nx_log(NX_LOG_WARN, "--resolver: cannot read %s: %s%s", RESOLV_CONF, strerror(errno),
		       alone);
		return -1;
	}
	if (strip_ours(&host))
		nx_log(NX_LOG_WARN, "%s: a killed nxretry's stub left in it is ignored", RESOLV_CONF);

	struct nx_stub_options o = {.nlisten = 1};
	if (pick_address(&o.listen[0])) {
		int err = errno;
		nx_log(NX_LOG_WARN, "--resolver: cannot listen on port 53 of 127.53.0.0/16 (%s): %s%s",
		       strerror(err),
		       err == EACCES ? "run nxretry --resolver as root (sudo: the command gets your "
				       "identity back)"
				     : "a server holds port 53 of every address (0.0.0.0:53?)",
		       alone);
		free(host.bytes);
		return -1;
	}
	char stub_text[64];
	nx_addr_format(&o.listen[0].addr, stub_text, sizeof stub_text);
	o.nupstream = upstreams(&host, &o.listen[0], o.upstream, NX_STUB_MAXUPSTREAM);
	if (!o.nupstream) /* glibc's default when resolv.conf names none */
		nx_nameserver_parse("127.0.0.1", &o.upstream[o.nupstream++]);

	struct identity id;
	invoker(&id);
	sigset_t set, old;
	waited_set(&set);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* Before the namespace: the stub reads the host's files, not ours. */
	pid_t stub = start_stub(&cfg, &o, &id);
	if (stub < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		nx_log(NX_LOG_WARN, "--resolver: the stub did not start%s", alone);
		free(host.bytes);
		return -1;
	}

	struct text mine = {0};
	char why[WHY_MAX] = "";
	bool rewrite = way == NX_RESOLVER_REWRITE;
	if (!rewrite) {
		if (compose_private(&host, stub_text, &mine))
			snprintf(why, sizeof why, "out of memory");
		else if (!private_resolv_conf(&mine, why))
			why[0] = '\0';
		rewrite = why[0] && way == NX_RESOLVER_AUTO && geteuid() == 0 && in_container();
		if (rewrite)
			nx_log(NX_LOG_INFO, "--resolver: %s: rewriting %s for the command's life", why,
			       RESOLV_CONF);
		else if (why[0])
			snprintf(why + strlen(why), sizeof why - strlen(why), ": %s",
				 geteuid() ? "run it as root (sudo)"
					   : "as root in a container, use --resolver=rewrite");
		free(mine.bytes);
		mine = (struct text){0};
	}
	char path[PATH_MAX] = RESOLV_CONF;
	struct stat st;
	if (rewrite) {
		why[0] = '\0';
		/* A link is followed: replacing it by a file would lose it. */
		if (!realpath(RESOLV_CONF, path) || stat_path(path, &st))
			snprintf(why, sizeof why, "%s: %s", RESOLV_CONF, strerror(errno));
		else if (compose_rewrite(&host, stub_text, cfg.timeout, &mine))
			snprintf(why, sizeof why, "out of memory");
		else if (replace_file(path, &mine, &st))
			snprintf(why, sizeof why, "cannot rewrite %s: %s", path, strerror(errno));
	}
	if (why[0]) {
		stop_stub(stub);
		sigprocmask(SIG_SETMASK, &old, NULL);
		nx_log(NX_LOG_WARN, "--resolver: %s%s", why, alone);
		free(host.bytes);
		free(mine.bytes);
		return -1;
	}
	nx_log(NX_LOG_INFO, "--resolver: stub on %s:53 (pid %ld), %s", stub_text, (long)stub,
	       rewrite ? "named first in the rewritten resolv.conf" : "in a private resolv.conf");

	fflush(NULL);
	pid_t cmd = fork();
	if (cmd == 0)
		run_command(argv, &id);
	int status = 0;
	if (cmd < 0)
		nx_log(NX_LOG_ERROR, "cannot fork: %s", strerror(errno));
	else
		status = supervise(cmd, &stub, rewrite);
	if (rewrite)
		restore(path, &mine, &host, &st);
	stop_stub(stub);
	free(host.bytes);
	free(mine.bytes);
	return cmd < 0 ? 126 : exit_as(status);
}
