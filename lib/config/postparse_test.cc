// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for post-processing: expected texts and orders were recorded with
// drbdadm 9.22 (DRBD_DRIVER_VERSION_OVERRIDE=9.2.0 __DRBD_NODE__=alpha
// drbdadm -c FILE -d up all </dev/null 2>&1 | cat) on the same configs.
#include "lib/config/postparse.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "lib/config/parser.h"

namespace drbd::cfg {
namespace {

// Builders for hand-made configurations (the shapes the parser produces).
Volume MakeVolume(int vnr, int minor, const std::string& disk) {
  Volume v;
  v.vnr = vnr;
  v.device_minor = minor;
  v.device = "/dev/drbd" + std::to_string(minor);
  v.disk = disk;
  v.meta_disk = "internal";
  v.meta_index = "internal";
  v.config_file = "/etc/drbd.d/r.res";
  return v;
}

HostInfo MakeHost(const std::string& name, const std::string& addr, int line,
                  std::optional<std::string> node_id) {
  HostInfo h;
  h.on_hosts = {name};
  h.address.addr = addr;
  h.address.port = "7789";
  h.address.af = "ipv4";
  h.config_line = line;
  h.node_id = std::move(node_id);
  return h;
}

Option Opt(const std::string& name, const std::string& value) {
  Option o;
  o.name = name;
  o.value = value;
  return o;
}

std::vector<std::string> Render(const Options& opts) {
  std::vector<std::string> out;
  for (const Option& o : opts) out.push_back(o.name + "=" + o.value);
  return out;
}

Resource& AddResource(Config& cfg, const std::string& name, int start_line) {
  Resource& r = cfg.resources.emplace_back();
  r.name = name;
  r.config_file = "/etc/drbd.d/r.res";
  r.start_line = start_line;
  return r;
}

// Two hosts alpha (10.1.1.1) and bravo (10.1.1.2) with volume 0 at resource
// level, minor `minor`.
Resource& AddTwoNodeResource(Config& cfg, const std::string& name, int minor,
                             bool with_node_ids = true, const std::string& prefix = "10.1.1.") {
  Resource& r = AddResource(cfg, name, 1);
  r.volumes.push_back(MakeVolume(0, minor, "/dev/vg/" + name));
  r.all_hosts.push_back(MakeHost("alpha", prefix + "1", 2,
                                 with_node_ids ? std::optional<std::string>("0") : std::nullopt));
  r.all_hosts.push_back(MakeHost("bravo", prefix + "2", 3,
                                 with_node_ids ? std::optional<std::string>("1") : std::nullopt));
  return r;
}

struct Fixture {
  Config cfg;
  std::ostringstream err;
  DiagSink diag{err, DiagStyle::kDrbdUtils};
  PostParseOptions opts;
  Fixture() {
    cfg.config_file = "/etc/drbd.conf";
    cfg.end_line = 20;
    opts.hostname = "alpha";
    opts.no_tty = true;
    opts.dry_run = true;
  }
  // What drbdadm -d up does before planning.
  void Process() {
    PostParse(cfg, opts, diag);
    ExpandCommon(cfg, opts, diag);
    GlobalValidate(cfg, true, opts, diag);
    for (Resource& r : cfg.resources) {
      if (!r.ignore) SetPeerInResource(cfg, r, true, false, diag);
    }
  }
};

TEST(PostParse, DerivesImplicitNodeIdsFromAddressHashes) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1, /*with_node_ids=*/false);
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid) << f.err.str();
  // Recorded: alpha 10.1.1.1 gets node-id 1, bravo 10.1.1.2 node-id 0.
  EXPECT_EQ(r.all_hosts.front().node_id, "1");
  EXPECT_EQ(r.all_hosts.back().node_id, "0");
}

TEST(PostParse, ComparesAddressHashesAsSignedInts) {
  // crc32c("10.0.0.7") has the top bit set: as an int it is the smaller one
  // (recorded: new-resource r0 0 on alpha, new-peer r0 1).
  Fixture f;
  Resource& r = AddResource(f.cfg, "r0", 1);
  r.volumes.push_back(MakeVolume(0, 1, "/dev/sdb"));
  r.all_hosts.push_back(MakeHost("alpha", "10.1.1.1", 2, std::nullopt));
  r.all_hosts.push_back(MakeHost("bravo", "10.0.0.7", 3, std::nullopt));
  PostParse(f.cfg, f.opts, f.diag);
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  EXPECT_EQ(r.all_hosts.front().node_id, "0");
  EXPECT_EQ(r.all_hosts.back().node_id, "1");
}

