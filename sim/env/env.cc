// SPDX-License-Identifier: GPL-2.0-or-later
// Small helpers of the env interfaces.
#include "sim/env/env.h"

namespace drbd::sim {

std::string AddressToString(const Address& a) {
  switch (a.family) {
    case Address::Family::kIpv6:
      return "ipv6:[" + a.host + "]:" + std::to_string(a.port);
    case Address::Family::kSsocks:
      return "ssocks:" + a.host + ":" + std::to_string(a.port);
    case Address::Family::kSdp:
      return "sdp:" + a.host + ":" + std::to_string(a.port);
    case Address::Family::kIpv4:
    case Address::Family::kUnknown:
      break;
  }
  return "ipv4:" + a.host + ":" + std::to_string(a.port);
}

std::string_view NetErrorName(NetError e) {
  switch (e) {
    case NetError::kNone:
      return "none";
    case NetError::kRefused:
      return "connection refused";
    case NetError::kReset:
      return "connection reset";
    case NetError::kClosed:
      return "closed by peer";
    case NetError::kAddrInUse:
      return "address in use";
    case NetError::kUnreachable:
      return "unreachable";
  }
  return "?";
}

}  // namespace drbd::sim
