// SPDX-License-Identifier: GPL-2.0-or-later
// Local node name and local address lookup (getifaddrs).
#include "lib/config/host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace drbd::cfg {

std::string LocalNodeName(bool* from_env) {
  const char* env = std::getenv("__DRBD_NODE__");
  if (env != nullptr && *env != '\0') {
    if (from_env != nullptr) *from_env = true;
    return env;
  }
  if (from_env != nullptr) *from_env = false;
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return std::string();
  return buf;
}

std::string NodeNameOverrideNotice(std::string_view name) {
  std::string s = "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>";
  s += name;
  s += "<<\n\n";
  return s;
}

namespace {

// One interface address: what the lookups below need of a getifaddrs entry.
struct IfAddr {
  int family;          // AF_INET or AF_INET6
  bool up;             // IFF_UP
  in_addr v4{};        // family AF_INET
  in6_addr v6{};       // family AF_INET6
};

// The interface addresses, read once per process: a config with thousands of
// floating sections asks for every one of them, and each getifaddrs() is a
// netlink dump of all links and addresses.
const std::vector<IfAddr>& IfAddrs() {
  static const std::vector<IfAddr> addrs = [] {
    std::vector<IfAddr> out;
    struct ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (struct ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
      if (ifa->ifa_addr == nullptr) continue;
      IfAddr a;
      a.family = ifa->ifa_addr->sa_family;
      a.up = (ifa->ifa_flags & IFF_UP) != 0;
      if (a.family == AF_INET) {
        a.v4 = reinterpret_cast<const struct sockaddr_in*>(ifa->ifa_addr)->sin_addr;
      } else if (a.family == AF_INET6) {
        a.v6 = reinterpret_cast<const struct sockaddr_in6*>(ifa->ifa_addr)->sin6_addr;
      } else {
        continue;
      }
      out.push_back(a);
    }
    freeifaddrs(list);
    return out;
  }();
  return addrs;
}

// Walks the interface addresses; fn returns true to stop.
template <typename Fn>
bool AnyIfAddr(Fn fn) {
  for (const IfAddr& a : IfAddrs()) {
    if (fn(a)) return true;
  }
  return false;
}

bool HaveIpv4(const std::string& ip) {
  // inet_addr semantics as drbd-utils (accepts the short forms "10.1").
  in_addr_t query = inet_addr(ip.c_str());
  return AnyIfAddr([&](const IfAddr& a) {
    return a.family == AF_INET && a.up && a.v4.s_addr == query;
  });
}

bool HaveIpv6(const std::string& ip) {
  // A link-local scope suffix ("%eth0") is not part of the address.
  std::string tmp = ip.substr(0, ip.find('%'));
  if (tmp.size() > INET6_ADDRSTRLEN) tmp.resize(INET6_ADDRSTRLEN);
  struct in6_addr query;
  if (inet_pton(AF_INET6, tmp.c_str(), &query) != 1) return false;
  return AnyIfAddr([&](const IfAddr& a) {
    return a.family == AF_INET6 && std::memcmp(&a.v6, &query, sizeof(query)) == 0;
  });
}

}  // namespace

bool HaveIp(std::string_view af, std::string_view ip) {
  if (af == "ipv4") return HaveIpv4(std::string(ip));
  if (af == "ipv6") return HaveIpv6(std::string(ip));
  return true;
}

}  // namespace drbd::cfg