TEST(PostParse, CreatesOneImplicitConnectionForTwoHosts) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  ASSERT_EQ(r.connections.size(), 1u);
  Connection& c = r.connections.front();
  EXPECT_TRUE(c.implicit);
  ASSERT_EQ(c.paths.size(), 1u);
  Path& p = c.paths.front();
  ASSERT_NE(p.my_address, nullptr);
  ASSERT_NE(p.peer_address, nullptr);
  EXPECT_EQ(p.my_address->addr, "10.1.1.1");
  EXPECT_EQ(p.peer_address->addr, "10.1.1.2");
  EXPECT_EQ(p.connect_to, p.peer_address);
  EXPECT_EQ(r.me, &r.all_hosts.front());
  EXPECT_EQ(c.peer, &r.all_hosts.back());
  EXPECT_EQ(Render(c.net_options), (std::vector<std::string>{"_name=bravo"}));
  ASSERT_EQ(c.peer_devices.size(), 1u);
  EXPECT_TRUE(c.peer_devices.front().implicit);
  // resource-level volume was copied into both host sections
  EXPECT_EQ(r.me->volumes.front().disk, "/dev/vg/r0");
}

TEST(PostParse, MoreThanTwoHostsWithoutConnectionsOnlyWarns) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.all_hosts.push_back(MakeHost("charlie", "10.1.1.3", 4, "2"));
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid);
  EXPECT_TRUE(r.connections.empty());
  EXPECT_EQ(f.err.str(),
            "Resource r0:\n\tUse explicit 'connection' sections (or a 'connection-mesh' section) "
            "with more than two 'on' sections.\n");
}

TEST(PostParse, MeshCreatesOneConnectionPerPairInOrder) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r1", 10);
  r.all_hosts.push_back(MakeHost("charlie", "10.1.1.3", 4, "2"));
  Mesh& m = r.meshes.emplace_back();
  m.hosts = {"alpha", "bravo", "charlie"};
  m.net_options.push_back(Opt("protocol", "C"));
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  std::vector<std::string> pairs;
  for (Connection& c : r.connections) {
    std::string s;
    for (HnameAddress& ha : c.paths.front().hname_address_pairs) s += ha.name + " ";
    pairs.push_back(s);
    EXPECT_NE(FindOption(c.net_options, "protocol"), nullptr);
  }
  EXPECT_EQ(pairs, (std::vector<std::string>{"alpha bravo ", "alpha charlie ", "bravo charlie "}));
  // The connection not involving alpha is ignored on alpha.
  EXPECT_TRUE(r.connections.back().ignore);
  EXPECT_EQ(Render(r.connections.front().net_options),
            (std::vector<std::string>{"_name=bravo", "protocol=C"}));
}

TEST(PostParse, MeshNamingAnUnknownHostIsAnError) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r1", 10);
  r.meshes.emplace_back().hosts = {"alpha", "delta"};
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:1: in resource r1:\n\tThere is no 'on' section for hostname "
            "'delta' named in the connection-mesh\n");
}

TEST(PostParse, TwoMatchingHostSectionsAreAnError) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.all_hosts.back().on_hosts = {"alpha.example.com"};
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_NE(f.err.str().find("/etc/drbd.d/r.res:3: in resource r0, on alpha { ... } ... on "
                             "alpha.example.com { ... }:\n\tThere are multiple host sections "
                             "for this node.\n"),
            std::string::npos)
      << f.err.str();
}

TEST(PostParse, ResourceWithoutLocalHostIsIgnored) {
  Fixture f;
  f.opts.hostname = "charlie";
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid);
  EXPECT_TRUE(r.ignore);
  EXPECT_EQ(r.me, nullptr);
}

TEST(PostParse, MissingNodeIdWithExplicitConnections) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.all_hosts.back().node_id.reset();
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:3: in resource r0, on bravo { ... }: 'node-id' keyword missing.\n");
}

