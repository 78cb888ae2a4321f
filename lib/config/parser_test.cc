// SPDX-License-Identifier: GPL-2.0-or-later
// Parser behaviour, with drbd-utils texts pinned from runs of the 9.22
// oracle (`drbdadm -c FILE dump all`) on the same input.
#include "lib/config/parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace drbd::cfg {
namespace {

struct Result {
  Config cfg;
  std::string out;  // diagnostics, drbd-utils style
  int code = 0;     // 0 ok, 10 invalid, or the fatal exit code
};

Result ParseText(const std::string& text, DiagStyle style = DiagStyle::kDrbdUtils) {
  Result r;
  std::istringstream in(text);
  std::ostringstream out;
  DiagSink diag(out, style);
  ParseRequest req;
  req.config_file = "-";
  req.stdin_stream = &in;
  req.hostname = "alpha";
  try {
    ParseConfig(req, r.cfg, diag);
    r.code = r.cfg.valid ? 0 : 10;
  } catch (const FatalConfigError& e) {
    r.code = static_cast<int>(e.code);
  }
  r.out = out.str();
  return r;
}

constexpr const char* kHosts =
    "  on alpha { node-id 0; address 10.1.1.1:7789; device /dev/drbd0; disk /dev/sda; "
    "meta-disk internal; }\n"
    "  on bravo { node-id 1; address 10.1.1.2:7789; device /dev/drbd0; disk /dev/sda; "
    "meta-disk internal; }\n";

std::string Res(const std::string& body) {
  return std::string("resource r0 {\n") + kHosts + body + "\n}\n";
}

TEST(Parser, BuildsResourceHostsVolumesAndOptions) {
  Result r = ParseText(
      "global { usage-count no; minor-count 5; }\n"
      "common { net { protocol C; } }\n" +
      Res("  net { ping-int 5; no-tcp-cork; allow-two-primaries; }\n"
          "  disk { al-extents 6433; resync-rate 10M; }\n"
          "  connection { host alpha port 7000; host bravo address 10.1.1.2:7001; }"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.cfg.globals.usage_count, UsageCount::kNo);
  EXPECT_EQ(r.cfg.globals.minor_count, 5);
  ASSERT_TRUE(r.cfg.common.has_value());
  ASSERT_EQ(r.cfg.resources.size(), 1u);
  const Resource& res = r.cfg.resources.front();
  EXPECT_EQ(res.name, "r0");
  EXPECT_EQ(res.config_file, "STDIN");
  EXPECT_EQ(res.start_line, 3);
  ASSERT_EQ(res.all_hosts.size(), 2u);
  const HostInfo& a = res.all_hosts.front();
  EXPECT_EQ(a.on_hosts, Names{"alpha"});
  EXPECT_EQ(a.node_id, "0");
  EXPECT_EQ(a.address.af, "ipv4");
  EXPECT_EQ(a.address.addr, "10.1.1.1");
  EXPECT_EQ(a.address.port, "7789");
  ASSERT_EQ(a.volumes.size(), 1u);
  const Volume& v = a.volumes.front();
  EXPECT_TRUE(v.implicit);
  EXPECT_EQ(v.device, "/dev/drbd0");
  EXPECT_EQ(v.device_minor, 0);
  EXPECT_EQ(v.disk, "/dev/sda");
  EXPECT_EQ(v.meta_disk, "internal");
  EXPECT_EQ(v.meta_index, "internal");
  ASSERT_EQ(res.net_options.size(), 3u);
  auto it = res.net_options.begin();
  EXPECT_EQ(it->name, "ping-int");
  EXPECT_EQ(it->value, "5");
  EXPECT_EQ(it->line, 6);
  EXPECT_EQ((++it)->name, "tcp-cork");
  EXPECT_EQ(it->value, "no");
  EXPECT_EQ((++it)->value, "yes");
  ASSERT_EQ(res.disk_options.size(), 1u);
  ASSERT_EQ(res.pd_options.size(), 1u);
  EXPECT_EQ(res.pd_options.front().name, "resync-rate");
  ASSERT_EQ(res.connections.size(), 1u);
  const Connection& c = res.connections.front();
  ASSERT_EQ(c.paths.size(), 1u);
  EXPECT_TRUE(c.paths.front().implicit);
  ASSERT_EQ(c.paths.front().hname_address_pairs.size(), 2u);
  EXPECT_TRUE(c.paths.front().hname_address_pairs.front().parsed_port);
  EXPECT_EQ(c.paths.front().hname_address_pairs.front().address.port, "7000");
  EXPECT_TRUE(c.paths.front().hname_address_pairs.back().parsed_address);
}

TEST(Parser, EndOfFileClosesAResource) {
  Result r = ParseText(std::string("resource r0 {\n") + kHosts);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.cfg.resources.size(), 1u);
}

// The list is the peer-device context of drbd-utils after 9.22 (the last
// section tried), which has two options 9.22 lacks.
TEST(Parser, UnknownOptionListsTheSectionKeywords) {
  Result r = ParseText(Res("  disk { fensing resource-only; }"));
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:4: Parse error: 'resync-rate | c-plan-ahead | c-delay-target | c-fill-target "
            "| c-max-rate | c-min-rate | bitmap | resync-without-replication | peer-tiebreaker' "
            "expected,\n\tbut got 'fensing'\n");
}

