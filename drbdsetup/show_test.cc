// SPDX-License-Identifier: GPL-2.0-or-later
#include "drbdsetup/show.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace drbd::setup {
namespace {

using cfg::OptContext;
using cfg::OptionDef;
using cfg::OptType;

// A capture of drbd-utils 9.22 driving DRBD 9.2.18 (shared/spec/captures),
// without its trailing "# cmd:" line; empty if shared/ is not there.
std::string Capture(const std::string& name) {
  const char* env = std::getenv("DRBD_SHARED");
  std::string root = env != nullptr ? env : DRBD_SHARED_DEFAULT;
  std::ifstream in(root + "/spec/captures/drbd-9.2.18/" + name);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  size_t cmd = s.rfind("# cmd:");
  return cmd == std::string::npos ? s : s.substr(0, cmd);
}

// drbd-utils >= 9.23 prints the connection state after the paths; 9.22 (the
// captures) did not. Inserts it the way the newer format has it.
std::string WithCstate(std::string text, std::string_view cstate) {
  std::string marker = "        }\n        net {";
  size_t at = 0;
  while ((at = text.find(marker, at)) != std::string::npos) {
    std::string line = "        _cstate " + std::string(cstate) + ";\n";
    text.insert(at + 10, line);
    at += marker.size() + line.size();
  }
  return text;
}

// The captures' kernel (9.2.18) and utils (9.22) do not know the fields
// added later: our drbdsetup lists those as not supported by the kernel.
// Removes those lines, and sections left empty by that.
std::string WithoutUnknown(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find("_unknown ") != std::string::npos) continue;
    if (!lines.empty() && line.find_first_not_of(' ') != std::string::npos &&
        line.substr(line.find_first_not_of(' ')) == "}" && lines.back().ends_with(" {") &&
        lines.back().find_first_not_of(' ') == line.find_first_not_of(' ')) {
      lines.pop_back();
      continue;
    }
    lines.push_back(line);
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// Every field of ctx at its default, with some overridden.
OptionValues AllDefaults(OptContext ctx, const std::vector<FieldValue>& overrides = {}) {
  OptionValues out;
  for (FieldValue v : notify::DefaultValues(ctx)) {
    if (v.field->after_922) continue;  // the 9.2.18 kernel of the captures does not report these
    for (const FieldValue& o : overrides) {
      if (o.field->name == v.field->name) v = o;
    }
    out.push_back(v);
  }
  return out;
}

FieldValue Num(OptContext ctx, std::string_view name, uint64_t n) {
  FieldValue v;
  v.field = cfg::FindField(cfg::Context(ctx), name);
  v.number = n;
  return v;
}

FieldValue Str(OptContext ctx, std::string_view name, std::string text) {
  FieldValue v = Num(ctx, name, 0);
  v.text = std::move(text);
  return v;
}

std::string Addr4(const char* ip, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin.sin_addr);
  return std::string(reinterpret_cast<const char*>(&sin), sizeof sin);
}

// The two resources of the captures' scenario (r0: node 0, minor 0; r1:
// node 1, minor 1), as the kernel reports them with all values.
std::vector<ShowResource> CaptureResources() {
  std::vector<ShowResource> out;
  for (int i = 0; i < 2; ++i) {
    ShowResource r;
    r.name = i == 0 ? "r0" : "r1";
    r.node_id = static_cast<uint32_t>(i);
    r.res_opts = AllDefaults(OptContext::kResourceOptions);
    ShowVolume v;
    v.minor = static_cast<uint32_t>(i);
    v.backing_dev = i == 0 ? "/dev/loop0" : "/dev/loop1";
    v.meta_dev = v.backing_dev;
    v.meta_dev_idx = -1;
    v.disk_conf = AllDefaults(OptContext::kAttach);
    // drbd-utils 9.22 did not ask for the device options (newer ones print them).
    r.volumes.push_back(v);
    ShowConnection c;
    c.peer_node_id = i == 0 ? 1 : 0;
    c.cstate = "Connected";
    c.paths.push_back({Addr4("127.0.0.1", i == 0 ? 7788 : 7789),
                       Addr4("127.0.0.1", i == 0 ? 7789 : 7788)});
    c.net = AllDefaults(OptContext::kShowNetOptions,
                        {Str(OptContext::kShowNetOptions, "_name", i == 0 ? "b0" : "a1")});
    ShowPeerDevice pd;
    pd.conf = AllDefaults(OptContext::kPeerDeviceOptions,
                          {Num(OptContext::kPeerDeviceOptions, "resync-rate", 102400),
                           Num(OptContext::kPeerDeviceOptions, "c-plan-ahead", 0)});
    c.peer_devices.push_back(pd);
    r.connections.push_back(c);
    out.push_back(r);
  }
  return out;
}

TEST(DrbdsetupShow, PlainShowMatchesTheCaptureWithTheNewerCstateLine) {
  std::string want = Capture("16-drbdsetup_show__connected_.txt");
  if (want.empty()) GTEST_SKIP() << "shared/spec/captures not found";
  EXPECT_EQ(WithoutUnknown(FormatShow(CaptureResources(), {})), WithCstate(want, "Connected"));
}

TEST(DrbdsetupShow, ShowDefaultsMatchesTheCaptureWithTheNewerCstateLine) {
  std::string want = Capture("15-drbdsetup_show_--show-defaults__connected__both_Inconsistent_.txt");
  if (want.empty()) GTEST_SKIP() << "shared/spec/captures not found";
  ShowOptions opts;
  opts.show_defaults = true;
  EXPECT_EQ(WithoutUnknown(FormatShow(CaptureResources(), opts)), WithCstate(want, "Connected"));
}

TEST(DrbdsetupShow, NothingConfigured) {
  EXPECT_EQ(FormatShow({}, {}), "# No currently configured DRBD found.\n");
  ShowOptions json;
  json.json = true;
  EXPECT_EQ(FormatShow({}, json), "[\n]\n");
}

TEST(DrbdsetupShow, FieldNotReportedByTheKernelIsFlagged) {
  ShowResource r;
  r.name = "r";
  r.res_opts = OptionValues{};  // reported, but empty
  std::string out = FormatShow({r}, {});
  EXPECT_NE(out.find("    options {\n        _unknown cpu-mask      ;\t# not supported by kernel\n"),
            std::string::npos)
      << out;
}

TEST(DrbdsetupShow, JsonPrintsEveryReportedValueWithBooleansAsJsonBooleans) {
  std::vector<ShowResource> rs = CaptureResources();
  rs.resize(1);
  rs[0].connections[0].paths.clear();
  ShowOptions json;
  json.json = true;
  std::string out = FormatShow(rs, json);
  EXPECT_NE(out.find("            \"auto-promote\": true,\n"), std::string::npos) << out;
  EXPECT_NE(out.find("                \"paths\": [\n                ],\n"
                     "                \"_cstate\": \"Connected\",\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("                        \"resync-rate\": \"102400k\",\n"), std::string::npos)
      << out;
}

TEST(DrbdsetupShow, SignedNumbersAndQuotedStrings) {
  FieldValue ra = Num(OptContext::kAttach, "resync-after", 0xffffffffu);
  EXPECT_EQ(FieldText(ra), "-1");
  EXPECT_EQ(DoubleQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(AddressText(Addr4("10.1.2.3", 7000)), "ipv4 10.1.2.3:7000");
}

}  // namespace
}  // namespace drbd::setup