TEST(PostParse, MixingImplicitAndExplicitVolumesIsReportedAtEndOfFile) {
  Fixture f;
  Resource& r = AddResource(f.cfg, "r0", 1);
  HostInfo a = MakeHost("alpha", "10.1.1.1", 2, "0");
  Volume v0 = MakeVolume(0, 0, "/dev/sda");
  v0.implicit = true;
  a.volumes.push_back(v0);
  HostInfo b = MakeHost("bravo", "10.1.1.2", 6, "1");
  b.volumes.push_back(MakeVolume(1, 1, "/dev/sda"));
  r.all_hosts.push_back(a);
  r.all_hosts.push_back(b);
  f.cfg.config_file = "mix.res";
  f.cfg.end_line = 14;
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_EQ(f.err.str(),
            "mix.res:14: in resource r0, on alpha { ... }: volume 0 not defined on bravo\n"
            "mix.res:14: in resource r0, on alpha { ... }: volume 1 missing (present on bravo)\n"
            "mix.res:14: in resource r0: you must not mix implicit and explicit volumes\n");
}

TEST(PostParse, AddressUsedByTwoResourcesIsAnError) {
  Fixture f;
  AddTwoNodeResource(f.cfg, "r0", 1);
  Resource& r1 = AddTwoNodeResource(f.cfg, "r1", 2);
  r1.start_line = 10;
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:0: in resource r1\n"
            "    ipv4:10.1.1.1:7789 is also used /etc/drbd.d/r.res:0 (resource r0)\n"
            "/etc/drbd.d/r.res:0: in resource r1\n"
            "    ipv4:10.1.1.2:7789 is also used /etc/drbd.d/r.res:0 (resource r0)\n");
}

TEST(PostParse, SameAddressOnBothEndpointsIsAnError) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.all_hosts.back().address.addr = "10.1.1.1";
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:0: in resource r0 ipv4:10.1.1.1:7789 is used for both endpoints\n");
}

TEST(PostParse, LoopbackAddressesMayRepeat) {
  Fixture f;
  Resource& r0 = AddTwoNodeResource(f.cfg, "r0", 1, true, "127.0.0.");
  Resource& r1 = AddTwoNodeResource(f.cfg, "r1", 2, true, "127.0.0.");
  for (Resource* r : {&r0, &r1}) {
    for (HostInfo& h : r->all_hosts) h.address.is_local = true;
  }
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid) << f.err.str();
}

TEST(ExpandCommon, InheritedOptionsKeepDrbdUtilsOrder) {
  // ex1 of docs: common net {protocol; after-sb-*}, resource net {cram-hmac-alg;
  // shared-secret; max-buffers} → new-peer --_name=bravo --max-buffers=8k
  // --shared-secret=s3cr3t --cram-hmac-alg=sha1 --protocol=C --after-sb-0pri=...
  Fixture f;
  Resource& common = f.cfg.common.emplace();
  common.net_options = {Opt("protocol", "C"), Opt("after-sb-0pri", "discard-zero-changes"),
                        Opt("after-sb-1pri", "discard-secondary"),
                        Opt("after-sb-2pri", "disconnect")};
  common.pd_options = {Opt("resync-rate", "40M")};
  common.disk_options = {Opt("on-io-error", "detach")};
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.net_options = {Opt("cram-hmac-alg", "sha1"), Opt("shared-secret", "s3cr3t"),
                   Opt("max-buffers", "8k")};
  r.disk_options = {Opt("al-extents", "3389")};
  r.pd_options = {Opt("c-max-rate", "700M")};
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  Connection& c = r.connections.front();
  EXPECT_EQ(Render(c.net_options),
            (std::vector<std::string>{
                "_name=bravo", "max-buffers=8k", "shared-secret=s3cr3t", "cram-hmac-alg=sha1",
                "protocol=C", "after-sb-0pri=discard-zero-changes",
                "after-sb-1pri=discard-secondary", "after-sb-2pri=disconnect"}));
  EXPECT_EQ(Render(c.peer_devices.front().pd_options),
            (std::vector<std::string>{"resync-rate=40M", "c-max-rate=700M"}));
  EXPECT_EQ(Render(r.me->volumes.front().disk_options),
            (std::vector<std::string>{"al-extents=3389", "on-io-error=detach"}));
}

