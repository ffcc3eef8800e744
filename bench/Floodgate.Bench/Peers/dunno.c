/*
 * The ceiling of the peers comparison: a policy server that does nothing but answer. It reads the Postfix policy
 * protocol (attribute lines ending in an empty line) on every connection and answers each request with
 * "action=DUNNO" at once, decides nothing and counts nothing. One thread, one epoll set, level-triggered,
 * non-blocking sockets; requests that arrive together are answered in one write. Whatever Floodgate or a peer
 * does above this is the cost of deciding; this is what the machine and the load generator allow.
 *
 * Built by Floodgate.Bench peers: gcc -O2 -o dunno dunno.c.   Usage: dunno ADDRESS PORT (an IPv4 address).
 * It runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define READ_BUFFER 65536
#define MAX_EVENTS 256

static const char answer[] = "action=DUNNO\n\n";
#define ANSWER_LENGTH (sizeof answer - 1)

/* Per connection: whether the last byte read ended a line, and the answers owed when a write could not take them all. */
struct connection {
    unsigned char after_newline;
    unsigned char open;
    unsigned char watching_output;
    size_t owed_bytes;
};

static struct connection connections[MAX_FDS];
static char reply[READ_BUFFER / 2 * ANSWER_LENGTH + ANSWER_LENGTH];
static char input[READ_BUFFER];

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void close_connection(int epoll, int fd)
{
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    connections[fd].open = 0;
}

/* Writes the owed answers; returns 0 when the connection broke. The bytes owed are always whole answers, so any tail of them is a tail of the repeated answer text. */
static int flush_owed(int epoll, int fd)
{
    struct connection *c = &connections[fd];
    while (c->owed_bytes > 0) {
        size_t length = c->owed_bytes < sizeof reply - ANSWER_LENGTH ? c->owed_bytes : sizeof reply - ANSWER_LENGTH;
        size_t skip = (ANSWER_LENGTH - c->owed_bytes % ANSWER_LENGTH) % ANSWER_LENGTH;
        ssize_t n = write(fd, reply + skip, length);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->watching_output) {
                    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
                    epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
                    c->watching_output = 1;
                }
                return 1;
            }
            if (errno == EINTR)
                continue;
            return 0;
        }
        c->owed_bytes -= (size_t)n;
    }
    if (c->watching_output) {
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
        c->watching_output = 0;
    }
    return 1;
}

static void serve(int epoll, int fd)
{
    struct connection *c = &connections[fd];
    ssize_t n = read(fd, input, sizeof input);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close_connection(epoll, fd);
        return;
    }
    if (n < 0)
        return;

    /* A request ends with an empty line: a newline right after a newline. */
    size_t requests = 0;
    unsigned char after_newline = c->after_newline;
    for (ssize_t i = 0; i < n; i++) {
        if (input[i] == '\n') {
            if (after_newline) {
                requests++;
                after_newline = 0;
            } else {
                after_newline = 1;
            }
        } else {
            after_newline = 0;
        }
    }
    c->after_newline = after_newline;
    if (requests == 0)
        return;

    int waiting = c->owed_bytes > 0;
    c->owed_bytes += requests * ANSWER_LENGTH;
    if (!waiting && !flush_owed(epoll, fd))
        close_connection(epoll, fd);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s ADDRESS PORT\n", argv[0]);
        return 2;
    }

    for (size_t i = 0; i + ANSWER_LENGTH <= sizeof reply; i += ANSWER_LENGTH)
        memcpy(reply + i, answer, ANSWER_LENGTH);

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) {
        fprintf(stderr, "%s: not an IPv4 address: %s\n", argv[0], argv[1]);
        return 2;
    }

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0)
        fail("socket");
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0)
        fail("bind");
    if (listen(listener, 1024) < 0)
        fail("listen");

    int epoll = epoll_create1(0);
    if (epoll < 0)
        fail("epoll_create1");
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    if (epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event) < 0)
        fail("epoll_ctl");

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int ready = epoll_wait(epoll, events, MAX_EVENTS, -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fail("epoll_wait");
        }
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (client >= MAX_FDS) {
                        close(client);
                        continue;
                    }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    connections[client] = (struct connection){.open = 1};
                    struct epoll_event add = {.events = EPOLLIN, .data.fd = client};
                    if (epoll_ctl(epoll, EPOLL_CTL_ADD, client, &add) < 0)
                        close(client);
                }
                continue;
            }
            if (!connections[fd].open)
                continue;
            if (events[i].events & EPOLLOUT) {
                if (!flush_owed(epoll, fd)) {
                    close_connection(epoll, fd);
                    continue;
                }
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                serve(epoll, fd);
        }
    }
}
