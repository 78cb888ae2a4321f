// SPDX-License-Identifier: GPL-2.0-or-later
// Clone meta and DRBD configuration checks; see clone_check.h. drbdadm
// dump-xml is read with libxml2's tree API.
#include "lib/ocf/clone_check.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <charconv>
#include <memory>

namespace drbd::ocf {

namespace {

bool IsElement(const xmlNode* n, std::string_view name) {
  return n->type == XML_ELEMENT_NODE &&
         std::string_view(reinterpret_cast<const char*>(n->name)) == name;
}

std::string Prop(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

// The value of `option` in the direct <section name=…> children of `n`
// (sections in `sections` order); nullopt when not set there.
std::optional<std::string> OptionIn(const xmlNode* n, std::initializer_list<const char*> sections,
                                    const char* option) {
  if (n == nullptr) return std::nullopt;
  for (const char* section : sections)
    for (const xmlNode* s = n->children; s != nullptr; s = s->next) {
      if (!IsElement(s, "section") || Prop(s, "name") != section) continue;
      for (const xmlNode* o = s->children; o != nullptr; o = o->next)
        if (IsElement(o, "option") && Prop(o, "name") == option) {
          std::string v = Prop(o, "value");
          return v.empty() ? "yes" : v;
        }
    }
  return std::nullopt;
}

// connection > resource > common.
std::optional<std::string> Effective(const xmlNode* conn, const xmlNode* res, const xmlNode* common,
                                     std::initializer_list<const char*> sections,
                                     const char* option) {
  for (const xmlNode* level : {conn, res, common})
    if (auto v = OptionIn(level, sections, option)) return v;
  return std::nullopt;
}

std::optional<int> ParseInt(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The first of `keys` that is set: (text, parsed value).
std::pair<std::string, std::optional<int>> MetaInt(const EnvLookup& env,
                                                   std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (std::optional<std::string> v = env(std::string("OCF_RESKEY_CRM_meta_") + k); v)
      return {*v, ParseInt(*v).value_or(-1)};
  return {"", std::nullopt};
}

}  // namespace

bool ParseDumpXml(std::string_view xml, const std::string& resource, DrbdConfFacts* out,
                  std::string* error) {
  *out = DrbdConfFacts{};
  std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "dump.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      &xmlFreeDoc);
  if (!doc) {
    *error = "drbdadm dump-xml output is not XML";
    return false;
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  const xmlNode* common = nullptr;
  const xmlNode* res = nullptr;
  if (root != nullptr && IsElement(root, "resource") && Prop(root, "name") == resource) res = root;
  for (const xmlNode* c = root != nullptr ? root->children : nullptr; c != nullptr; c = c->next) {
    if (IsElement(c, "common")) common = c;
    if (IsElement(c, "resource") && Prop(c, "name") == resource) res = c;
  }
  if (res == nullptr) {
    *error = "drbdadm dump-xml has no resource '" + resource + "'";
    return false;
  }
  std::vector<const xmlNode*> conns;
  for (const xmlNode* c = res->children; c != nullptr; c = c->next)
    if (IsElement(c, "connection")) conns.push_back(c);
  if (conns.empty()) conns.push_back(nullptr);
  out->allow_two_primaries = true;
  for (const xmlNode* conn : conns) {
    const std::string v =
        Effective(conn, res, common, {"net"}, "allow-two-primaries").value_or("no");
    out->allow_two_primaries = out->allow_two_primaries && v == "yes";
    if (std::optional<std::string> f = Effective(conn, res, common, {"net", "disk"}, "fencing");
        f && conn == conns.front())
      out->fencing = *f;
  }
  return true;
}

CloneMeta ReadCloneMeta(const EnvLookup& env) {
  CloneMeta m;
  std::tie(m.clone_max_text, m.clone_max) = MetaInt(env, {"clone_max"});
  std::tie(m.clone_node_max_text, m.clone_node_max) = MetaInt(env, {"clone_node_max"});
  std::tie(m.promoted_max_text, m.promoted_max) = MetaInt(env, {"promoted_max", "master_max"});
  std::tie(m.promoted_node_max_text, m.promoted_node_max) =
      MetaInt(env, {"promoted_node_max", "master_node_max"});
  if (std::optional<std::string> n = env("OCF_RESKEY_CRM_meta_notify"))
    m.notify = ParseOcfBool(*n).value_or(false);
  m.notify_vars_present = env("OCF_RESKEY_CRM_meta_notify_start_uname").has_value();
  return m;
}

bool NeedsDrbdConfFacts(const CloneMeta& meta) {
  return meta.promoted_max && *meta.promoted_max >= 2;
}

CloneCheck CheckClone(std::string_view action, const CloneMeta& meta, const Params& params,
                      const DrbdConfFacts* conf) {
  CloneCheck r;
  if (action == "stop" || action == "monitor" || action == "meta-data") return r;
  auto refuse = [&](std::string message) {
    r.code = Exit::kErrConfigured;
    r.message = std::move(message);
    return r;
  };
  auto expect = [&](const char* what, const std::optional<int>& v, const std::string& text,
                    const char* op, int limit) -> bool {
    if (!v) return true;
    const bool ok = std::string_view(op) == "=" ? *v == limit : (*v >= 0 && *v <= limit);
    if (!ok)
      refuse(std::string("meta parameter misconfigured, expected ") + what + " " + op + " " +
             std::to_string(limit) + ", but found " + text + ".");
    return ok;
  };
  if (!expect("clone-node-max", meta.clone_node_max, meta.clone_node_max_text, "=", 1)) return r;
  if (!expect("promoted-node-max", meta.promoted_node_max, meta.promoted_node_max_text, "=", 1))
    return r;
  if (!expect("promoted-max", meta.promoted_max, meta.promoted_max_text, "<=", 2)) return r;
  if (NeedsDrbdConfFacts(meta)) {
    if (!expect("clone-max", meta.clone_max, meta.clone_max_text, "<=", 2)) return r;
    if (conf == nullptr) return refuse("the DRBD configuration could not be read");
    if (action == "validate-all" || action == "start" || action == "promote") {
      if (!conf->allow_two_primaries)
        return refuse("promoted-max=" + meta.promoted_max_text + ", but DRBD resource " +
                      params.drbd_resource +
                      " does not allow two primaries: set 'allow-two-primaries yes;' in its net "
                      "section");
    }
    if (conf->fencing != "resource-and-stonith")
      r.warnings.push_back("promoted-max=" + meta.promoted_max_text + " with fencing " +
                           conf->fencing +
                           ": dual-primary needs 'fencing resource-and-stonith;' "
                           "in the net section of " +
                           params.drbd_resource + " (and STONITH) to be safe from data divergence");
  }
  const bool needs_notify =
      action == "start" || action == "promote" || action == "demote" || action == "notify";
  if (needs_notify && meta.clone_max && !params.ignore_missing_notifications && !meta.notify &&
      !meta.notify_vars_present)
    return refuse(
        "you really should enable notify when using this RA (or set "
        "ignore_missing_notifications=true)");
  return r;
}

}  // namespace drbd::ocf