// drbd-utils after 9.22: the disk section also takes device (new-minor)
// options. `bitmap` there is the disk (attach) option.
TEST(Parser, DiskSectionTakesDeviceOptions) {
  Result r = ParseText(
      Res("  disk { block-size 4096; bitmap no; c-max-rate 10M;\n"
          "         max-bio-size 65536; }"));
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  ASSERT_EQ(res.device_options.size(), 2u);
  EXPECT_EQ(res.device_options.front().name, "block-size");
  EXPECT_EQ(res.device_options.front().value, "4096");
  EXPECT_EQ(res.device_options.back().name, "max-bio-size");
  ASSERT_NE(FindOption(res.disk_options, "bitmap"), nullptr);
  EXPECT_EQ(FindOption(res.pd_options, "bitmap"), nullptr);
  EXPECT_NE(FindOption(res.pd_options, "c-max-rate"), nullptr);
  Result range = ParseText(Res("  disk { block-size 8192; }"));
  EXPECT_EQ(range.code, 10);
  Result vol = ParseText(
      "resource r0 {\n  on alpha { node-id 0; address 10.0.0.1:7789;\n"
      "    volume 0 { device minor 1; disk { fencing dont-care; } } }\n}\n");
  EXPECT_EQ(vol.code, 10);
  EXPECT_NE(vol.out.find("but got 'fencing'"), std::string::npos) << vol.out;
}

TEST(Parser, VolumeTiebreakerStatement) {
  Result r = ParseText(
      "resource r0 {\n  on alpha { node-id 0; address 10.0.0.1:7789;\n"
      "    volume 0 { device minor 1; disk none; tiebreaker no; } }\n"
      "  on beta { node-id 1; address 10.0.0.2:7789;\n"
      "    volume 0 { device minor 1; disk /dev/b; } }\n}\n");
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  const Volume& a = res.all_hosts.front().volumes.front();
  EXPECT_TRUE(a.parsed_tiebreaker);
  EXPECT_FALSE(a.tiebreaker);
  const Volume& b = res.all_hosts.back().volumes.front();
  EXPECT_FALSE(b.parsed_tiebreaker);
  EXPECT_TRUE(b.tiebreaker);
  Result bad = ParseText(
      "resource r0 {\n  on alpha { node-id 0; address 10.0.0.1:7789;\n"
      "    volume 0 { device minor 1; tiebreaker maybe; } }\n}\n");
  EXPECT_EQ(bad.code, 10);
  EXPECT_EQ(bad.out, "STDIN:3: Parse error: 'yes | no' expected,\n\tbut got 'maybe'\n");
}

TEST(Parser, HostViaOutsideAddress) {
  Result r = ParseText(
      "resource r0 {\n  on alpha { node-id 0; }\n  on beta { node-id 1; }\n"
      "  volume 0 { device minor 1; disk /dev/a; meta-disk internal; }\n"
      "  connection {\n"
      "    host alpha address 10.0.0.1:7000 via outside-address 192.168.1.1:7000;\n"
      "    host beta address 10.0.0.2:7000;\n  }\n}\n");
  ASSERT_EQ(r.code, 0) << r.out;
  const HnameAddress& ha =
      r.cfg.resources.front().connections.front().paths.front().hname_address_pairs.front();
  EXPECT_TRUE(ha.parsed_outside_address);
  ASSERT_TRUE(ha.outside_address.has_value());
  EXPECT_EQ(ha.outside_address->addr, "192.168.1.1");
  EXPECT_EQ(ha.outside_address->port, "7000");
  EXPECT_EQ(ha.outside_address->af, "ipv4");
  EXPECT_FALSE(ha.proxy.has_value());
  Result bad = ParseText(
      "resource r0 {\n  connection {\n    host alpha address 10.0.0.1:7000 via nat;\n"
      "  }\n}\n");
  EXPECT_EQ(bad.code, 10);
  EXPECT_NE(bad.out.find("Parse error: 'proxy | outside-address' expected"), std::string::npos)
      << bad.out;
}

