// SPDX-License-Identifier: GPL-2.0-or-later
// LD_PRELOAD shim for the oracle test (lib/genl/oracle_test.cc): turns the
// NETLINK_GENERIC socket of drbd-utils' drbdsetup into a SOCK_SEQPACKET
// connection to the Unix socket named by GENL_SHIM_SOCKET, so an in-test
// server sees the exact request bytes drbdsetup sends. bind/setsockopt on
// that socket succeed without effect, getsockname reports netlink port
// 4242, and received packets appear to come from the kernel (nl_pid 0).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static int shim_fd = -1;

int socket(int domain, int type, int protocol) {
  static int (*real)(int, int, int);
  if (!real) real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
  const char* path = getenv("GENL_SHIM_SOCKET");
  if (domain != AF_NETLINK || !path) return real(domain, type, protocol);
  int fd = real(AF_UNIX, SOCK_SEQPACKET, 0);
  if (fd < 0) return fd;
  struct sockaddr_un a;
  memset(&a, 0, sizeof(a));
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
  if (connect(fd, (struct sockaddr*)&a, sizeof(a)) < 0) return -1;
  shim_fd = fd;
  return fd;
}

int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  static int (*real)(int, const struct sockaddr*, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr*, socklen_t))dlsym(RTLD_NEXT, "bind");
  return fd == shim_fd ? 0 : real(fd, addr, len);
}

int setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  static int (*real)(int, int, int, const void*, socklen_t);
  if (!real) real = (int (*)(int, int, int, const void*, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
  return fd == shim_fd ? 0 : real(fd, level, name, val, len);
}

int getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "getsockname");
  if (fd != shim_fd) return real(fd, addr, len);
  struct sockaddr_nl nl;
  memset(&nl, 0, sizeof(nl));
  nl.nl_family = AF_NETLINK;
  nl.nl_pid = 4242;
  memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
  *len = sizeof(nl);
  return 0;
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  static ssize_t (*real)(int, struct msghdr*, int);
  if (!real) real = (ssize_t (*)(int, struct msghdr*, int))dlsym(RTLD_NEXT, "recvmsg");
  if (fd != shim_fd) return real(fd, msg, flags);
  void* name = msg->msg_name;
  socklen_t namelen = msg->msg_namelen;
  msg->msg_name = NULL;
  msg->msg_namelen = 0;
  ssize_t n = real(fd, msg, flags);
  msg->msg_name = name;
  if (name && namelen >= sizeof(struct sockaddr_nl)) {
    struct sockaddr_nl nl;
    memset(&nl, 0, sizeof(nl));
    nl.nl_family = AF_NETLINK;
    memcpy(name, &nl, sizeof(nl));
    msg->msg_namelen = sizeof(nl);
  }
  return n;
}