TEST(ExpandCommon, ConflictingInheritanceIsAmbiguous) {
  Fixture f;
  Resource& r = AddResource(f.cfg, "r0", 1);
  r.config_file = "/tmp/post/amb.res";
  r.disk_options = {Opt("al-extents", "100")};
  Volume v = MakeVolume(0, 0, "/dev/sda");
  v.disk_options = {Opt("al-extents", "200")};
  r.volumes.push_back(v);
  r.all_hosts.push_back(MakeHost("alpha", "10.1.1.1", 4, "0"));
  r.all_hosts.push_back(MakeHost("bravo", "10.1.1.2", 5, "1"));
  PostParse(f.cfg, f.opts, f.diag);
  ExpandCommon(f.cfg, f.opts, f.diag);
  EXPECT_FALSE(f.cfg.valid);
  const std::string one =
      "/tmp/post/amb.res:1: in resource r0, ambiguous inheritance for option \"al-extents\".\n"
      "should be \"100\" and \"200\" at the same time\n.";
  EXPECT_EQ(f.err.str(), one + one);
}

TEST(ExpandCommon, DisklessVolumesLoseDiskAndGetDefaultDevice) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 5);
  Volume v = MakeVolume(0, 5, "none");
  v.device.reset();
  r.all_hosts.back().volumes.push_back(v);
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  const Volume& bv = r.all_hosts.back().volumes.front();
  EXPECT_FALSE(bv.disk.has_value());
  EXPECT_FALSE(bv.meta_disk.has_value());
  EXPECT_EQ(bv.device, "/dev/drbd5");
  // The peer has no disk: its peer device gets bitmap=no.
  EXPECT_EQ(Render(r.connections.front().peer_devices.front().pd_options),
            (std::vector<std::string>{"bitmap=no"}));
}

TEST(GlobalValidate, ConvertsResyncAfterToTheMinor) {
  Fixture f;
  AddTwoNodeResource(f.cfg, "r0", 1);
  Resource& r1 = AddTwoNodeResource(f.cfg, "r1", 2, true, "10.1.2.");
  r1.disk_options = {Opt("resync-after", "r0")};
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  EXPECT_EQ(Render(r1.me->volumes.front().disk_options),
            (std::vector<std::string>{"resync-after=1"}));
  EXPECT_EQ(f.err.str(), "");
}

TEST(GlobalValidate, UnknownResyncAfterIsDroppedWithoutTty) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.disk_options = {Opt("resync-after", "rX")};
  f.Process();
  EXPECT_TRUE(f.cfg.valid);
  EXPECT_EQ(FindOption(r.me->volumes.front().disk_options, "resync-after"), nullptr);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:1: in resource r0:\n\tresource 'rX' mentioned in 'resync-after' "
            "option is not known.\n");
}

TEST(GlobalValidate, UnknownResyncAfterIsFatalWithTty) {
  Fixture f;
  f.opts.no_tty = false;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.disk_options = {Opt("resync-after", "rX")};
  PostParse(f.cfg, f.opts, f.diag);
  ExpandCommon(f.cfg, f.opts, f.diag);
  try {
    GlobalValidate(f.cfg, true, f.opts, f.diag);
    FAIL() << "expected FatalConfigError";
  } catch (const FatalConfigError& e) {
    EXPECT_EQ(e.code, ExitCode::kConfigInvalid);
  }
}

// drbd-utils >= 9.23: resync-after names are only checked where they are
// converted (not for dump), and only in this node's volumes: a peer may
// name resources this node does not know (upstream test resync_after).
TEST(GlobalValidate, ResyncAfterIsNotCheckedWithoutExpand) {
  Fixture f;
  f.opts.no_tty = false;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.disk_options = {Opt("resync-after", "rX")};
  PostParse(f.cfg, f.opts, f.diag);
  GlobalValidate(f.cfg, false, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid);
  EXPECT_EQ(Render(r.disk_options), (std::vector<std::string>{"resync-after=rX"}));
  EXPECT_EQ(f.err.str(), "");
}

TEST(GlobalValidate, PeersResyncAfterNamesAreNotConverted) {
  Fixture f;
  f.opts.no_tty = false;
  AddTwoNodeResource(f.cfg, "r0", 1);
  Resource& r1 = AddTwoNodeResource(f.cfg, "r1", 2, true, "10.1.2.");
  PostParse(f.cfg, f.opts, f.diag);
  ExpandCommon(f.cfg, f.opts, f.diag);
  HostInfo& bravo = r1.all_hosts.back();
  ASSERT_EQ(bravo.on_hosts.front(), "bravo");
  ASSERT_FALSE(bravo.volumes.empty());
  bravo.volumes.front().disk_options.push_back(Opt("resync-after", "known_only_on_bravo/0"));
  r1.me->volumes.front().disk_options.push_back(Opt("resync-after", "r0/0"));
  GlobalValidate(f.cfg, true, f.opts, f.diag);
  EXPECT_TRUE(f.cfg.valid) << f.err.str();
  EXPECT_EQ(FindOption(bravo.volumes.front().disk_options, "resync-after")->value,
            "known_only_on_bravo/0");
  EXPECT_EQ(FindOption(r1.me->volumes.front().disk_options, "resync-after")->value, "1");
  EXPECT_EQ(f.err.str(), "");
}

