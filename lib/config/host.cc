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

// Walks the interface address list; fn returns true to stop.
template <typename Fn>
bool AnyIfAddr(Fn fn) {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (struct ifaddrs* ifa = list; ifa != nullptr && !found; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) continue;
    found = fn(*ifa);
  }
  freeifaddrs(list);
  return found;
}

bool HaveIpv4(const std::string& ip) {
  // inet_addr semantics as drbd-utils (accepts the short forms "10.1").
  in_addr_t query = inet_addr(ip.c_str());
  return AnyIfAddr([&](const struct ifaddrs& ifa) {
    if (ifa.ifa_addr->sa_family != AF_INET) return false;
    if ((ifa.ifa_flags & IFF_UP) == 0) return false;
    const auto* sin = reinterpret_cast<const struct sockaddr_in*>(ifa.ifa_addr);
    return sin->sin_addr.s_addr == query;
  });
}

bool HaveIpv6(const std::string& ip) {
  // A link-local scope suffix ("%eth0") is not part of the address.
  std::string tmp = ip.substr(0, ip.find('%'));
  if (tmp.size() > INET6_ADDRSTRLEN) tmp.resize(INET6_ADDRSTRLEN);
  struct in6_addr query;
  if (inet_pton(AF_INET6, tmp.c_str(), &query) != 1) return false;
  return AnyIfAddr([&](const struct ifaddrs& ifa) {
    if (ifa.ifa_addr->sa_family != AF_INET6) return false;
    const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(ifa.ifa_addr);
    return std::memcmp(&sin6->sin6_addr, &query, sizeof(query)) == 0;
  });
}

}  // namespace

bool HaveIp(std::string_view af, std::string_view ip) {
  if (af == "ipv4") return HaveIpv4(std::string(ip));
  if (af == "ipv6") return HaveIpv6(std::string(ip));
  return true;
}

}  // namespace drbd::cfg
