/*
 * The least a streaming client can do: the reference point of bench/openai-stream.sh's "floor"
 * column. C concurrency-N HTTP/1.1 keep-alive client for kserve-sim's streamed chat answers:
 * one epoll loop, one read() and one clock read per wake-up, no parsing beyond finding the end
 * of each answer. Whatever a real client adds (framing, event parsing, metrics, its runtime)
 * comes on top of this, so its CPU per token and its added time to first token bound from
 * below what any client that times each event on arrival can reach on the machine.
 *
 * It writes its timings as a perf_analyzer-style profile export (each read one "response"
 * with its text), so openai_stream.py pairs them with the server's record like the others'.
 *
 * Usage: sse_floor HOST:PORT CONCURRENCY REQUESTS BODIES.lines EXPORT.json
 *   BODIES.lines: one JSON request body per line (sent in turn).
 * Build: cc -O2 -o sse_floor bench/sse_floor.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 1024
#define MAX_READS 1024

struct reading { unsigned long long at; size_t offset, length; };
struct conn {
    int fd, body;
    unsigned long long sent;
    char *text; size_t used, cap;           /* the answer's bytes so far */
    struct reading reads[MAX_READS]; int nreads;
};

static unsigned long long wall_ns(void) {
    struct timespec t; clock_gettime(CLOCK_REALTIME, &t);
    return (unsigned long long)t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

static void json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); }
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s HOST:PORT CONCURRENCY REQUESTS BODIES.lines EXPORT.json\n", argv[0]); return 2; }
    char host[256]; snprintf(host, sizeof host, "%s", argv[1]);
    char *colon = strrchr(host, ':'); if (!colon) { fprintf(stderr, "HOST:PORT expected\n"); return 2; }
    *colon = 0; int port = atoi(colon + 1);
    int concurrency = atoi(argv[2]), total = atoi(argv[3]);
    if (concurrency < 1 || concurrency > MAX_CONN || total < 1) { fprintf(stderr, "bad concurrency or requests\n"); return 2; }

    /* Each body as a complete request, built once. */
    FILE *bf = fopen(argv[4], "r"); if (!bf) die(argv[4]);
    char **reqs = NULL, **bodies = NULL; size_t *reqlen = NULL, *bodylen = NULL; int nbodies = 0;
    char *line = NULL; size_t lcap = 0; ssize_t ln;
    while ((ln = getline(&line, &lcap, bf)) > 0) {
        while (ln > 0 && (line[ln - 1] == '\n' || line[ln - 1] == '\r')) line[--ln] = 0;
        if (ln == 0) continue;
        reqs = realloc(reqs, (nbodies + 1) * sizeof *reqs); reqlen = realloc(reqlen, (nbodies + 1) * sizeof *reqlen);
        bodies = realloc(bodies, (nbodies + 1) * sizeof *bodies); bodylen = realloc(bodylen, (nbodies + 1) * sizeof *bodylen);
        bodies[nbodies] = strdup(line); bodylen[nbodies] = (size_t)ln;
        size_t cap = (size_t)ln + 256; reqs[nbodies] = malloc(cap);
        reqlen[nbodies] = (size_t)snprintf(reqs[nbodies], cap,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zd\r\n\r\n%s",
            argv[1], ln, line);
        nbodies++;
    }
    fclose(bf);
    if (nbodies == 0) { fprintf(stderr, "%s: no bodies\n", argv[4]); return 2; }

    FILE *out = fopen(argv[5], "w"); if (!out) die(argv[5]);
    fputs("{\"experiments\":[{\"experiment\":{\"mode\":\"concurrency\",\"value\":", out);
    fprintf(out, "%d},\"requests\":[", concurrency);

    int ep = epoll_create1(0); if (ep < 0) die("epoll_create1");
    static struct conn conns[MAX_CONN];
    int sent = 0, done = 0, written = 0;
    for (int i = 0; i < concurrency && sent < total; i++) {
        struct conn *c = &conns[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0); if (c->fd < 0) die("socket");
        struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port);
        if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { fprintf(stderr, "bad host %s\n", host); return 2; }
        if (connect(c->fd, (struct sockaddr *)&a, sizeof a)) die("connect");
        int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev)) die("epoll_ctl");
        c->cap = 1 << 16; c->text = malloc(c->cap);
        c->body = sent % nbodies; c->used = 0; c->nreads = 0;
        c->sent = wall_ns();
        if (write(c->fd, reqs[c->body], reqlen[c->body]) != (ssize_t)reqlen[c->body]) die("write");
        sent++;
    }
    char buf[65536];
    while (done < total) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            struct conn *c = &conns[evs[k].data.u32];
            ssize_t r = read(c->fd, buf, sizeof buf);
            unsigned long long at = wall_ns();
            if (r <= 0) { fprintf(stderr, "the server closed a connection\n"); return 1; }
            if (c->used + (size_t)r > c->cap) { while (c->used + (size_t)r > c->cap) c->cap *= 2; c->text = realloc(c->text, c->cap); }
            memcpy(c->text + c->used, buf, (size_t)r);
            if (c->nreads < MAX_READS) c->reads[c->nreads++] = (struct reading){ at, c->used, (size_t)r };
            c->used += (size_t)r;
            /* A chunked answer ends with the zero-length chunk. */
            if (c->used < 5 || memcmp(c->text + c->used - 5, "0\r\n\r\n", 5) != 0) continue;
            done++;
            /* The export is written between answers, off the timed path of this one. */
            fprintf(out, "%s{\"timestamp\":%llu,\"request_inputs\":{\"payload\":", written++ ? "," : "", c->sent);
            json_string(out, bodies[c->body], bodylen[c->body]);
            fputs("},\"response_timestamps\":[", out);
            for (int j = 0; j < c->nreads; j++) fprintf(out, "%s%llu", j ? "," : "", c->reads[j].at);
            fputs("],\"response_outputs\":[", out);
            for (int j = 0; j < c->nreads; j++) {
                fputs(j ? ",{\"response\":" : "{\"response\":", out);
                json_string(out, c->text + c->reads[j].offset, c->reads[j].length);
                fputc('}', out);
            }
            fputs("]}", out);
            c->used = 0; c->nreads = 0;
            if (sent < total) {
                c->body = sent % nbodies;
                c->sent = wall_ns();
                if (write(c->fd, reqs[c->body], reqlen[c->body]) != (ssize_t)reqlen[c->body]) die("write");
                sent++;
            }
        }
    }
    fputs("],\"window_boundaries\":[]}],\"version\":\"sse_floor\",\"service_kind\":\"openai\",\"endpoint\":\"v1/chat/completions\"}\n", out);
    fclose(out);
    return 0;
}