TEST(Parser, UnknownOptionSuggestsTheNearestName) {
  Result r = ParseText(Res("  net { ping-intt 5; }"), DiagStyle::kGnu);
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:4:9: error: unknown option 'ping-intt' in net section; did you mean "
            "'ping-int'?\n");
  // (a resource-level disk section takes it, as DRBD 8.4 did; a volume's not)
  Result moved = ParseText(Res("  volume 0 { disk { fencing resource-only; } }"), DiagStyle::kGnu);
  EXPECT_EQ(moved.out,
            "STDIN:4:21: error: unknown option 'fencing' in disk section; it belongs in the net "
            "section\n");
  Result kw = ParseText(Res("  on charlie { node-idd 2; }"), DiagStyle::kGnu);
  EXPECT_EQ(kw.out,
            "STDIN:4:16: error: expected 'disk', 'device', 'address', 'meta-disk', "
            "'flexible-meta-disk', 'node-id', 'volume', 'options' or '}' in host section, got "
            "'node-idd'; did you mean 'node-id'?\n");
}

TEST(Parser, ValueErrorsAreCollectedNotFatal) {
  Result r = ParseText(Res("  net { ping-timeout 1000; after-sb-0pri foo; }"));
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:4: Parse error: while parsing value ('1000')\n"
            "for ping-timeout. Value is too big.\n"
            "STDIN:4: Parse error: while parsing value ('foo')\n"
            "for after-sb-0pri. Value is not valid.\n"
            "Allowed values are: disconnect | discard-younger-primary | discard-older-primary | "
            "discard-zero-changes | discard-least-changes | discard-local | discard-remote\n");
  EXPECT_EQ(r.cfg.resources.size(), 1u);
}

TEST(Parser, RangeChecksPrintTheScaledValue) {
  Result r =
      ParseText("resource r0 {\n on alpha {\n  node-id 1M;\n  address 10.1.1.1:77890;\n }\n}\n");
  EXPECT_EQ(r.code, 10);
  // The port is checked twice in a host section, as drbd-utils does.
  EXPECT_EQ(r.out,
            "STDIN:3: node-id 1M => 1048576 out of range [0..32].\n"
            "STDIN:4: port 77890 => 77890 out of range [1..65535].\n"
            "STDIN:4: port 77890 => 77890 out of range [1..65535].\n");
}

TEST(Parser, DuplicateMinorIsFatalAndNamesLineZeroFirst) {
  Result r = ParseText(
      "resource r0 {\n on bravo {\n  node-id 1;\n"
      "  volume 0 { device minor 0; }\n  volume 1 { device minor 0; }\n }\n}\n");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:0: conflicting use of device-minor 'device-minor:bravo:0' ...\n"
            "STDIN:0: device-minor 'device-minor:bravo:0' first used here.\n");
}

TEST(Parser, DuplicateSectionIsFatal) {
  Result r = ParseText("resource r0 {\n net { }\n net { }\n}\n");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:3: conflicting use of net section 'r0:net' ...\n"
            "STDIN:2: net section 'r0:net' first used here.\n");
}

TEST(Parser, SyntaxErrorNamesTheTokenNumber) {
  Result r = ParseText(Res(";;"));
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(
      r.out,
      "STDIN:4: Parse error: 'protocol | on | disk | net | syncer | startup | handlers | "
      "connection | ignore-on | stacked-on-top-of | skip' expected,\n\tbut got ';' (TK 59)\n");
}

TEST(Parser, ExpectedSingleCharIsShownUnquoted) {
  Result r = ParseText("resource r0 x");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, "STDIN:1: Parse error: '{' expected,\n\tbut got 'x' (TK 281)\n");
}

TEST(Parser, TokenTooLong) {
  Result r = ParseText("resource " + std::string(130, 'a') + " {}");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, "STDIN:1: Token too long >>>aaaaaaaaaaaaaaaaaaaa...<<<\n");
}

