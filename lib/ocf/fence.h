// SPDX-License-Identifier: GPL-2.0-or-later
// The fence-peer / unfence-peer handlers' decisions (drop-in for drbd-utils'
// crm-fence-peer.9.sh and crm-unfence-peer.9.sh): the handler environment
// drbdadm passes, the "promotion forbidden on every node but those with
// UpToDate data" location constraint (its ids and rule shape, so constraints
// placed by the shell scripts are recognised), the facts read from the CIB
// XML (`cibadmin --query`: the promotable clone's id, the constraint, node
// states), and what to do with them, including DRBD's fence-peer exit codes.
// Pure functions: ocf/fence_handler.cc runs the commands. See
// docs/ocf-agent.md "Fencing handlers".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/ocf/decide.h"
#include "lib/ocf/params.h"

namespace drbd::ocf {

// What drbdadm exports to a fence-peer/unfence-peer handler (DRBD 9), plus
// DRBD_PEER (DRBD 8.4, the only peer).
struct FenceEnv {
  std::string resource;                      // DRBD_RESOURCE (required)
  std::optional<int> my_node_id;             // DRBD_MY_NODE_ID
  std::optional<uint64_t> up_to_date_nodes;  // UP_TO_DATE_NODES, "0x…" bit mask by node id
  std::map<int, std::string> node_names;     // DRBD_NODE_ID_<n> → host name, n in 0..31
  std::string peer;                          // DRBD_PEER (8.4 fallback)
};

// Reads FenceEnv. False with *error when DRBD_RESOURCE is missing or
// UP_TO_DATE_NODES / DRBD_MY_NODE_ID are malformed (the message names the
// variable and value).
bool ParseFenceEnv(const EnvLookup& env, FenceEnv* out, std::string* error);

// The handlers' command-line options, crm-fence-peer.9.sh's names:
// --resource/-r, --master-id/-i, --role/-l, --id-prefix/-p,
// --fencing-attribute/-a (only "#uname"), --quiet,
// --unfence-only-if-owner-match, --unreachable-peer-is-outdated. The
// script's timing and locking options (--timeout, --dc-timeout,
// --net-hickup, --flock-*, --lock-*, --logfacility, --CTS-mode,
// --suicide-on-failure-if-primary) are accepted and ignored, so existing
// handler lines and unfence_extra_args keep working.
struct FenceOptions {
  std::string resource;   // overrides DRBD_RESOURCE
  std::string master_id;  // "" = find the promotable clone in the CIB
  std::string id_prefix = "drbd-fence-by-handler";
  std::string role = "Master";  // the script's default; Pacemaker 2.1 reads it as Promoted
  bool quiet = false;
  bool unfence_only_if_owner_match = false;
  bool unreachable_peer_is_outdated = false;
};
bool ParseFenceArgs(const std::vector<std::string>& args, FenceOptions* out, std::string* error);

// Node ids split by UP_TO_DATE_NODES: include = nodes with UpToDate data
// (promotion stays allowed there), exclude = the others. Without
// UP_TO_DATE_NODES (DRBD 8.4): include = this host, exclude = DRBD_PEER.
struct NodeLists {
  std::map<int, std::string> include;
  std::map<int, std::string> exclude;
};
// False with *error when this node is not in UP_TO_DATE_NODES or
// DRBD_MY_NODE_ID is missing while the mask is set.
bool SetupNodeLists(const FenceEnv& env, const std::string& hostname, NodeLists* out,
                    std::string* error);

// "drbd-fence-by-handler" + "-<resource>" unless the prefix already ends so.
std::string FullIdPrefix(const std::string& id_prefix, const std::string& resource);

// One <expression> of the constraint's rule.
struct RuleExpression {
  std::string attribute;  // "#uname"
  std::string operation;  // "ne"
  std::string value;      // host name
  std::string id;         // "<prefix>-expr-<node id>-<master id>"
};

// A <rsc_location> with one <rule>.
struct LocationConstraint {
  std::string id;       // "<prefix>-<master id>"
  std::string rsc;      // the promotable clone's id
  std::string rule_id;  // "<prefix>-rule-<master id>"
  std::string role;     // "Master" / "Promoted"
  std::string score;    // "-INFINITY"
  std::vector<RuleExpression> expressions;
};

// The constraint the handler places: promotion forbidden (-INFINITY for
// `role`) on every node whose #uname is none of `include`'s names.
LocationConstraint NewConstraint(const std::string& full_prefix, const std::string& master_id,
                                 const std::string& role, const NodeLists& lists);

// The XML given to cibadmin, byte-identical to what crm-fence-peer.9.sh
// builds (attribute order, one space indentation, newline-terminated).
std::string ConstraintXml(const LocationConstraint& c);
// `<rsc_location rsc="…" id="…"/>`: what cibadmin --delete needs.
std::string ConstraintDeleteXml(const LocationConstraint& c);

// Same rsc, role and score and the same set of (attribute, operation,
// value) expressions; ids and order do not matter (Master = Promoted).
bool EquivalentConstraints(const LocationConstraint& a, const LocationConstraint& b);

// Whether the constraint forbids promotion on `uname`: it is not one of the
// "#uname ne" values.
bool ConstraintRejects(const LocationConstraint& c, const std::string& uname);

// A node as the CIB status section describes it (<node_state>).
enum class PeerState {
  kReachable,    // in the membership and its controller online
  kFenced,       // cleanly down: expected down, out of the membership, controller offline
  kUnreachable,  // anything else (lost, being fenced, no node_state)
};
std::string_view PeerStateName(PeerState s);

// What the handler needs from `cibadmin --query` output.
struct CibFacts {
  std::string master_id;  // id of the clone/master holding drbd_resource=<res>; "" = none
  std::optional<LocationConstraint> constraint;  // the one with id <prefix>-<master id>
  std::map<std::string, PeerState> node_states;  // by uname
  bool have_quorum = false;                      // <cib have-quorum="1">
};

// Parses the CIB. `master_id` = "" looks the clone up by drbd_resource.
// False with *error when the XML does not parse or is not a <cib>.
bool ParseCib(std::string_view xml, const std::string& resource, const std::string& master_id,
              const std::string& full_prefix, CibFacts* out, std::string* error);

// DRBD's fence-peer handler exit codes (drbd.conf(5), handlers).
enum class FenceExit : int {
  kGenericError = 1,     // nothing known to be fenced; DRBD keeps I/O frozen / retries
  kPeerOutdated = 3,     // peer already Outdated or worse
  kPeerFenced = 4,       // constraint placed, peer reachable (it will be outdated)
  kPeerUnreachable = 5,  // peer unreachable, assumed dead
  kOutdateSelf = 6,      // peer has better data / is Primary
  kPeerStonithed = 7,    // peer node-level fenced
};

// The fence decision.
struct FenceDecision {
  enum class Action { kNone, kCreate, kReplace };
  Action action = Action::kNone;
  FenceExit exit = FenceExit::kGenericError;  // when the CIB update (if any) succeeds
  std::string message;                        // "INFO …" / "WARNING …" log line
};

// `local` is this node's DRBD state; `peers` the states of the exclude
// nodes (by name). Follows crm-fence-peer.9.sh: an equivalent constraint
// already in place → 4; one that rejects this node → 1; all peer disks
// UpToDate → 1 and no constraint; peers reachable and local disks
// Consistent → place, 4; peers cleanly fenced and local UpToDate → place, 7;
// local UpToDate → place, 5; --unreachable-peer-is-outdated and Consistent →
// place, 5; else 5 without a constraint.
FenceDecision DecideFence(const StateSummary& local, const CibFacts& cib,
                          const LocationConstraint& wanted, const NodeLists& lists,
                          const std::string& hostname, const FenceOptions& opts);

// The unfence decision.
struct UnfenceDecision {
  enum class Action { kNone, kRemove, kReplace };
  Action action = Action::kNone;
  std::string message;  // "" when nothing worth saying (or --quiet)
};

// No constraint → nothing; with --unfence-only-if-owner-match a constraint
// rejecting this node stays; local and all peer disks UpToDate → remove;
// the constraint already the wanted one → nothing; else narrow it to the
// now UpToDate nodes (replace).
UnfenceDecision DecideUnfence(const StateSummary& local, const CibFacts& cib,
                              const LocationConstraint& wanted, const NodeLists& lists,
                              const std::string& hostname, const FenceOptions& opts);

}  // namespace drbd::ocf
