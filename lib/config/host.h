// SPDX-License-Identifier: GPL-2.0-or-later
// Local host facts drbdadm needs: the node name and whether an address is
// configured on a local interface.
#pragma once

#include <string>
#include <string_view>

namespace drbd::cfg {

// uname -n, or $__DRBD_NODE__ when set (as drbd-utils).
std::string LocalNodeName(bool* from_env = nullptr);

// Whether ip (af "ipv4"/"ipv6"/...) is configured on a local interface.
bool HaveIp(std::string_view af, std::string_view ip);

}  // namespace drbd::cfg