TEST(Parser, ResourceNameChecksExitWithUsage) {
  EXPECT_EQ(ParseText("resource \"\" {}").code, 1);
  EXPECT_EQ(ParseText("resource \"\" {}").out, "Resource name is empty.\n");
  EXPECT_EQ(ParseText("resource \"a\tb\" {}").code, 1);
}

TEST(Parser, GlobalAfterResourceOnlyWarns) {
  Result r = ParseText("resource r0 { }\nglobal { usage-count yes; }\n");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out,
            "STDIN:2: You should put the global {} section\n\tin front of any resource {} "
            "section\n");
}

TEST(Parser, SkipIgnoresNestedBlocks) {
  Result r = ParseText("skip resource r0 { a { b } c }\nresource r1 { skip { x { } } }\n");
  EXPECT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(r.cfg.resources.size(), 1u);
  EXPECT_EQ(r.cfg.resources.front().name, "r1");
  Result e = ParseText("\nskip {\n");
  EXPECT_EQ(e.code, 10);
  EXPECT_EQ(e.out, "STDIN:2: reached eof while parsing this skip block.\n");
}

TEST(Parser, SyncerOptionsAreRedistributed) {
  Result r = ParseText(Res("  syncer { verify-alg sha1; al-extents 100; cpu-mask 3; }"));
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  EXPECT_NE(FindOption(res.net_options, "verify-alg"), nullptr);
  EXPECT_NE(FindOption(res.disk_options, "al-extents"), nullptr);
  EXPECT_NE(FindOption(res.res_options, "cpu-mask"), nullptr);
  Result bad = ParseText(Res("  syncer { ratte 10M; }"));
  EXPECT_EQ(bad.out,
            "STDIN:4: Parse error: 'a syncer option keyword' expected,\n\tbut got 'ratte'\n");
}

// drbd-utils >= 9.23 (upstream test drbd_8.4): DRBD 8.4's syncer rate and
// c-* become peer-device options, a resource-level disk section's fencing
// a net option, in the order written.
TEST(Parser, Drbd84PlacementsMoveToPeerDeviceAndNetOptions) {
  Result r = ParseText(Res("  syncer { rate 25M; al-extents 379; c-min-rate 20M; }\n"
                           "  disk { no-disk-flushes; fencing resource-and-stonith; c-max-rate 1G; }"));
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  std::vector<std::string> pd;
  for (const Option& o : res.pd_options) pd.push_back(o.name + "=" + o.value);
  EXPECT_EQ(pd, (std::vector<std::string>{"resync-rate=25M", "c-min-rate=20M", "c-max-rate=1G"}));
  ASSERT_NE(FindOption(res.net_options, "fencing"), nullptr);
  EXPECT_EQ(FindOption(res.net_options, "fencing")->value, "resource-and-stonith");
  EXPECT_EQ(FindOption(res.disk_options, "fencing"), nullptr);
  EXPECT_NE(FindOption(res.disk_options, "al-extents"), nullptr);
}

// drbd-utils >= 9.23 (upstream test restore_show): a `drbdsetup show` text
// saved as a config, `_cstate` included, reads back.
TEST(Parser, CstateIsAcceptedInConfigs) {
  Result r = ParseText(
      "resource r0 {\n  on alpha { node-id 0; volume 0 { device minor 1; disk /dev/x; "
      "meta-disk internal; } }\n  on bravo { node-id 1; volume 0 { device minor 1; disk /dev/x; "
      "meta-disk internal; } }\n  connection {\n    host alpha address 10.0.0.1:7000;\n"
      "    host bravo address 10.0.0.2:7000;\n    _cstate Connecting;\n  }\n}\n");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.cfg.resources.front().connections.front().cstate, "Connecting");
}

TEST(Parser, ProtocolStatementBecomesANetOption) {
  Result r = ParseText(Res("  protocol A;"));
  ASSERT_EQ(r.code, 0) << r.out;
  const Option* p = FindOption(r.cfg.resources.front().net_options, "protocol");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->value, "A");
}

