// SPDX-License-Identifier: GPL-2.0-or-later
// The option table (lib/spec/options.def) and the genl table
// (lib/spec/genl.def) describe the same kernel fields: every changeable
// field of the five configuration sets has an option row, every option row
// of those contexts names an existing field of the right set, under the
// name drbd-utils gives it, with the same default.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "lib/config/options.h"
#include "lib/genl/family.h"

namespace drbd::genl {
namespace {

using cfg::OptContext;

struct Link {
  Set set;
  std::vector<OptContext> contexts;
  // Fields with no drbdsetup option, and why.
  std::map<std::string, std::string> no_option;
};

const std::vector<Link>& Links() {
  static const std::vector<Link> links = {
      {Set::kDiskConf,
       {OptContext::kAttach, OptContext::kDiskOptions},
       {{"backing_dev", "attach argument"},
        {"meta_dev", "attach argument"},
        {"meta_dev_idx", "attach argument"},
        {"unplug_watermark", "no drbdsetup option in drbd-utils 9"}}},
      {Set::kResourceOpts,
       {OptContext::kResourceOptions},
       {{"node_id", "new-resource argument"},
        {"drbd8_compat_mode", "set by drbdsetup itself, never shown"}}},
      {Set::kNetConf, {OptContext::kNetOptions, OptContext::kShowNetOptions, OptContext::kNewPeer}, {}},
      {Set::kPeerDeviceOpts, {OptContext::kPeerDeviceOptions}, {}},
      {Set::kDeviceConf, {OptContext::kNewMinor}, {}},
  };
  return links;
}

// drbdsetup option names that are not the field name with '-' for '_'
// (drbd-utils config_flags.c; /work/shared/spec/genl.md §7).
const std::map<std::string, std::string>& Renames() {
  static const std::map<std::string, std::string> r = {
      {"size", "disk_size"},
      {"bitmap@3", "d_bitmap"},
      {"max-io-depth", "nr_requests"},
      {"on-no-data-accessible", "on_no_data"},
      {"quorum-minimum-redundancy", "quorum_min_redundancy"},
      {"on-suspended-primary-outdated", "on_susp_primary_outdated"},
      {"drbd8-api-compatibility", "explicit_drbd8_compat"},
      {"data-integrity-alg", "integrity_alg"},
      {"protocol", "wire_protocol"},
      {"ping-timeout", "ping_timeo"},
      {"after-sb-0pri", "after_sb_0p"},
      {"after-sb-1pri", "after_sb_1p"},
      {"after-sb-2pri", "after_sb_2p"},
      {"congestion-fill", "cong_fill"},
      {"congestion-extents", "cong_extents"},
      {"allow-two-primaries", "two_primaries"},
      {"fencing", "fencing_policy"},
      {"_name", "name"},
      {"transport", "transport_name"},
      {"socket-check-timeout", "sock_check_timeo"},
      {"diskless", "intentional_diskless"},
  };
  return r;
}

std::string FieldNameFor(const cfg::OptionDef& o, Set set) {
  std::string key = std::string(o.name) + "@" + std::to_string(static_cast<int>(set));
  if (auto it = Renames().find(key); it != Renames().end()) return it->second;
  if (auto it = Renames().find(std::string(o.name)); it != Renames().end()) return it->second;
  std::string f(o.name);
  for (char& c : f) c = c == '-' ? '_' : c;
  return f;
}

TEST(GenlOptionsLink, EveryOptionRowNamesItsField) {
  int rows = 0;
  for (const Link& l : Links()) {
    for (OptContext ctx : l.contexts) {
      for (const cfg::OptionDef* o : cfg::Context(ctx).fields) {
        SCOPED_TRACE(std::string(cfg::Context(ctx).name) + " " + std::string(o->name));
        ASSERT_GE(o->genl_attr, 1) << "option without a genl attribute in a genl context";
        const AttrDesc* a = FindAttr(l.set, static_cast<uint16_t>(o->genl_attr));
        ASSERT_NE(a, nullptr) << "no field " << o->genl_attr << " in " << GetSet(l.set).struct_name;
        EXPECT_EQ(std::string(a->name), FieldNameFor(*o, l.set));
        ++rows;
      }
    }
  }
  EXPECT_GT(rows, 80);
}

TEST(GenlOptionsLink, EveryChangeableFieldHasAnOption) {
  for (const Link& l : Links()) {
    std::set<int> covered;
    for (OptContext ctx : l.contexts)
      for (const cfg::OptionDef* o : cfg::Context(ctx).fields) covered.insert(o->genl_attr);
    for (const AttrDesc& a : GetSet(l.set).attrs) {
      bool exempt = l.no_option.count(std::string(a.name)) != 0;
      EXPECT_EQ(covered.count(a.nr) != 0, !exempt)
          << GetSet(l.set).struct_name << "." << a.name << (exempt ? " is exempt but has an option"
                                                                    : " has no option row");
    }
  }
}

// Numeric, boolean and enum defaults agree (options.def keeps defaults in
// kernel units, like drbd_limits.h).
TEST(GenlOptionsLink, DefaultsAgree) {
  int compared = 0;
  for (const Link& l : Links()) {
    for (OptContext ctx : l.contexts) {
      for (const cfg::OptionDef* o : cfg::Context(ctx).fields) {
        const AttrDesc* a = FindAttr(l.set, static_cast<uint16_t>(o->genl_attr));
        if (!a || !o->has_default || !(a->flags & kDef)) continue;
        if (a->type == AttrType::kStr || o->type == cfg::OptType::kString) continue;
        int64_t opt_def = o->def;
        if (o->type == cfg::OptType::kBoolean || o->type == cfg::OptType::kFlag)
          opt_def = o->bool_def ? 1 : o->def;
        EXPECT_EQ(opt_def, a->def) << GetSet(l.set).struct_name << "." << a->name << " vs --"
                                   << o->name;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 60);
}

}  // namespace
}  // namespace drbd::genl
