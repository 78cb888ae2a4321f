// SPDX-License-Identifier: GPL-2.0-or-later
// Fencing handler decisions and CIB parsing; see fence.h. The CIB is read
// with libxml2's tree API (the library Pacemaker itself uses), never with
// text matching.
#include "lib/ocf/fence.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <set>
#include <tuple>

#include "lib/base/strings.h"

namespace drbd::ocf {

namespace {

std::optional<int64_t> ParseDecimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

bool IsName(const xmlNode* n, std::string_view name) {
  return n->type == XML_ELEMENT_NODE &&
         std::string_view(reinterpret_cast<const char*>(n->name)) == name;
}

std::string Attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

bool HasAttr(const xmlNode* n, const char* name) {
  return xmlHasProp(n, reinterpret_cast<const xmlChar*>(name)) != nullptr;
}

const xmlNode* Child(const xmlNode* n, std::string_view name) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next)
    if (IsName(c, name)) return c;
  return nullptr;
}

// A primitive below `n` with instance_attributes/nvpair drbd_resource=<res>.
bool HoldsDrbdResource(const xmlNode* n, const std::string& resource) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (IsName(c, "primitive")) {
      for (const xmlNode* ia = c->children; ia != nullptr; ia = ia->next) {
        if (!IsName(ia, "instance_attributes")) continue;
        for (const xmlNode* nv = ia->children; nv != nullptr; nv = nv->next)
          if (IsName(nv, "nvpair") && Attr(nv, "name") == "drbd_resource" &&
              Attr(nv, "value") == resource)
            return true;
      }
    } else if (IsName(c, "group") && HoldsDrbdResource(c, resource)) {
      return true;
    }
  }
  return false;
}

// The first clone/master (document order) holding the DRBD resource.
std::string FindMasterId(const xmlNode* n, const std::string& resource) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if ((IsName(c, "clone") || IsName(c, "master")) && HoldsDrbdResource(c, resource))
      return Attr(c, "id");
    std::string found = FindMasterId(c, resource);
    if (!found.empty()) return found;
  }
  return "";
}

const xmlNode* FindById(const xmlNode* n, std::string_view element, const std::string& id) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (IsName(c, element) && Attr(c, "id") == id) return c;
    if (const xmlNode* f = FindById(c, element, id)) return f;
  }
  return nullptr;
}

LocationConstraint ReadConstraint(const xmlNode* loc) {
  LocationConstraint c;
  c.id = Attr(loc, "id");
  c.rsc = Attr(loc, "rsc");
  if (const xmlNode* rule = Child(loc, "rule")) {
    c.rule_id = Attr(rule, "id");
    c.role = Attr(rule, "role");
    c.score = Attr(rule, "score");
    for (const xmlNode* e = rule->children; e != nullptr; e = e->next)
      if (IsName(e, "expression"))
        c.expressions.push_back(
            {Attr(e, "attribute"), Attr(e, "operation"), Attr(e, "value"), Attr(e, "id")});
  }
  return c;
}

// Pacemaker 2.1 writes "true"/"false"; later versions a timestamp for true.
bool CibTrue(const std::string& v) { return !v.empty() && v != "false" && v != "0"; }

// The node_state rules crm-fence-peer.9.sh applies (after Pacemaker's
// determine_online_status_fencing): cleanly down when expected down, out of
// the membership and the controller not online; reachable when member and
// online and not banned; otherwise Pacemaker is (or will be) fencing it.
PeerState NodeStateOf(const xmlNode* ns) {
  const std::string crmd = Attr(ns, "crmd");
  const bool crmd_online = crmd == "online" || (crmd != "offline" && CibTrue(crmd));
  const bool in_ccm_known = HasAttr(ns, "in_ccm");
  const bool in_ccm = CibTrue(Attr(ns, "in_ccm"));
  const std::string expected = HasAttr(ns, "expected") ? Attr(ns, "expected") : "down";
  if (expected == "down" && in_ccm_known && !in_ccm && !crmd_online) return PeerState::kFenced;
  if (in_ccm && crmd_online && Attr(ns, "join") != "banned") return PeerState::kReachable;
  return PeerState::kUnreachable;
}

std::string CanonicalRole(const std::string& role) {
  if (role == "Master") return "Promoted";
  if (role == "Slave") return "Unpromoted";
  return role;
}

using ExprKey = std::tuple<std::string, std::string, std::string>;
std::multiset<ExprKey> ExprSet(const LocationConstraint& c) {
  std::multiset<ExprKey> s;
  for (const RuleExpression& e : c.expressions) s.emplace(e.attribute, e.operation, e.value);
  return s;
}

}  // namespace