TEST(Parser, StartupAcceptsLegacyWords) {
  Result r =
      ParseText(Res("  startup { become-primary-on both; stacked-timeouts; wfc-timeout 10; }"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(r.cfg.resources.front().stacked_timeouts);
  EXPECT_EQ(r.cfg.resources.front().startup_options.size(), 1u);
  EXPECT_FALSE(r.cfg.resources.front().startup_section_empty);
  Result e = ParseText(Res("  startup { stacked-timeouts; }"));
  EXPECT_TRUE(e.cfg.resources.front().startup_section_empty);
}

TEST(Parser, ProxyPluginsAreWordLines) {
  Result r = ParseText(Res("  proxy { memlimit 100M; plugin { zlib level 9; lz4; } }"));
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  ASSERT_EQ(res.proxy_plugins.size(), 2u);
  EXPECT_EQ(res.proxy_plugins.front().name, "zlib level 9");
  EXPECT_FALSE(res.proxy_plugins.front().has_value);
  Result bad = ParseText(Res("  proxy { plugin { zlib level 9 } }"));
  EXPECT_EQ(bad.out, "STDIN:4: Missing \";\" before  \"}\"\n");
}

TEST(Parser, DeviceNameChecksApplyToThisHostOnly) {
  Result r = ParseText(
      "resource r0 {\n on alpha { device /dev/foo; }\n on bravo { device /dev/bar minor 3; }\n}\n");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:2: device name must start with /dev/drbd\n"
            "\t(/dev/ is optional, but drbd is required)\n"
            "STDIN:2: no minor given nor device name contains a minor number\n");
}

TEST(Parser, MixingImplicitAndExplicitVolumes) {
  Result r = ParseText("resource r0 {\n volume 0 { device minor 1; }\n device minor 0;\n}\n");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, "STDIN:3: mixing explicit and implicit volumes is not allowed\n");
}

TEST(Parser, ConnectionChecks) {
  Result named = ParseText(Res("  connection foo { host alpha; host bravo; }"));
  EXPECT_EQ(named.code, 0);
  EXPECT_EQ(named.out,
            "STDIN:4: explicitly named connections are deprecated!\n"
            "\tits name ('foo') will be ignored\n");
  Result empty = ParseText(Res("  connection { }"));
  EXPECT_EQ(empty.code, 10);
  EXPECT_EQ(empty.out, "STDIN:4: connection without a single path (maybe empty?) not allowed\n");
  Result mixed = ParseText(Res("  connection { path { host alpha; host bravo; } host alpha; }"));
  EXPECT_EQ(mixed.out, "STDIN:4: Explicit and implicit paths not allowed\n");
}

TEST(Parser, Ipv6AddressNeedsBrackets) {
  Result ok = ParseText("resource r0 { on alpha { address ipv6 [fe80::1%eth0]:7789; } }");
  ASSERT_EQ(ok.code, 0) << ok.out;
  const Address& a = ok.cfg.resources.front().all_hosts.front().address;
  EXPECT_EQ(a.af, "ipv6");
  EXPECT_EQ(a.addr, "fe80::1%eth0");
  Result bad = ParseText("resource r0 { on alpha { address fd00::1:7789; } }");
  EXPECT_EQ(bad.out,
            "STDIN:1: Parse error: 'ssocks | sdp | ipv4 | ipv6 | <ipv4 address> ' expected,\n"
            "\tbut got 'fd00::1:7789'\n");
}

TEST(Parser, FloatingNamesTheHostByAddress) {
  Result r = ParseText("resource r0 { floating 10.1.1.1:7789 { device minor 1; } }");
  ASSERT_EQ(r.code, 0) << r.out;
  const HostInfo& h = r.cfg.resources.front().all_hosts.front();
  EXPECT_TRUE(h.by_address);
  // addr:port made a valid DRBD name, as drbd-utils after 9.22 does.
  EXPECT_EQ(h.on_hosts, Names{"10.1.1.1_7789"});
  Result v6 = ParseText("resource r0 { floating ipv6 [fe80::1%eth0]:7789 { device minor 1; } }");
  ASSERT_EQ(v6.code, 0) << v6.out;
  EXPECT_EQ(v6.cfg.resources.front().all_hosts.front().on_hosts, Names{"fe80__1_eth0_7789"});
  Result bad = ParseText("resource r0 { floating 10.1.1.1:7789 { address 10.1.1.1:7788; } }");
  EXPECT_EQ(bad.out, "STDIN:1: address statement not allowed for floating {} host sections\n");
}