TEST(GlobalValidate, ConvertsDiscardNodeToLocalOrRemote) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  r.net_options = {Opt("after-sb-0pri", "discard-node-bravo")};
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  EXPECT_EQ(FindOption(r.net_options, "after-sb-0pri")->value, "discard-remote");
  EXPECT_EQ(FindOption(r.connections.front().net_options, "after-sb-0pri")->value,
            "discard-remote");
}

TEST(GlobalValidate, ResourceWithoutHostSections) {
  Fixture f;
  AddResource(f.cfg, "r0", 1);
  PostParse(f.cfg, f.opts, f.diag);
  EXPECT_THROW(GlobalValidate(f.cfg, true, f.opts, f.diag), FatalConfigError);
  EXPECT_EQ(f.err.str(),
            "/etc/drbd.d/r.res:1: in resource r0:\n\ta host sections ('on alpha { ... }') is "
            "missing.\n");
}

TEST(NamesToStr, JoinsOrSaysUnknown) {
  EXPECT_EQ(NamesToStr({}), "UNKNOWN");
  EXPECT_EQ(NamesToStr({"a", "b"}), "a b");
  EXPECT_EQ(NamesToStr({"a", "b"}, '_'), "a_b");
}

TEST(AddressesEqual, ComparesIpsNumerically) {
  Address a{"fd00::1", "7789", "ipv6"};
  Address b{"fd00:0::1", "7789", "ipv6"};
  EXPECT_TRUE(AddressesEqual(a, b));
  b.port = "7790";
  EXPECT_FALSE(AddressesEqual(a, b));
}

// The hash key must agree with AddressesEqual() on every pair: equal keys
// exactly for equal addresses, whatever the spelling.
TEST(AppendAddressKey, EqualExactlyWhenAddressesEqual) {
  const std::vector<Address> addrs = {
      {"fd00::1", "7789", "ipv6"},        {"fd00:0::1", "7789", "ipv6"},
      {"FD00:0:0:0:0:0:0:1", "7789", "ipv6"}, {"fd00::1", "7790", "ipv6"},
      {"fd00::1", "7789", "IPv6"},        {"::ffff:1.2.3.4", "7789", "ipv6"},
      {"::ffff:102:304", "7789", "ipv6"}, {"fe80::1%br0", "7789", "ipv6"},
      {"fe80::1%br0", "7789", "ipv6"},    {"fe80::1", "7789", "ipv6"},
      {"10.0.0.1", "7789", "ipv4"},       {"10.0.0.1", "7789", ""},
      {"10.0.0.1", "7789", "ssocks"},     {"10.0.0.1", "778", "ipv4"},
      {"10.0.0.17", "789", "ipv4"},       {"fd00::1", "7789", "ipv4"},
  };
  for (const Address& a : addrs) {
    for (const Address& b : addrs) {
      std::string ka, kb;
      AppendAddressKey(a, &ka);
      AppendAddressKey(b, &kb);
      EXPECT_EQ(ka == kb, AddressesEqual(a, b))
          << a.af << " " << a.addr << ":" << a.port << " vs " << b.af << " " << b.addr << ":"
          << b.port;
    }
  }
  std::string k1, k2;
  AppendAddressKey(addrs[0], &k1);
  AppendAddressKey(addrs[2], &k2);
  EXPECT_EQ(k1, k2);  // the table above must exercise a spelling match
  k1.clear();
  k2.clear();
  AppendAddressKey(addrs[5], &k1);
  AppendAddressKey(addrs[6], &k2);
  EXPECT_EQ(k1, k2);  // inet_pton-only spelling against the plain one
}

// ---------------------------------------------------------------------------
// Through the parser: config text as drbdadm reads it from standard input.