bool ParseFenceEnv(const EnvLookup& env, FenceEnv* out, std::string* error) {
  *out = FenceEnv{};
  if (auto r = env("DRBD_RESOURCE")) out->resource = *r;
  if (auto m = env("UP_TO_DATE_NODES"); m && !m->empty()) {
    std::string_view hex = *m;
    uint64_t v = 0;
    bool ok = hex.size() > 2 && (hex.substr(0, 2) == "0x" || hex.substr(0, 2) == "0X");
    if (ok) {
      auto [p, ec] = std::from_chars(hex.data() + 2, hex.data() + hex.size(), v, 16);
      ok = ec == std::errc() && p == hex.data() + hex.size();
    }
    if (!ok) {
      *error = "unexpected input UP_TO_DATE_NODES=" + *m + ", expected 0x... hex mask";
      return false;
    }
    out->up_to_date_nodes = v;
  }
  if (auto id = env("DRBD_MY_NODE_ID"); id && !id->empty()) {
    std::optional<int64_t> v = ParseDecimal(*id);
    if (!v || *v > 31) {
      *error = "unexpected input DRBD_MY_NODE_ID=" + *id + ", expected a node id 0..31";
      return false;
    }
    out->my_node_id = static_cast<int>(*v);
  }
  for (int i = 0; i < 32; ++i)
    if (auto n = env("DRBD_NODE_ID_" + std::to_string(i)); n && !n->empty())
      out->node_names[i] = *n;
  if (auto p = env("DRBD_PEER")) out->peer = *p;
  return true;
}

bool ParseFenceArgs(const std::vector<std::string>& args, FenceOptions* out, std::string* error) {
  struct ValueOpt {
    std::string_view long_name, short_name;
    std::string* target;  // nullptr: accepted and ignored
  };
  const ValueOpt value_opts[] = {
      {"--resource", "-r", &out->resource},
      {"--master-id", "-i", &out->master_id},
      {"--role", "-l", &out->role},
      {"--id-prefix", "-p", &out->id_prefix},
      {"--fencing-attribute", "-a", nullptr},
      {"--timeout", "-t", nullptr},
      {"--dc-timeout", "-d", nullptr},
      {"--net-hickup", "", nullptr},
      {"--network-hickup", "", nullptr},
      {"--flock-timeout", "", nullptr},
      {"--lock-dir", "", nullptr},
      {"--lock-file", "", nullptr},
      {"--logfacility", "", nullptr},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--quiet") {
      out->quiet = true;
      continue;
    }
    if (a == "--unfence-only-if-owner-match") {
      out->unfence_only_if_owner_match = true;
      continue;
    }
    if (a == "--unreachable-peer-is-outdated") {
      out->unreachable_peer_is_outdated = true;
      continue;
    }
    if (a == "--flock-required" || a == "--CTS-mode" || a == "--suicide-on-failure-if-primary")
      continue;
    bool matched = false;
    for (const ValueOpt& o : value_opts) {
      std::string value;
      std::string_view av = a;
      if (av.size() > o.long_name.size() && av.substr(0, o.long_name.size()) == o.long_name &&
          av[o.long_name.size()] == '=') {
        value = a.substr(o.long_name.size() + 1);
      } else if (av == o.long_name || (!o.short_name.empty() && av == o.short_name)) {
        if (i + 1 >= args.size()) {
          *error = "option " + a + " needs a value";
          return false;
        }
        value = args[++i];
      } else {
        continue;
      }
      matched = true;
      if (o.long_name == "--fencing-attribute" && value != "#uname") {
        *error = "--fencing-attribute " + value + " is not supported (only #uname)";
        return false;
      }
      if (o.target != nullptr) *o.target = value;
      break;
    }
    if (!matched) {
      *error = "unknown option '" + a + "'";
      return false;
    }
  }
  return true;
}

bool SetupNodeLists(const FenceEnv& env, const std::string& hostname, NodeLists* out,
                    std::string* error) {
  *out = NodeLists{};
  if (!env.up_to_date_nodes) {
    out->include[0] = hostname;
    if (!env.peer.empty()) out->exclude[1] = env.peer;
    return true;
  }
  if (!env.my_node_id) {
    *error = "DRBD_MY_NODE_ID is not set";
    return false;
  }
  const uint64_t mask = *env.up_to_date_nodes;
  if ((mask & (uint64_t{1} << *env.my_node_id)) == 0) {
    *error = "I (" + std::to_string(*env.my_node_id) +
             ") am not a member of the UP_TO_DATE_NODES set myself";
    return false;
  }
  for (const auto& [id, name] : env.node_names) {
    if ((mask & (uint64_t{1} << id)) != 0)
      out->include[id] = name;
    else
      out->exclude[id] = name;
  }
  return true;
}

