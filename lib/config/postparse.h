// SPDX-License-Identifier: GPL-2.0-or-later
// Post-processing of a parsed Config, as drbd-utils 9.22 does between
// parsing and running a command: host matching (`on`, `floating`,
// `stacked-on-top-of`), implicit node-ids, implicit connections and
// connection-mesh expansion, peer devices, inheritance from `common` /
// template-file (expand_common), and whole-config validation.
#pragma once

#include <string>

#include "lib/config/ast.h"
#include "lib/config/diag.h"

namespace drbd::cfg {

struct PostParseOptions {
  std::string hostname;        // local node name: uname -n or __DRBD_NODE__
  bool match_on_proxy = false; // proxy commands match hosts by proxy section
  bool drbdsetup_show = false; // the Config came from `drbdsetup show`
  bool dry_run = false;        // drbdadm -d
  bool no_tty = false;         // stdin or stdout is not a terminal
  bool stacked = false;        // drbdadm -S / --stacked
  // A DRBD 8.4 module runs it: no node-ids are derived for two-host
  // resources (drbdadm-84 has none; loopback pairs hash equally).
  bool module_84 = false;
  // Helper programs as drbdadm runs them (a bare name is looked up in
  // $PATH); checked for the drbd-peer-outdater permission warning.
  std::string drbdsetup = "drbdsetup";
  std::string drbdmeta = "drbdmeta";
};

// drbd-utils post_parse(): resolve hosts/me/peers, implicit connections,
// mesh, peer devices, stacked binding.
// Errors are emitted to diag and clear cfg.valid; processing continues (the
// caller stops at GlobalValidate). Throws FatalConfigError where drbd-utils
// exits: a uniqueness conflict (exit 10, via CheckUniq) or equal address
// hashes for implicit node-ids ("BAD LUCK, equal hashes", exit 20).
void PostParse(Config& cfg, const PostParseOptions& opts, DiagSink& diag);

// drbd-utils expand_common(): inherit common/template options into
// resources, volumes, connections, peer devices. Every inherited option is
// inserted at the head of the target list (so `-d` argument order matches
// drbd-utils), marked inherited. Sets the default device /dev/drbdN and
// turns `disk none` into "no disk". An option inherited twice with different
// values is an ambiguity error (clears cfg.valid); comparing non-numbers as
// numbers throws FatalConfigError (exit 20), as drbd-utils exits there.
void ExpandCommon(Config& cfg, const PostParseOptions& opts, DiagSink& diag);

// drbd-utils global_validate_maybe_expand_die_if_invalid(): per resource,
// validate (resync-after targets, host sections, discard-node names, proxy
// sections, dopd permission warnings) and, when expand, convert resync-after
// to minor numbers and after-sb-0pri discard-node-NAME to discard-local /
// discard-remote. An unknown resync-after target is dropped with a message
// when opts.no_tty, else an error. Throws FatalConfigError(kConfigInvalid),
// without a further message, as soon as cfg.valid is false after a resource.
void GlobalValidate(Config& cfg, bool expand, const PostParseOptions& opts, DiagSink& diag);

// Helpers shared with drbdadm (commands, adjust):
void SetMeInResource(Resource& res, const PostParseOptions& opts, DiagSink& diag);
void SetPeerInResource(Resource& res, bool peer_required, DiagSink& diag);
// As the two above, clearing cfg.valid where drbd-utils clears config_valid
// (the overloads without cfg only emit). drbdsetup_show: the resource was
// parsed from `drbdsetup show` (drbd-utils' DRBDSETUP_SHOW flag): a peer is
// required and no implicit `bitmap no` peer-device options are added.
void SetMeInResource(Config& cfg, Resource& res, const PostParseOptions& opts, DiagSink& diag);
void SetPeerInResource(Config& cfg, Resource& res, bool peer_required, bool drbdsetup_show,
                       DiagSink& diag);
// drbd-utils names_to_str_c(): names joined by sep, "UNKNOWN" when empty.
std::string NamesToStr(const Names& names, char sep = ' ');
HostInfo* FindHostInfoByName(Resource& res, std::string_view name);
Resource* ResByName(Config& cfg, std::string_view name);
PeerDevice* FindPeerDevice(Connection& conn, int vnr);
bool PeerDiskless(const PeerDevice& pd);
bool AddressesEqual(const Address& a, const Address& b);
// Appends to key a byte string that is equal for two addresses exactly when
// AddressesEqual() holds for them (af, port and address text; IPv6 addresses
// by their 16 bytes when they parse), so a hash table can stand in for
// drbd-utils' address tree.
void AppendAddressKey(const Address& a, std::string* key);

}  // namespace drbd::cfg