TEST(Parser, ModuleVersionRequirementQuirks) {
  // (have - want) is compared unsigned: ge is always true.
  EXPECT_EQ(ParseText("require-drbd-module-version-ge 9.3.0;").code, 0);
  Result r = ParseText("require-drbd-module-version-eq 9.1.0;");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, "STDIN:1: Validation error: drbd-module-version 9.2.0 == 9.1.0 not true\n");
}

TEST(Parser, IncludeOutsideTopLevelIsAParseError) {
  Result r = ParseText("resource r0 { include \"x\"; }");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "STDIN:1: Parse error: 'protocol | on | disk | net | syncer | startup | handlers | "
            "connection | ignore-on | stacked-on-top-of | skip' expected,\n\tbut got 'include' "
            "(TK 304)\n");
}

TEST(Parser, CommonRejectsHostSections) {
  Result r = ParseText("common {\n on alpha { }\n}\n");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, "STDIN:2: in the common section, there are no host sections allowed.\n");
}

class ParserFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/parser_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::path p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  Result Parse(const std::string& rel) {
    Result r;
    std::ostringstream out;
    DiagSink diag(out, DiagStyle::kDrbdUtils);
    ParseRequest req;
    req.config_file = dir_ + "/" + rel;
    req.hostname = "alpha";
    try {
      ParseConfig(req, r.cfg, diag);
      r.code = r.cfg.valid ? 0 : 10;
    } catch (const FatalConfigError& e) {
      r.code = static_cast<int>(e.code);
    }
    r.out = out.str();
    return r;
  }
  std::string dir_;
};

TEST_F(ParserFiles, IncludesAreRelativeDeduplicatedAndNamedAsWritten) {
  Write("inc/sub/r1.res", "resource r1 {\n}\nresource r2 { bad }\n");
  Write("inc/mid.conf", "include \"sub/*.res\";\n");
  Write("main.conf",
        "include \"inc/mid.conf\";\ninclude \"inc/mid.conf\";\ninclude \"main.conf\";\n"
        "include \"inc/none*.res\";\n");
  Result r = Parse("main.conf");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out,
            "sub/r1.res:3: Parse error: 'protocol | on | disk | net | syncer | startup | handlers "
            "| connection | ignore-on | stacked-on-top-of | skip' expected,\n\tbut got 'bad' (TK "
            "281)\n");
}

TEST_F(ParserFiles, MissingLiteralIncludeNamesTheCanonicalIncluder) {
  Write("main.conf", "\ninclude \"missing.res\";\nresource r0 { }\n");
  Result r = Parse("main.conf");
  EXPECT_EQ(r.code, 10);
  EXPECT_EQ(r.out, dir_ + "/main.conf:2: Failed to open include file 'missing.res'.\n");
  EXPECT_EQ(r.cfg.resources.size(), 1u);
  EXPECT_EQ(r.cfg.resources.front().config_file, dir_ + "/main.conf");
}

TEST_F(ParserFiles, TemplateFileProvidesACommonSection) {
  Write("t/common.conf", "common { net { protocol A; } }\n");
  Write("main.conf", "resource r0 { template-file \"t/common.conf\"; }\n");
  Result r = Parse("main.conf");
  ASSERT_EQ(r.code, 0) << r.out;
  const Resource& res = r.cfg.resources.front();
  ASSERT_NE(res.template_res, nullptr);
  EXPECT_EQ(res.template_file, "t/common.conf");
  EXPECT_EQ(res.template_res->name, "template-r0");
  EXPECT_NE(FindOption(res.template_res->net_options, "protocol"), nullptr);
}

TEST_F(ParserFiles, SelfReferencingTemplateIsRejectedNotRecursedForever) {
  Write("t.conf", "common { template-file \"t.conf\"; }\n");
  Write("main.conf", "resource r0 { template-file \"t.conf\"; }\n");
  EXPECT_EQ(Parse("main.conf").code, 10);
}

TEST_F(ParserFiles, ConfigToTestContinuesTheLineCounter) {
  Write("a.conf", "resource r0 {\n on alpha { node-id 0; }\n}\n");
  Write("b.conf", "\n\nresource r1 { bad }\n");
  Result r = Parse("a.conf");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ostringstream out;
  DiagSink diag(out, DiagStyle::kDrbdUtils);
  ParseRequest req;
  req.config_file = "b.conf";
  req.hostname = "alpha";
  std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  EXPECT_THROW(ParseConfig(req, r.cfg, diag), FatalConfigError);
  std::filesystem::current_path(cwd);
  // drbd-utils 9.22 prints line 6: line 3 of b.conf counted on from a.conf's 4.
  EXPECT_EQ(out.str(),
            "b.conf:6: Parse error: 'protocol | on | disk | net | syncer | startup | handlers | "
            "connection | ignore-on | stacked-on-top-of | skip' expected,\n\tbut got 'bad' (TK "
            "281)\n");
}