std::string FullIdPrefix(const std::string& id_prefix, const std::string& resource) {
  const std::string suffix = "-" + resource;
  if (id_prefix.size() >= suffix.size() &&
      id_prefix.compare(id_prefix.size() - suffix.size(), suffix.size(), suffix) == 0)
    return id_prefix;
  return id_prefix + suffix;
}

LocationConstraint NewConstraint(const std::string& full_prefix, const std::string& master_id,
                                 const std::string& role, const NodeLists& lists) {
  LocationConstraint c;
  c.id = full_prefix + "-" + master_id;
  c.rsc = master_id;
  c.rule_id = full_prefix + "-rule-" + master_id;
  c.role = role;
  c.score = "-INFINITY";
  for (const auto& [id, name] : lists.include) {
    std::string expr_id = full_prefix;
    expr_id += "-expr-";
    expr_id += std::to_string(id);
    expr_id += "-";
    expr_id += master_id;
    c.expressions.push_back({"#uname", "ne", name, std::move(expr_id)});
  }
  return c;
}

std::string ConstraintXml(const LocationConstraint& c) {
  std::string x = "<rsc_location rsc=\"" + XmlEscape(c.rsc) + "\" id=\"" + XmlEscape(c.id) +
                  "\">\n <rule role=\"" + XmlEscape(c.role) + "\" score=\"" + XmlEscape(c.score) +
                  "\" id=\"" + XmlEscape(c.rule_id) + "\">\n";
  for (const RuleExpression& e : c.expressions)
    x += "  <expression attribute=\"" + XmlEscape(e.attribute) + "\" operation=\"" +
         XmlEscape(e.operation) + "\" value=\"" + XmlEscape(e.value) + "\" id=\"" +
         XmlEscape(e.id) + "\"/>\n";
  x += " </rule>\n</rsc_location>\n";
  return x;
}

std::string ConstraintDeleteXml(const LocationConstraint& c) {
  return "<rsc_location rsc=\"" + XmlEscape(c.rsc) + "\" id=\"" + XmlEscape(c.id) + "\"/>";
}

bool EquivalentConstraints(const LocationConstraint& a, const LocationConstraint& b) {
  return a.rsc == b.rsc && CanonicalRole(a.role) == CanonicalRole(b.role) && a.score == b.score &&
         ExprSet(a) == ExprSet(b);
}

bool ConstraintRejects(const LocationConstraint& c, const std::string& uname) {
  return std::none_of(c.expressions.begin(), c.expressions.end(), [&](const RuleExpression& e) {
    return e.attribute == "#uname" && e.operation == "ne" && e.value == uname;
  });
}

std::string_view PeerStateName(PeerState s) {
  switch (s) {
    case PeerState::kReachable:
      return "reachable";
    case PeerState::kFenced:
      return "fenced";
    case PeerState::kUnreachable:
      return "unreachable";
  }
  return "unreachable";
}

bool ParseCib(std::string_view xml, const std::string& resource, const std::string& master_id,
              const std::string& full_prefix, CibFacts* out, std::string* error) {
  *out = CibFacts{};
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "cib.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      &xmlFreeDoc);
  if (!doc) {
    *error = "cibadmin output is not XML";
    return false;
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !IsName(root, "cib")) {
    *error = "cibadmin output is not a <cib> document";
    return false;
  }
  out->have_quorum = CibTrue(Attr(root, "have-quorum"));
  const xmlNode* config = Child(root, "configuration");
  if (config != nullptr) {
    if (const xmlNode* resources = Child(config, "resources"))
      out->master_id = master_id.empty() ? FindMasterId(resources, resource) : master_id;
    else
      out->master_id = master_id;
    if (!out->master_id.empty()) {
      if (const xmlNode* cons = Child(config, "constraints"))
        if (const xmlNode* loc = FindById(cons, "rsc_location", full_prefix + "-" + out->master_id))
          out->constraint = ReadConstraint(loc);
    }
  } else {
    out->master_id = master_id;
  }
  if (const xmlNode* status = Child(root, "status"))
    for (const xmlNode* ns = status->children; ns != nullptr; ns = ns->next)
      if (IsName(ns, "node_state")) out->node_states[Attr(ns, "uname")] = NodeStateOf(ns);
  return true;
}

