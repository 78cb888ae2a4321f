// SPDX-License-Identifier: GPL-2.0-or-later
// Local host facts drbdadm needs: the node name and whether an address is
// configured on a local interface.
#pragma once

#include <string>
#include <string_view>

namespace drbd::cfg {

// uname -n, or $__DRBD_NODE__ when set and non-empty (as drbd-utils).
// *from_env (optional) tells which one was used.
std::string LocalNodeName(bool* from_env = nullptr);

// The note drbd-utils 9.22 prints on stderr when __DRBD_NODE__ overrides the
// node name. drbdadm prints it first thing, before the command line is
// parsed (so it also precedes usage errors).
std::string NodeNameOverrideNotice(std::string_view name);

// Whether ip is configured locally, as drbd-utils have_ip():
//  - "ipv4": an address of an interface that is up (the text is read with
//    inet_addr semantics);
//  - "ipv6": an address of any interface ("%scope" suffixes are ignored);
//  - any other family (ssocks, sdp, ...): always true.
bool HaveIp(std::string_view af, std::string_view ip);

}  // namespace drbd::cfg