TEST_F(ParserFiles, IncludedDirectoryFailsLikeFlex) {
  std::filesystem::create_directories(std::filesystem::path(dir_) / "d" / "x.res");
  Write("main.conf", "include \"d/*\";\n");
  Result r = Parse("main.conf");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "input in flex scanner failed\n");
}

TEST(ParserShow, ParsesDrbdsetupShowOutput) {
  Config cfg;
  std::ostringstream out;
  DiagSink diag(out, DiagStyle::kDrbdUtils);
  auto list = ParseDrbdsetupShow(
      "resource \"r0\" {\n"
      "    options {\n        quorum          \tmajority;\n    }\n"
      "    _this_host {\n        node-id\t\t\t1;\n"
      "        volume 0 {\n            device\t\t\tminor 10;\n"
      "            disk\t\t\t\"/dev/scratch/r0_0\";\n            meta-disk\t\t\tinternal;\n"
      "            disk {\n                al-extents 6433; # 4k\n            }\n"
      "        }\n    }\n"
      "    connection {\n        _peer_node_id 0;\n        path {\n"
      "            _this_host ipv4 10.36.50.13:7789;\n"
      "            _remote_host ipv4 10.36.50.12:7789;\n        }\n"
      "        net {\n            _name           \t\"peer0\";\n            discard-my-data;\n"
      "        }\n    }\n}\n"
      "resource \"r1\" {\n    _this_host {\n        node-id 0;\n    }\n"
      "    connection { _peer_node_id 1; _is_standalone; }\n}\n",
      "drbdsetup show", cfg, diag);
  EXPECT_EQ(out.str(), "");
  ASSERT_EQ(list.size(), 2u);
  const Resource& r0 = list.front();
  ASSERT_EQ(r0.all_hosts.size(), 1u);
  EXPECT_EQ(r0.all_hosts.front().on_hosts, Names{"_this_host"});
  EXPECT_FALSE(r0.all_hosts.front().require_minor);
  const Volume& v = r0.all_hosts.front().volumes.front();
  EXPECT_EQ(v.device_minor, 10);
  EXPECT_EQ(v.disk_options.size(), 1u);
  const Connection& c = r0.connections.front();
  ASSERT_NE(c.peer, nullptr);
  EXPECT_EQ(c.peer->node_id, "0");
  const Path& p = c.paths.front();
  ASSERT_NE(p.my_address, nullptr);
  EXPECT_EQ(p.my_address->addr, "10.36.50.13");
  ASSERT_NE(p.connect_to, nullptr);
  EXPECT_EQ(p.connect_to->addr, "10.36.50.12");
  ASSERT_EQ(c.net_options.size(), 1u);
  EXPECT_EQ(c.net_options.front().value, "peer0");
  EXPECT_TRUE(list.back().connections.front().is_standalone);
}

// `_cstate NAME;` (drbdsetup show of drbd-utils after 9.22) is read; any
// other unknown word in a connection still fails as in 9.22.
TEST(ParserShow, ConnectionStateIsReadOtherWordsFail) {
  Config cfg;
  std::ostringstream out;
  DiagSink diag(out, DiagStyle::kDrbdUtils);
  std::list<Resource> res =
      ParseDrbdsetupShow("resource \"r0\" {\n connection {\n  _cstate StandAlone;\n }\n}\n",
                         "drbdsetup show", cfg, diag);
  ASSERT_EQ(res.size(), 1u);
  ASSERT_EQ(res.front().connections.size(), 1u);
  EXPECT_EQ(res.front().connections.front().cstate, "StandAlone");
  EXPECT_TRUE(res.front().connections.front().is_standalone);
  Config cfg2;
  std::ostringstream out2;
  DiagSink diag2(out2, DiagStyle::kDrbdUtils);
  EXPECT_THROW(ParseDrbdsetupShow("resource \"r0\" {\n connection {\n  _cstatus Connected;\n }\n}\n",
                                  "drbdsetup show", cfg2, diag2),
               FatalConfigError);
  EXPECT_EQ(out2.str(),
            "drbdsetup show:3: Parse error: 'host | net | skip | }' expected,\n\tbut got "
            "'_cstatus' (TK 281)\n");
}