FenceDecision DecideFence(const StateSummary& local, const CibFacts& cib,
                          const LocationConstraint& wanted, const NodeLists& lists,
                          const std::string& hostname, const FenceOptions& opts) {
  FenceDecision d;
  const std::string& id = wanted.id;
  if (cib.constraint) {
    if (EquivalentConstraints(*cib.constraint, wanted)) {
      d.exit = FenceExit::kPeerFenced;
      d.message = "INFO suitable constraint already placed: '" + id + "'";
      return d;
    }
    if (ConstraintRejects(*cib.constraint, hostname)) {
      d.message = "WARNING constraint already exists, and rejects me: '" + id +
                  "'; DATA INTEGRITY at RISK: could not place the fencing constraint!";
      return d;
    }
  }
  if (local.pdsk_all_up_to_date) {
    d.message = "WARNING All peer disks are UpToDate! Did not place the constraint.";
    return d;
  }
  if (!local.configured) {
    d.message = "WARNING could not determine my disk state: did not place the constraint!";
    return d;
  }
  bool all_reachable = true;
  bool all_fenced = true;
  for (const auto& [node_id, name] : lists.exclude) {
    if (cib.constraint && ConstraintRejects(*cib.constraint, name)) continue;  // done already
    auto it = cib.node_states.find(name);
    PeerState s = it == cib.node_states.end() ? PeerState::kUnreachable : it->second;
    all_reachable = all_reachable && s == PeerState::kReachable;
    all_fenced = all_fenced && s == PeerState::kFenced;
  }
  const FenceDecision::Action place =
      cib.constraint ? FenceDecision::Action::kReplace : FenceDecision::Action::kCreate;
  if (all_reachable && local.disk_all_consistent) {
    d.action = place;
    d.exit = FenceExit::kPeerFenced;
    d.message = "INFO peers are reachable, my disk is " +
                std::string(local.disk_all_up_to_date ? "UpToDate" : "Consistent") +
                ": placed constraint '" + id + "'";
  } else if (all_fenced && local.disk_all_up_to_date) {
    d.action = place;
    d.exit = FenceExit::kPeerStonithed;
    d.message =
        "INFO peers are (node-level) fenced, my disk is UpToDate: placed constraint '" + id + "'";
  } else if (local.disk_all_up_to_date) {
    d.action = place;
    d.exit = FenceExit::kPeerUnreachable;
    d.message = "INFO some peer is still UNCLEAN, my disk is UpToDate: placed constraint '" + id +
                "' anyways";
  } else if (opts.unreachable_peer_is_outdated && local.disk_all_consistent) {
    d.action = place;
    d.exit = FenceExit::kPeerUnreachable;
    d.message =
        "WARNING peer is unreachable, my disk is only Consistent: --unreachable-peer-is-outdated "
        "FORCED constraint '" +
        id + "'; This MAY RISK DATA INTEGRITY";
  } else {
    d.exit = FenceExit::kPeerUnreachable;
    d.message =
        "WARNING some peer is UNCLEAN, my disk is not UpToDate, did not place the constraint!";
  }
  return d;
}

UnfenceDecision DecideUnfence(const StateSummary& local, const CibFacts& cib,
                              const LocationConstraint& wanted, const NodeLists& lists,
                              const std::string& hostname, const FenceOptions& opts) {
  UnfenceDecision d;
  if (!cib.constraint) {
    if (!lists.exclude.empty()) {
      std::string names;
      for (const auto& [id, name] : lists.exclude) names += (names.empty() ? "" : " ") + name;
      d.message = "WARNING No constraint in place, called for unfence, but (" + names +
                  ") still supposed to be excluded. Weird.";
    } else if (!opts.quiet) {
      d.message = "No constraint in place, nothing to do.";
    }
    return d;
  }
  if (opts.unfence_only_if_owner_match && ConstraintRejects(*cib.constraint, hostname)) {
    d.message = "WARNING Constraint owner does not match, leaving constraint in place.";
    return d;
  }
  if (local.disk_all_up_to_date && local.pdsk_all_up_to_date) {
    d.action = UnfenceDecision::Action::kRemove;
    d.message = "INFO Removed constraint '" + cib.constraint->id + "'";
    return d;
  }
  if (EquivalentConstraints(*cib.constraint, wanted) || lists.include.empty()) {
    if (!opts.quiet) d.message = "expected constraint still in place, nothing to do";
    return d;
  }
  d.action = UnfenceDecision::Action::kReplace;
  d.message = "INFO only some peers are UpToDate: narrowed constraint '" + wanted.id + "'";
  return d;
}

}  // namespace drbd::ocf