struct Parsed {
  Config cfg;
  std::ostringstream err;
  DiagSink diag{err, DiagStyle::kDrbdUtils};
  PostParseOptions opts;
  // Parses text, then runs what `drbdadm -d up all` runs before planning
  // (host `host`, no terminal). Returns false on a fatal error.
  bool Run(const std::string& text, const std::string& host = "alpha", bool expand = true) {
    opts.hostname = host;
    opts.no_tty = true;
    opts.dry_run = true;
    std::istringstream in(text);
    ParseRequest req;
    req.config_file = "-";
    req.stdin_stream = &in;
    try {
      ParseConfig(req, cfg, diag);
      PostParse(cfg, opts, diag);
      if (expand) ExpandCommon(cfg, opts, diag);
      GlobalValidate(cfg, expand, opts, diag);
      for (Resource& r : cfg.resources) {
        if (!r.ignore) SetPeerInResource(cfg, r, true, false, diag);
      }
    } catch (const FatalConfigError&) {
      return false;
    }
    return true;
  }
};

TEST(PostParseParsed, Ex1NetAndPeerDeviceOrderMatchesDrbdUtils) {
  // docs: drbdadm -d up r0 prints new-peer r0 1 --_name=bravo
  // --max-buffers=8k --shared-secret=s3cr3t --cram-hmac-alg=sha1 --protocol=C
  // --after-sb-0pri=discard-zero-changes ... and peer-device-options r0 1 0
  // --resync-rate=40M --c-max-rate=700M.
  Parsed p;
  ASSERT_TRUE(p.Run(R"(
global { usage-count no; udev-always-use-vnr; }
common { net { protocol C; after-sb-0pri discard-zero-changes; after-sb-1pri discard-secondary;
               after-sb-2pri disconnect; }
         disk { on-io-error detach; resync-rate 40M; }
         startup { wfc-timeout 30; degr-wfc-timeout 15; } }
resource r0 { options { auto-promote yes; quorum off; }
  net { cram-hmac-alg sha1; shared-secret "s3cr3t"; max-buffers 8k; }
  disk { al-extents 3389; c-max-rate 700M; }
  device /dev/drbd1; disk /dev/vg/r0; meta-disk internal;
  on alpha { node-id 0; address 10.1.1.1:7789; }  on bravo { node-id 1; address 10.1.1.2:7789; } }
)")) << p.err.str();
  Resource& r = p.cfg.resources.front();
  Connection& c = r.connections.front();
  EXPECT_EQ(Render(c.net_options),
            (std::vector<std::string>{
                "_name=bravo", "max-buffers=8k", "shared-secret=s3cr3t", "cram-hmac-alg=sha1",
                "protocol=C", "after-sb-0pri=discard-zero-changes",
                "after-sb-1pri=discard-secondary", "after-sb-2pri=disconnect"}));
  EXPECT_EQ(Render(c.peer_devices.front().pd_options),
            (std::vector<std::string>{"resync-rate=40M", "c-max-rate=700M"}));
  EXPECT_EQ(Render(r.me->volumes.front().disk_options),
            (std::vector<std::string>{"al-extents=3389", "on-io-error=detach"}));
  EXPECT_EQ(Render(r.res_options), (std::vector<std::string>{"auto-promote=yes", "quorum=off"}));
}

TEST(PostParseParsed, StackedResourceUsesLowerDevice) {
  // Recorded (-S -d up all on alpha): attach 10 /dev/drbd0 /dev/drbd0 internal
  Parsed p;
  p.opts.stacked = true;
  ASSERT_TRUE(p.Run(R"(
resource r0 {
  device /dev/drbd0; disk /dev/sda; meta-disk internal;
  on alpha { address 10.1.1.1:7789; node-id 0; }
  on bravo { address 10.1.1.2:7789; node-id 1; }
}
resource r0-U {
  net { protocol A; }
  stacked-on-top-of r0 { device /dev/drbd10; address 192.168.42.1:7788; node-id 0; }
  on charlie { device /dev/drbd10; disk /dev/hda6; address 192.168.42.2:7788;
               meta-disk internal; node-id 1; }
}
)")) << p.err.str();
  Resource& upper = p.cfg.resources.back();
  ASSERT_NE(upper.me, nullptr);
  EXPECT_TRUE(upper.stacked);
  EXPECT_EQ(upper.me->on_hosts, (Names{"alpha", "bravo"}));
  const Volume& v = upper.me->volumes.front();
  EXPECT_EQ(v.disk, "/dev/drbd0");
  EXPECT_EQ(v.meta_disk, "internal");
  EXPECT_EQ(upper.connections.front().peer->on_hosts, (Names{"charlie"}));
}

TEST(PostParseParsed, FloatingSectionMatchesByNodeNameEqualToAddress) {
  Parsed p;
  ASSERT_TRUE(p.Run(R"(
resource r0 {
  device /dev/drbd0; disk /dev/sda; meta-disk internal;
  floating 10.1.1.1:7789 { node-id 0; }
  floating 10.1.1.2:7789 { node-id 1; }
}
)",
                    "10.1.1.2"))
      << p.err.str();
  Resource& r = p.cfg.resources.front();
  ASSERT_NE(r.me, nullptr);
  EXPECT_EQ(r.me->address.addr, "10.1.1.2");
  Path& path = r.connections.front().paths.front();
  EXPECT_EQ(path.peer_address->addr, "10.1.1.1");
}

TEST(PostParseParsed, EightFourProxyConfigDerivesNodeIdsFromOutsideAddresses) {
  // Both hosts use 127.0.0.1: the proxies' outside addresses decide
  // (recorded: alice gets node-id 1, bob node-id 0).
  Parsed p;
  ASSERT_TRUE(p.Run(R"(
resource r0 {
  protocol A;
  device /dev/drbd15; disk /dev/VG/r0; meta-disk internal;
  proxy { memlimit 512M; }
  on alice { address 127.0.0.1:7915;
    proxy on alice { inside 127.0.0.1:7815; outside 192.168.23.1:7715; } }
  on bob { address 127.0.0.1:7915;
    proxy on bob { inside 127.0.0.1:7815; outside 192.168.23.2:7715; } }
}
)",
                    "alice"))
      << p.err.str();
  Resource& r = p.cfg.resources.front();
  EXPECT_EQ(r.all_hosts.front().node_id, "1");
  EXPECT_EQ(r.all_hosts.back().node_id, "0");
  // The implicit connection's proxies and the host sections' proxies share
  // the inherited options.
  ASSERT_TRUE(r.all_hosts.front().proxy_compat_only);
  EXPECT_EQ(Render(r.all_hosts.front().proxy_compat_only->options),
            (std::vector<std::string>{"memlimit=512M"}));
}