// A DRBD 8.4 module's `drbdsetup show` names the peer in a resource-level
// `_remote_host { address ...; }` (tests/kernel/expected-show-84.txt).
TEST(ParserShow, Drbd84RemoteHostSectionNamesThePeer) {
  Config cfg;
  std::ostringstream out;
  DiagSink diag(out, DiagStyle::kDrbdUtils);
  std::list<Resource> res = ParseDrbdsetupShow(
      "resource r0 {\n    options {\n    }\n    net {\n    }\n"
      "    _remote_host {\n        address\t\t\tipv4 127.0.0.1:7789;\n    }\n"
      "    _this_host {\n        address\t\t\tipv4 127.0.0.1:7788;\n"
      "        volume 0 {\n            device\t\t\tminor 0;\n"
      "            disk\t\t\t\"/dev/loop0\";\n            meta-disk\t\t\tinternal;\n"
      "        }\n    }\n}\n",
      "drbdsetup show", cfg, diag);
  EXPECT_EQ(out.str(), "");
  ASSERT_EQ(res.size(), 1u);
  std::vector<std::string> hosts;
  for (const HostInfo& h : res.front().all_hosts) {
    ASSERT_FALSE(h.on_hosts.empty());
    hosts.push_back(h.on_hosts.front() + "=" + h.address.addr + ":" + h.address.port);
  }
  EXPECT_EQ(hosts, (std::vector<std::string>{"_remote_host=127.0.0.1:7789",
                                             "_this_host=127.0.0.1:7788"}));
}

TEST(Hostnames, ShortNamesCompareUpToTheFirstDot) {
  EXPECT_TRUE(HostnamesEqual("alpha", "ALPHA"));
  EXPECT_TRUE(HostnamesEqual("alpha", "alpha.example.com"));
  EXPECT_TRUE(HostnamesEqual("Alpha.example.com", "alpha.EXAMPLE.com"));
  EXPECT_FALSE(HostnamesEqual("alpha.a.com", "alpha.b.com"));
  EXPECT_FALSE(HostnamesEqual("alpha", "alphabet"));
  EXPECT_TRUE(HostnameInList("bravo", Names{"alpha", "bravo.lan"}));
}

TEST(CheckUniq, SecondUseIsFatalWithBothLocations) {
  Config cfg;
  std::ostringstream out;
  DiagSink diag(out, DiagStyle::kDrbdUtils);
  EXPECT_TRUE(CheckUniq(cfg, diag, "a.res", 3, "IP", "alpha:10.1.1.1:7789"));
  EXPECT_THROW(CheckUniq(cfg, diag, "b.res", 7, "IP", "alpha:10.1.1.1:7789"), FatalConfigError);
  EXPECT_EQ(out.str(),
            "b.res:7: conflicting use of IP 'alpha:10.1.1.1:7789' ...\n"
            "a.res:3: IP 'alpha:10.1.1.1:7789' first used here.\n");
  EXPECT_FALSE(cfg.valid);
}

// drbd-utils after 9.22: /dev/drbd_NAME with a minor only warns; any other
// non-numeric name with a minor is an error in the newer wording.
TEST(Parser, ArbitraryDeviceNamesWarnOthersFail) {
  auto conf = [](const std::string& dev) {
    return "resource r0 {\n  on alpha { node-id 0; address 10.1.1.1:7789;\n"
           "    device " + dev + " minor 3; disk /dev/sda; meta-disk internal; }\n"
           "  on bravo { node-id 1; address 10.1.1.2:7789;\n"
           "    device /dev/drbd3; disk /dev/sda; meta-disk internal; }\n}\n";
  };
  Result warn = ParseText(conf("/dev/drbd_data"));
  EXPECT_EQ(warn.code, 0);
  EXPECT_EQ(warn.out,
            "STDIN:3: arbitrary device names (/dev/drbd_...) are no longer generated from "
            "current udev rules.\n\tYou may need to manually mknod /dev/drbd_data b 147 3\n"
            "\tYou should no longer use them.\n");
  Result bad = ParseText(conf("/dev/drbdX"));
  EXPECT_EQ(bad.code, 10);
  EXPECT_EQ(bad.out, "STDIN:3: explicit device names should be of the form /dev/drbd<minor>\n");
}

}  // namespace
}  // namespace drbd::cfg
