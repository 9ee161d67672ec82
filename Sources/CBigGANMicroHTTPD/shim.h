#pragma once
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Swift cannot call C variadic functions nor receive a va_list; these wrappers make the few
   variadic libmicrohttpd calls the adapter needs with fixed arguments. */

/* The daemon's settings (see MHDServer.Configuration). */
struct biggan_mhd_config {
    uint32_t ipv4;                  /* network order; INADDR_ANY for all */
    uint16_t port;                  /* 0 = any free port */
    unsigned int connection_limit;
    unsigned int per_ip_limit;      /* 0 = none */
    unsigned int timeout_seconds;   /* inactivity timeout (reset by every byte) */
    size_t memory_limit;            /* per-connection memory pool */
};

typedef void *(*biggan_uri_callback)(void *cls, const char *uri, struct MHD_Connection *connection);
typedef void (*biggan_connection_callback)(void *cls, struct MHD_Connection *connection, void **socket_context,
                                           enum MHD_ConnectionNotificationCode code);

/* The status of the last error response libmicrohttpd answered by itself on this thread
   (413, 414, 431, 400, …); with one thread per connection, the connection's.
   (A function-local static: Swift's importer emits no file-scope static variables.) */
static inline unsigned int *biggan_mhd_error_status(void) {
    static _Thread_local unsigned int status;
    return &status;
}

/* Returns and clears the status above (0: none). */
static inline unsigned int biggan_mhd_take_error_status(void) {
    unsigned int s = *biggan_mhd_error_status();
    *biggan_mhd_error_status() = 0;
    return s;
}

/* Whether this (connection) thread has a request whose line has arrived: the adapter sets it
   when the request line arrives and clears it when the request completes. */
static inline int *biggan_mhd_in_request(void) {
    static _Thread_local int in_request;
    return &in_request;
}

/* Called with the status of an error response libmicrohttpd sent before any request line was
   complete (a request line larger than the memory pool): no request state exists to note it in. */
typedef void (*biggan_status_callback)(unsigned int status);
static inline biggan_status_callback *biggan_mhd_early_error_hook(void) {
    static biggan_status_callback hook;
    return &hook;
}

/* libmicrohttpd's error log: notes the status of the error responses it sends itself (so the
   adapter can log and count them) and prints the other messages to stderr. */
static void biggan_mhd_logger(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    static const char prefix[] = "Error processing request (HTTP response code is ";
    if (strncmp(fmt, prefix, sizeof prefix - 1) == 0) {
        va_list copy;
        va_copy(copy, ap);
        unsigned int status = va_arg(copy, unsigned int);
        va_end(copy);
        if (*biggan_mhd_in_request()) *biggan_mhd_error_status() = status;
        else if (*biggan_mhd_early_error_hook()) (*biggan_mhd_early_error_hook())(status);
        return; /* reported in the request log instead */
    }
    vfprintf(stderr, fmt, ap);
}

/* Starts a daemon: thread per connection with an internal polling thread. */
static inline struct MHD_Daemon *biggan_mhd_start(const struct biggan_mhd_config *cfg,
                                                  MHD_AccessHandlerCallback handler,
                                                  MHD_RequestCompletedCallback completed,
                                                  biggan_uri_callback uri_log,
                                                  biggan_connection_callback notify,
                                                  void *cls) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    addr.sin_addr.s_addr = cfg->ipv4;
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG | MHD_USE_ITC,
                            cfg->port, NULL, NULL, handler, cls,
                            MHD_OPTION_EXTERNAL_LOGGER, biggan_mhd_logger, NULL,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log, cls,
                            MHD_OPTION_NOTIFY_CONNECTION, notify, cls,
                            MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_seconds,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->memory_limit,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_END);
}

/* The port the daemon listens on (useful after binding port 0), or 0. */
static inline uint16_t biggan_mhd_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/* The client's address as text into `buf` (empty when unknown). */
static inline void biggan_mhd_client(struct MHD_Connection *connection, char *buf, size_t len) {
    buf[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return;
    if (info->client_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, buf, (socklen_t)len);
    } else if (info->client_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr, buf, (socklen_t)len);
    }
}

/* The connection's socket, or -1. */
static inline int biggan_mhd_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

/* The pointer set in the connection's MHD_CONNECTION_NOTIFY_STARTED callback, or NULL. */
static inline void *biggan_mhd_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Bytes of the request line and headers, or 0. */
static inline size_t biggan_mhd_header_size(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    return info ? info->header_size : 0;
}

static ssize_t biggan_mhd_no_content(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)cls; (void)pos; (void)buf; (void)max;
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* A response without a body and without Content-Length or Transfer-Encoding (for 304, whose
   Content-Length would have to be the 200's). libmicrohttpd adds `Content-Length: 0` to any
   sized response, so this one has an unknown size with chunking off; the connection closes
   after it. */
static inline struct MHD_Response *biggan_mhd_unsized_empty_response(void) {
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, biggan_mhd_no_content, NULL, NULL);
    if (r) MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    return r;
}

/* Lowers the calling thread's scheduling priority to `nice` (Linux: priorities are per
   thread), once per thread: connection threads then yield the CPU to the compute worker
   and the request-log writer. Returns 0 on success. */
static inline int biggan_lower_thread_priority(int nice) {
    static _Thread_local int lowered;
    if (lowered) return 0;
    lowered = 1;
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}