TEST(PostParseParsed, HostLineWithoutAddressOrSection) {
  Parsed p;
  EXPECT_FALSE(p.Run(R"(resource r0 {
  device /dev/drbd0; disk /dev/sda; meta-disk internal;
  on alpha { address 10.1.1.1:7789; node-id 0; }
  on bravo { address 10.1.1.2:7789; node-id 1; }
  connection { host alpha; host delta; }
}
)"));
  EXPECT_EQ(p.err.str(),
            "STDIN:5: in resource r0 a hostname (\"delta\") is given\n"
            "with a \"host\" keyword, has no \"address\" keyword, and no matching\n"
            "host section (\"on\" keyword)\n");
}

TEST(PostParseParsed, ResyncAfterNamesAVolume) {
  // Recorded (drbdadm -c - -d up all < this): both r2 volumes resolve to
  // minor 1; r3's bare "r2" is ambiguous, exit 10. 9.22 said so once per
  // host section; drbd-utils >= 9.23 converts (and reports) only this
  // node's volumes, so once.
  Parsed p;
  EXPECT_FALSE(p.Run(R"(
resource r1 {
  device /dev/drbd1; disk /dev/sdb; meta-disk internal;
  on alpha { address 10.1.1.1:7790; node-id 0; }
  on bravo { address 10.1.1.2:7790; node-id 1; }
}
resource r2 {
  volume 0 { device /dev/drbd2; disk /dev/sdc; meta-disk internal; disk { resync-after r1/0; } }
  volume 1 { device /dev/drbd3; disk /dev/sdd; meta-disk internal; disk { resync-after r1; } }
  on alpha { address 10.1.1.1:7791; node-id 0; }
  on bravo { address 10.1.1.2:7791; node-id 1; }
}
resource r3 {
  disk { resync-after r2; }
  device /dev/drbd4; disk /dev/sde; meta-disk internal;
  on alpha { address 10.1.1.1:7792; node-id 0; }
  on bravo { address 10.1.1.2:7792; node-id 1; }
}
)"));
  auto it = p.cfg.resources.begin();
  ++it;
  Resource& r2 = *it;
  EXPECT_EQ(FindOption(r2.me->volumes.front().disk_options, "resync-after")->value, "1");
  EXPECT_EQ(FindOption(r2.me->volumes.back().disk_options, "resync-after")->value, "1");
  const std::string one =
      "STDIN:13: in resource r3:\n\tresync-after contains 'r2', which is ambiguous, since it "
      "contains 2 volumes\n";
  EXPECT_EQ(p.err.str(), one);
}

TEST(PostParseParsed, ConflictingInheritedResyncAfterExitsLikeDrbdUtils) {
  // drbd-utils compares the two values as numbers and exits:
  // recorded "r9 is not a valid number", exit 20.
  Parsed p;
  EXPECT_FALSE(p.Run(R"(common { disk { resync-after r9; } }
resource r0 {
  volume 0 { device /dev/drbd0; disk /dev/sda; meta-disk internal; disk { resync-after r1/0; } }
  on alpha { address 10.1.1.1:7789; node-id 0; }
  on bravo { address 10.1.1.2:7789; node-id 1; }
}
)"));
  EXPECT_EQ(p.err.str(), "r9 is not a valid number\n");
}

TEST(PostParseParsed, VolumeDefinedTwiceInAHostIsReportedAsUnsorted) {
  // Recorded: "internal error: in r1: unsorted volumes list" (config stays
  // valid as far as this check goes).
  Parsed p;
  p.Run(R"(resource r1 {
  on alpha { address 10.1.1.1:7790; device minor 3; node-id 0;
             volume 0 { device /dev/drbd1; disk /dev/sdc; meta-disk internal; } }
  on bravo { address 10.1.1.2:7790; node-id 1;
             volume 0 { device /dev/drbd1; disk /dev/sdc; meta-disk internal; } }
}
)");
  EXPECT_NE(p.err.str().find("internal error: in r1: unsorted volumes list\n"), std::string::npos)
      << p.err.str();
}


TEST(ExpandCommon, DeviceOptionsReachEveryHostVolume) {
  // drbd-utils HEAD syntax (device options inside disk { }): inherited from
  // common to the resource and on to each host's volumes.
  Fixture f;
  f.cfg.common.emplace().device_options = {Opt("max-bio-size", "4k")};
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  for (const HostInfo& h : r.all_hosts) {
    EXPECT_EQ(Render(h.volumes.front().device_options),
              (std::vector<std::string>{"max-bio-size=4k"}));
  }
}

TEST(SetPeerInResource, PeerVolumeWithoutTiebreakerGetsPeerTiebreakerNo) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  PostParse(f.cfg, f.opts, f.diag);
  ExpandCommon(f.cfg, f.opts, f.diag);
  r.all_hosts.back().volumes.front().tiebreaker = false;
  SetPeerInResource(f.cfg, r, true, false, f.diag);
  EXPECT_EQ(Render(r.connections.front().peer_devices.front().pd_options),
            (std::vector<std::string>{"peer-tiebreaker=no"}));
}

// Newer drbd-utils: `host X address A via outside-address B;` — the peer is
// reached at its outside (NAT) address, our own end binds the inside one.
TEST(PostParse, PeerBehindNatIsReachedAtItsOutsideAddress) {
  Fixture f;
  Resource& r = AddTwoNodeResource(f.cfg, "r0", 1);
  Connection& c = r.connections.emplace_back();
  c.config_line = 5;
  Path& p = c.paths.emplace_back();
  p.implicit = true;
  p.config_line = 5;
  for (auto [name, inside, outside] :
       {std::tuple{"alpha", "10.43.10.50", "192.168.17.19"},
        std::tuple{"bravo", "10.43.10.51", "192.168.17.20"}}) {
    HnameAddress& ha = p.hname_address_pairs.emplace_back();
    ha.name = name;
    ha.config_line = 5;
    ha.address = {inside, "7000", "ipv4"};
    ha.parsed_address = true;
    ha.outside_address = Address{outside, "7000", "ipv4"};
    ha.parsed_outside_address = true;
  }
  f.Process();
  ASSERT_TRUE(f.cfg.valid) << f.err.str();
  ASSERT_NE(p.my_address, nullptr);
  ASSERT_NE(p.peer_address, nullptr);
  EXPECT_EQ(p.my_address->addr, "10.43.10.50");
  EXPECT_EQ(p.peer_address->addr, "192.168.17.20");
}

}  // namespace
}  // namespace drbd::cfg
