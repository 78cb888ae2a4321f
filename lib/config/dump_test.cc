// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for the dump / dump-xml printers on hand-built models. Every expected
// text is the output of drbd-utils 9.22 (`drbdadm [-v] -c F dump[-xml] ...`)
// for the equivalent configuration, quoted above each test.
#include "lib/config/dump.h"
#include "lib/config/postparse.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "lib/config/diag.h"

namespace drbd::cfg {
namespace {

Option Opt(std::string name, std::string value) {
  Option o;
  o.name = std::move(name);
  o.value = std::move(value);
  return o;
}

Option Flag(std::string name) {
  Option o;
  o.name = std::move(name);
  o.has_value = false;
  return o;
}

Address Addr(std::string af, std::string addr, std::string port) {
  Address a;
  a.af = std::move(af);
  a.addr = std::move(addr);
  a.port = std::move(port);
  return a;
}

Volume Vol(int vnr, std::optional<std::string> device, int minor, std::string disk,
           std::string meta_disk, std::string meta_index, bool parsed) {
  Volume v;
  v.vnr = vnr;
  v.device = std::move(device);
  v.device_minor = minor;
  v.disk = std::move(disk);
  v.meta_disk = std::move(meta_disk);
  v.meta_index = std::move(meta_index);
  v.parsed_device = v.parsed_disk = v.parsed_meta_disk = parsed;
  return v;
}

HostInfo Host(std::string name, std::string node_id, Address a) {
  HostInfo h;
  h.on_hosts = {std::move(name)};
  h.node_id = std::move(node_id);
  h.address = std::move(a);
  return h;
}

HnameAddress Pair(std::string name, Address a, bool parsed_address) {
  HnameAddress ha;
  ha.name = std::move(name);
  ha.address = std::move(a);
  ha.parsed_address = parsed_address;
  return ha;
}

std::string Text(const Config& cfg, const DumpOptions& opts, bool header = true) {
  std::ostringstream out;
  if (header) DumpHeader(cfg, opts, out);
  for (const Resource& r : cfg.resources) DumpResource(cfg, r, opts, out);
  return out.str();
}

std::string Xml(const Config& cfg, const DumpOptions& opts) {
  std::ostringstream out;
  if (!opts.xml_standalone) DumpXmlHeader(cfg, opts, out);
  for (const Resource& r : cfg.resources) DumpXmlResource(cfg, r, opts, out);
  if (!opts.xml_standalone) DumpXmlFooter(out);
  return out.str();
}

// global { usage-count no; disable-ip-verification; }
// common { net { protocol C; max-buffers 8k; } disk { c-max-rate 100M; }
//          startup { stacked-timeouts; wfc-timeout 5; } }
// resource r0 {                                       # line 3
//   net { cram-hmac-alg sha1; }
//   options { auto-promote yes; }
//   volume 0 { device /dev/drbd1; disk /dev/vg/a; meta-disk internal; }
//   volume 1 { device minor 2; disk /dev/vg/b; meta-disk /dev/md [3];
//              disk { al-extents 1000; } }
//   on alpha { node-id 0; address 10.1.1.1:7789; }
//   on bravo { node-id 1; address 10.1.1.2:7789; }
// }
// As post-processed for plain `dump all` (no expansion).
Config TwoVolumeConfig() {
  Config cfg;
  cfg.config_save = "/tmp/dumpw/c.res";
  cfg.globals.usage_count = UsageCount::kNo;
  cfg.globals.disable_ip_verification = true;
  Resource common;
  common.net_options = {Opt("protocol", "C"), Opt("max-buffers", "8k")};
  common.pd_options = {Opt("c-max-rate", "100M")};
  common.startup_options = {Opt("wfc-timeout", "5")};
  common.stacked_timeouts = true;
  cfg.common = common;

  Resource& r = cfg.resources.emplace_back();
  r.name = "r0";
  r.config_file = "/tmp/dumpw/c.res";
  r.start_line = 3;
  r.net_options = {Opt("cram-hmac-alg", "sha1")};
  r.res_options = {Opt("auto-promote", "yes")};
  r.volumes.push_back(Vol(0, "/dev/drbd1", 1, "/dev/vg/a", "internal", "internal", true));
  Volume v1 = Vol(1, std::nullopt, 2, "/dev/vg/b", "/dev/md", "3", true);
  v1.disk_options = {Opt("al-extents", "1000")};
  r.volumes.push_back(v1);
  for (auto [name, id, ip] :
       {std::tuple{"alpha", "0", "10.1.1.1"}, std::tuple{"bravo", "1", "10.1.1.2"}}) {
    HostInfo& h = r.all_hosts.emplace_back(Host(name, id, Addr("ipv4", ip, "7789")));
    for (const Volume& v : r.volumes) {
      Volume copy = v;
      copy.parsed_device = copy.parsed_disk = copy.parsed_meta_disk = false;
      h.volumes.push_back(copy);
    }
  }
  // The implicit connection post-processing adds for two hosts.
  Connection& c = r.connections.emplace_back();
  c.implicit = true;
  Path& p = c.paths.emplace_back();
  p.implicit = true;
  for (HostInfo& h : r.all_hosts) {
    HnameAddress& ha = p.hname_address_pairs.emplace_back();
    ha.name = h.on_hosts.front();
    ha.host_info = &h;
  }
  for (int vnr : {0, 1}) {
    PeerDevice& pd = c.peer_devices.emplace_back();
    pd.vnr = vnr;
    pd.implicit = true;
  }
  return cfg;
}

TEST(Dump, PrintsGlobalCommonAndResourceLikeDrbdUtils) {
  Config cfg = TwoVolumeConfig();
  DumpOptions opts;
  opts.hostname = "alpha";
  EXPECT_EQ(Text(cfg, opts),
            "# /tmp/dumpw/c.res\n"
            "global {\n"
            "    disable-ip-verification;\n"
            "    usage-count no;\n"
            "}\n"
            "\n"
            "common {\n"
            "    net {\n"
            "        protocol           C;\n"
            "        max-buffers       8k;\n"
            "    }\n"
            "    disk {\n"
            "        c-max-rate       100M;\n"
            "    }\n"
            "    startup {\n"
            "        wfc-timeout        5;\n"
            "        stacked-timeouts;\n"
            "    }\n"
            "}\n"
            "\n"
            "# resource r0 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/c.res:3\n"
            "resource r0 {\n"
            "    volume 0 {\n"
            "        device           /dev/drbd1 minor 1;\n"
            "        disk             /dev/vg/a;\n"
            "        meta-disk        internal;\n"
            "    }\n"
            "    volume 1 {\n"
            "        disk {\n"
            "            al-extents   1000;\n"
            "        }\n"
            "        device           minor 2;\n"
            "        disk             /dev/vg/b;\n"
            "        meta-disk        /dev/md [3];\n"
            "    }\n"
            "    on alpha {\n"
            "        node-id 0;\n"
            "        address          ipv4 10.1.1.1:7789;\n"
            "    }\n"
            "    on bravo {\n"
            "        node-id 1;\n"
            "        address          ipv4 10.1.1.2:7789;\n"
            "    }\n"
            "    options {\n"
            "        auto-promote     yes;\n"
            "    }\n"
            "    net {\n"
            "        cram-hmac-alg    sha1;\n"
            "    }\n"
            "}\n"
            "\n");
}

TEST(Dump, GlobalSectionOmittedWhenAllDefaultUnlessVerbose) {
  Config cfg;
  cfg.config_save = "/etc/drbd.conf";
  cfg.globals.udev_always_use_vnr = true;  // never printed
  cfg.globals.cmd_timeout_short = 9;       // never printed
  DumpOptions opts;
  std::ostringstream out;
  DumpHeader(cfg, opts, out);
  EXPECT_EQ(out.str(), "# /etc/drbd.conf\n");
  opts.verbose = true;
  std::ostringstream vout;
  DumpHeader(cfg, opts, vout);
  EXPECT_EQ(vout.str(), "# /etc/drbd.conf\nglobal {\n}\n\n");
}

// The same configuration after expand_common, dumped with -v: per-host
// volumes with their inherited disk sections, the implicit connection with
// a path block and its peer devices, no resource-level volumes.
TEST(Dump, VerbosePrintsExpandedHostsAndImplicitConnection) {
  Config cfg = TwoVolumeConfig();
  Resource& r = cfg.resources.front();
  r.net_options = {Opt("max-buffers", "8k"), Opt("protocol", "C"), Opt("cram-hmac-alg", "sha1")};
  r.pd_options = {Opt("c-max-rate", "100M")};
  r.startup_options = {Opt("wfc-timeout", "5")};
  r.stacked_timeouts = true;
  for (HostInfo& h : r.all_hosts) {
    for (Volume& v : h.volumes) {
      v.pd_options = {Opt("c-max-rate", "100M")};
      v.device = "/dev/drbd" + std::to_string(v.device_minor);
    }
  }
  Connection& c = r.connections.front();
  c.net_options = {Opt("cram-hmac-alg", "sha1"), Opt("protocol", "C"), Opt("max-buffers", "8k")};
  auto host = r.all_hosts.begin();
  for (HnameAddress& ha : c.paths.front().hname_address_pairs) {
    ha.address = (host++)->address;
  }
  for (PeerDevice& pd : c.peer_devices) pd.pd_options = {Opt("c-max-rate", "100M")};

  DumpOptions opts;
  opts.verbose = true;
  opts.hostname = "alpha";
  std::string host_block_tail =
      "        volume 0 {\n"
      "            disk {\n"
      "                c-max-rate 100M;\n"
      "            }\n"
      "            device       /dev/drbd1 minor 1;\n"
      "            disk         /dev/vg/a;\n"
      "            meta-disk    internal;\n"
      "        }\n"
      "        volume 1 {\n"
      "            disk {\n"
      "                al-extents 1000;\n"
      "                c-max-rate 100M;\n"
      "            }\n"
      "            device       /dev/drbd2 minor 2;\n"
      "            disk         /dev/vg/b;\n"
      "            meta-disk        /dev/md [3];\n"
      "        }\n";
  EXPECT_EQ(Text(cfg, opts, /*header=*/false),
            "# resource r0 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/c.res:3\n"
            "resource r0 {\n"
            "    on alpha {\n"
            "        node-id 0;\n" +
                host_block_tail +
                "        address          ipv4 10.1.1.1:7789;\n"
                "    }\n"
                "    on bravo {\n"
                "        node-id 1;\n" +
                host_block_tail +
                "        address          ipv4 10.1.1.2:7789;\n"
                "    }\n"
                "    connection {\n"
                "        path {\n"
                "            host alpha             address         ipv4 10.1.1.1:7789;\n"
                "            host bravo             address         ipv4 10.1.1.2:7789;\n"
                "        }\n"
                "        net {\n"
                "            cram-hmac-alg sha1;\n"
                "            protocol       C;\n"
                "            max-buffers   8k;\n"
                "        }\n"
                "        volume 0 {\n"
                "            disk {\n"
                "                c-max-rate 100M;\n"
                "            }\n"
                "        }\n"
                "        volume 1 {\n"
                "            disk {\n"
                "                c-max-rate 100M;\n"
                "            }\n"
                "        }\n"
                "    }\n"
                "    options {\n"
                "        auto-promote     yes;\n"
                "    }\n"
                "    net {\n"
                "        max-buffers       8k;\n"
                "        protocol           C;\n"
                "        cram-hmac-alg    sha1;\n"
                "    }\n"
                "    disk {\n"
                "        c-max-rate       100M;\n"
                "    }\n"
                "    startup {\n"
                "        wfc-timeout        5;\n"
                "        stacked-timeouts;\n"
                "    }\n"
                "}\n"
                "\n");
}

// resource r1 {                                       # line 2
//   device /dev/drbd5; disk "/dev/with space"; meta-disk internal;
//   on alpha { node-id 0; }
//   on bravo { node-id 1; }
//   on charlie { node-id 2; address 10.1.5.3:7000; }
//   connection { path { host alpha address 10.1.3.1:7790;
//                       host charlie address 10.1.3.3:7790; }
//                net { protocol A; } volume 0 { disk { c-max-rate 10M; } } }
//   connection { host alpha address 10.1.4.1:7790; host bravo address 10.1.4.2:7790; }
//   connection { host bravo address 10.1.6.2:7790; host charlie port 7791; }
// }
// `dump r1` (named: _name is added to the connections of this node).
TEST(Dump, ConnectionsWithPathsHostLinesAndPorts) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r1";
  r.config_file = "/tmp/dumpw/d.res";
  r.start_line = 2;
  Volume v = Vol(0, "/dev/drbd5", 5, "/dev/with space", "internal", "internal", true);
  v.implicit = true;
  r.volumes.push_back(v);
  r.all_hosts.push_back(Host("alpha", "0", {}));
  r.all_hosts.push_back(Host("bravo", "1", {}));
  r.all_hosts.push_back(Host("charlie", "2", Addr("ipv4", "10.1.5.3", "7000")));

  Connection& c1 = r.connections.emplace_back();
  Path& p1 = c1.paths.emplace_back();
  p1.hname_address_pairs.push_back(Pair("alpha", Addr("ipv4", "10.1.3.1", "7790"), true));
  p1.hname_address_pairs.push_back(Pair("charlie", Addr("ipv4", "10.1.3.3", "7790"), true));
  c1.net_options = {Opt("_name", "charlie"), Opt("protocol", "A")};
  PeerDevice& pd = c1.peer_devices.emplace_back();
  pd.pd_options = {Opt("c-max-rate", "10M")};

  Connection& c2 = r.connections.emplace_back();
  Path& p2 = c2.paths.emplace_back();
  p2.implicit = true;
  p2.hname_address_pairs.push_back(Pair("alpha", Addr("ipv4", "10.1.4.1", "7790"), true));
  p2.hname_address_pairs.push_back(Pair("bravo", Addr("ipv4", "10.1.4.2", "7790"), true));
  c2.net_options = {Opt("_name", "bravo")};
  c2.peer_devices.emplace_back().implicit = true;

  Connection& c3 = r.connections.emplace_back();
  Path& p3 = c3.paths.emplace_back();
  p3.implicit = true;
  p3.hname_address_pairs.push_back(Pair("bravo", Addr("ipv4", "10.1.6.2", "7790"), true));
  HnameAddress port_only = Pair("charlie", Addr("ipv4", "10.1.5.3", "7791"), false);
  port_only.parsed_port = true;
  p3.hname_address_pairs.push_back(port_only);

  DumpOptions opts;
  opts.hostname = "alpha";
  EXPECT_EQ(Text(cfg, opts, /*header=*/false),
            "# resource r1 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/d.res:2\n"
            "resource r1 {\n"
            "    device               /dev/drbd5 minor 5;\n"
            "    disk                 \"/dev/with space\";\n"
            "    meta-disk            internal;\n"
            "    on alpha {\n"
            "        node-id 0;\n"
            "    }\n"
            "    on bravo {\n"
            "        node-id 1;\n"
            "    }\n"
            "    on charlie {\n"
            "        node-id 2;\n"
            "        address          ipv4 10.1.5.3:7000;\n"
            "    }\n"
            "    connection {\n"
            "        path {\n"
            "            host alpha             address         ipv4 10.1.3.1:7790;\n"
            "            host charlie             address         ipv4 10.1.3.3:7790;\n"
            "        }\n"
            "        net {\n"
            "            _name        charlie;\n"
            "            protocol       A;\n"
            "        }\n"
            "        volume 0 {\n"
            "            disk {\n"
            "                c-max-rate 10M;\n"
            "            }\n"
            "        }\n"
            "    }\n"
            "    connection {\n"
            "        host alpha         address         ipv4 10.1.4.1:7790;\n"
            "        host bravo         address         ipv4 10.1.4.2:7790;\n"
            "        net {\n"
            "            _name        bravo;\n"
            "        }\n"
            "    }\n"
            "    connection {\n"
            "        host bravo         address         ipv4 10.1.6.2:7790;\n"
            "        host charlie port 7791;\n"
            "    }\n"
            "}\n"
            "\n");
}

// global { disable-ip-verification; minor-count 7; dialog-refresh 5; }
// common { proxy { memlimit 100M; plugin { lz4 level 3; } } }
// resource "r 2" {                                    # line 3
//   device "/dev/drbd_x y" minor 9; disk none; meta-disk /dev/md;
//   on alpha beta { node-id 0; address ipv6 [fd00::1]:7000; options { cpu-mask 1; } }
//   floating 10.9.9.9:7001 { node-id 1; }
//   handlers { before-resync-target "echo \"hi\" & <x>"; }
//   proxy { plugin { zstd level 1; } }
// }
Config QuotingConfig() {
  Config cfg;
  cfg.config_save = "/tmp/dumpw/e.res";
  cfg.globals.disable_ip_verification = true;
  cfg.globals.minor_count = 7;
  cfg.globals.dialog_refresh = 5;
  Resource common;
  common.proxy_options = {Opt("memlimit", "100M")};
  common.proxy_plugins = {Flag("lz4 level 3")};
  cfg.common = common;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r 2";
  r.config_file = "/tmp/dumpw/e.res";
  r.start_line = 3;
  Volume v = Vol(0, "/dev/drbd_x y", 9, "none", "/dev/md", "flexible", true);
  v.implicit = true;
  r.volumes.push_back(v);
  HostInfo h = Host("alpha", "0", Addr("ipv6", "fd00::1", "7000"));
  h.on_hosts.push_back("beta");
  h.res_options = {Opt("cpu-mask", "1")};
  r.all_hosts.push_back(h);
  HostInfo f = Host("", "1", Addr("ipv4", "10.9.9.9", "7001"));
  f.on_hosts.clear();
  f.by_address = true;
  r.all_hosts.push_back(f);
  for (HostInfo& hi : r.all_hosts) {
    Volume copy = v;
    copy.parsed_device = copy.parsed_disk = copy.parsed_meta_disk = false;
    hi.volumes.push_back(copy);
  }
  r.handlers = {Opt("before-resync-target", "echo \"hi\" & <x>")};
  r.proxy_plugins = {Flag("zstd level 1")};
  Connection& c = r.connections.emplace_back();
  c.implicit = true;
  Path& p = c.paths.emplace_back();
  p.implicit = true;
  for (HostInfo& hi : r.all_hosts) {
    HnameAddress& ha = p.hname_address_pairs.emplace_back();
    ha.name = hi.by_address ? "10.9.9.9:7001" : hi.on_hosts.front();
    ha.host_info = &hi;
  }
  return cfg;
}

TEST(Dump, QuotesNamesAndValuesAndPrintsFloatingAndPlugins) {
  Config cfg = QuotingConfig();
  DumpOptions opts;
  opts.hostname = "alpha";
  EXPECT_EQ(Text(cfg, opts),
            "# /tmp/dumpw/e.res\n"
            "global {\n"
            "    disable-ip-verification;\n"
            "    minor-count 7;\n"
            "    dialog-refresh 5;\n"
            "}\n"
            "\n"
            "common {\n"
            "    proxy {\n"
            "        memlimit         100M;\n"
            "        plugin {\n"
            "            lz4 level 3;\n"
            "        }\n"
            "    }\n"
            "}\n"
            "\n"
            "# resource \"r 2\" on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/e.res:3\n"
            "resource \"r 2\" {\n"
            "    device               \"/dev/drbd_x y\" minor 9;\n"
            "    disk                 none;\n"
            "    meta-disk        /dev/md;\n"
            "    on alpha beta {\n"
            "        node-id 0;\n"
            "        options {\n"
            "            cpu-mask       1;\n"
            "        }\n"
            "        address          ipv6 [fd00::1]:7000;\n"
            "    }\n"
            "    floating         ipv4 10.9.9.9:7001 {\n"
            "        node-id 1;\n"
            "    }\n"
            "    proxy {\n"
            "        plugin {\n"
            "            zstd level 1;\n"
            "        }\n"
            "    }\n"
            "    handlers {\n"
            "        before-resync-target \"echo \\\"hi\\\" & <x>\";\n"
            "    }\n"
            "}\n"
            "\n");
}

TEST(DumpXml, PrintsConfigWithCommonTextPluginQuirk) {
  Config cfg = QuotingConfig();
  DumpOptions opts;
  opts.hostname = "alpha";
  EXPECT_EQ(Xml(cfg, opts),
            "<config file=\"/tmp/dumpw/e.res\">\n"
            "    <global>\n"
            "        <disable-ip-verification/>\n"
            "        <minor-count count=\"7\"/>\n"
            "        <dialog-refresh refresh=\"5\"/>\n"
            "    </global>\n"
            "    <common>\n"
            "        <section name=\"proxy\">\n"
            "            <option name=\"memlimit\" value=\"100M\"/>\n"
            "            plugin {\n"
            "                lz4 level 3;\n"
            "            }\n"
            "        </section>\n"
            "    </common>\n"
            "    <resource name=\"r 2\" conf-file-line=\"/tmp/dumpw/e.res:3\">\n"
            "        <host name=\"alpha beta\">\n"
            "            <section name=\"options\">\n"
            "                <option name=\"cpu-mask\" value=\"1\"/>\n"
            "            </section>\n"
            "            <volume vnr=\"0\">\n"
            "                <device minor=\"9\">/dev/drbd_x y</device>\n"
            "                <disk>none</disk>\n"
            "                <meta-disk>/dev/md</meta-disk>\n"
            "            </volume>\n"
            "            <address family=\"ipv6\" port=\"7000\">fd00::1</address>\n"
            "        </host>\n"
            "        <host floating=\"1\">\n"
            "            <volume vnr=\"0\">\n"
            "                <device minor=\"9\">/dev/drbd_x y</device>\n"
            "                <disk>none</disk>\n"
            "                <meta-disk>/dev/md</meta-disk>\n"
            "            </volume>\n"
            "            <address family=\"ipv4\" port=\"7001\">10.9.9.9</address>\n"
            "        </host>\n"
            "        <connection>\n"
            "            <host name=\"alpha\"><address family=\"ipv6\" "
            "port=\"7000\">fd00::1</address></host>\n"
            "            <host name=\"10.9.9.9:7001\"><address family=\"ipv4\" "
            "port=\"7001\">10.9.9.9</address></host>\n"
            "        </connection>\n"
            "        <section name=\"proxy\">\n"
            "            <section name=\"plugin\">\n"
            "                <option name=\"zstd level 1\"/>\n"
            "            </section>\n"
            "        </section>\n"
            "        <section name=\"handlers\">\n"
            "            <option name=\"before-resync-target\" value=\"echo &quot;hi&quot; "
            "&amp; &lt;x&gt;\"/>\n"
            "        </section>\n"
            "    </resource>\n"
            "</config>\n");
}

// `dump-xml r1` on the configuration of ConnectionsWithPathsHostLinesAndPorts
// (cut to the first host): no <config> wrapper, column 0, "(null)" for a
// host without an address.
TEST(DumpXml, StandaloneResourceStartsAtColumnZero) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r1";
  r.config_file = "/tmp/dumpw/d.res";
  r.start_line = 2;
  HostInfo& h = r.all_hosts.emplace_back(Host("alpha", "0", {}));
  h.volumes.push_back(Vol(0, "/dev/drbd5", 5, "/dev/with space", "internal", "internal", false));
  DumpOptions opts;
  opts.xml_standalone = true;
  EXPECT_EQ(Xml(cfg, opts),
            "<resource name=\"r1\" conf-file-line=\"/tmp/dumpw/d.res:2\">\n"
            "    <host name=\"alpha\">\n"
            "        <volume vnr=\"0\">\n"
            "            <device minor=\"5\">/dev/drbd5</device>\n"
            "            <disk>/dev/with space</disk>\n"
            "            <meta-disk>internal</meta-disk>\n"
            "        </volume>\n"
            "        <address family=\"(null)\" port=\"(null)\">(null)</address>\n"
            "    </host>\n"
            "</resource>\n");
}

// resource "a&b" { ... } in /tmp/dumpw/q'd/q.res: drbd-utils escapes name and
// file into the same static buffer, so the escaped name shows up twice.
TEST(DumpXml, ResourceLineRepeatsNameWhenNameAndFileNeedEscaping) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "a&b";
  r.config_file = "/tmp/dumpw/q'd/q.res";
  r.start_line = 2;
  DumpOptions opts;
  opts.xml_standalone = true;
  std::string first_line = Xml(cfg, opts).substr(0, Xml(cfg, opts).find('\n'));
  EXPECT_EQ(first_line, "<resource name=\"a&amp;b\" conf-file-line=\"a&amp;b:2\">");
  r.name = "ab";
  first_line = Xml(cfg, opts).substr(0, Xml(cfg, opts).find('\n'));
  EXPECT_EQ(first_line, "<resource name=\"ab\" conf-file-line=\"/tmp/dumpw/q&apos;d/q.res:2\">");
}

// resource upper { stacked-on-top-of lower-alice-bob { node-id 1;
//   address 127.0.0.1:1230; proxy on alic bob { inside 127.0.0.1:1234;
//   outside 192.168.23.21:7791; } } ... }  (corpus 117, on host amd)
TEST(Dump, StackedHostWithCompatProxy) {
  Config cfg;
  Resource& lower = cfg.resources.emplace_back();
  lower.name = "lower-alice-bob";
  Resource& r = cfg.resources.emplace_back();
  r.name = "upper";
  r.config_file = "/c/117.res";
  r.start_line = 623;
  r.ignore = true;
  HostInfo h = Host("alice", "1", Addr("ipv4", "127.0.0.1", "1230"));
  h.on_hosts.push_back("bob");
  h.lower = &lower;
  h.lower_name = lower.name;
  // `device` inside stacked-on-top-of does not mark the volume as parsed.
  Volume v = Vol(0, "/dev/drbd10", 10, "/dev/drbd4", "internal", "internal", false);
  v.implicit = true;
  h.volumes.push_back(v);
  ProxyInfo pi;
  pi.on_hosts = {"alic", "bob"};
  pi.inside = Addr("ipv4", "127.0.0.1", "1234");
  pi.outside = Addr("ipv4", "192.168.23.21", "7791");
  h.proxy_compat_only = pi;
  r.all_hosts.push_back(h);
  r.net_options = {Opt("protocol", "A")};
  DumpOptions opts;
  opts.hostname = "amd";
  std::ostringstream out;
  DumpResource(cfg, r, opts, out);
  EXPECT_EQ(out.str(),
            "# resource upper on amd: ignored, not stacked\n"
            "# defined at /c/117.res:623\n"
            "resource upper {\n"
            "    stacked-on-top-of lower-alice-bob {\n"
            "        # on alice bob \n"
            "        node-id 1;\n"
            "        address          ipv4 127.0.0.1:1230;\n"
            "        proxy on alic bob {\n"
            "            inside           ipv4 127.0.0.1:1234;\n"
            "            outside          ipv4 192.168.23.21:7791;\n"
            "        }\n"
            "    }\n"
            "    net {\n"
            "        protocol           A;\n"
            "    }\n"
            "}\n"
            "\n");
}

// global { disable-ip-verification; }
// resource low { ... on alpha { ... } on bravo { ... } }
// resource up {                                       # line 4
//   stacked-on-top-of low { node-id 0; device /dev/drbd10; address 10.0.1.1:7001; }
//   on charlie { node-id 1; device /dev/drbd10; disk /dev/sdb; meta-disk internal;
//                address 10.0.1.3:7001; }
// }
// `drbdadm -v dump up`: the stacked end of the implicit connection is an
// `address` line with a `# on` comment, and the `;` lands on its own line.
TEST(Dump, VerboseStackedEndpointPrintsFakedHostnameQuirk) {
  Config cfg;
  Resource& lower = cfg.resources.emplace_back();
  lower.name = "low";
  Resource& r = cfg.resources.emplace_back();
  r.name = "up";
  r.config_file = "/tmp/dumpw/s.res";
  r.start_line = 4;
  r.stacked = true;
  HostInfo& s = r.all_hosts.emplace_back(Host("alpha", "0", Addr("ipv4", "10.0.1.1", "7001")));
  s.on_hosts.push_back("bravo");
  s.lower = &lower;
  Volume sv = Vol(0, "/dev/drbd10", 10, "/dev/drbd1", "internal", "internal", false);
  sv.implicit = true;
  s.volumes.push_back(sv);
  HostInfo& c = r.all_hosts.emplace_back(Host("charlie", "1", Addr("ipv4", "10.0.1.3", "7001")));
  Volume cv = Vol(0, "/dev/drbd10", 10, "/dev/sdb", "internal", "internal", true);
  cv.implicit = true;
  c.volumes.push_back(cv);
  Connection& conn = r.connections.emplace_back();
  conn.implicit = true;
  Path& p = conn.paths.emplace_back();
  p.implicit = true;
  HnameAddress faked = Pair("alpha_bravo", s.address, true);
  faked.faked_hostname = true;
  p.hname_address_pairs.push_back(faked);
  p.hname_address_pairs.push_back(Pair("charlie", c.address, false));
  conn.net_options = {Opt("_name", "charlie")};
  conn.peer_devices.emplace_back().implicit = true;

  DumpOptions opts;
  opts.hostname = "alpha";
  opts.verbose = true;
  std::ostringstream out;
  DumpResource(cfg, r, opts, out);
  EXPECT_EQ(out.str(),
            "# resource up on alpha: not ignored, stacked\n"
            "# defined at /tmp/dumpw/s.res:4\n"
            "resource up {\n"
            "    stacked-on-top-of low {\n"
            "        # on alpha bravo \n"
            "        node-id 0;\n"
            "        device           /dev/drbd10 minor 10;\n"
            "        address          ipv4 10.0.1.1:7001;\n"
            "    }\n"
            "    on charlie {\n"
            "        node-id 1;\n"
            "        device           /dev/drbd10 minor 10;\n"
            "        disk             /dev/sdb;\n"
            "        meta-disk        internal;\n"
            "        address          ipv4 10.0.1.3:7001;\n"
            "    }\n"
            "    connection {\n"
            "        path {\n"
            "            address          ipv4 10.0.1.1:7001; # on alpha_bravo\n"
            ";\n"
            "            host charlie             address         ipv4 10.0.1.3:7001;\n"
            "        }\n"
            "        net {\n"
            "            _name        charlie;\n"
            "        }\n"
            "        volume 0 {\n"
            "        }\n"
            "    }\n"
            "}\n"
            "\n");
}

// resource r0 { volume 0 { disk { c-max-rate 1M; } } volume 3 { device minor 13;
//   disk /dev/vg/c; flexible-meta-disk /dev/md3; } ... }
// A volume with neither device, minor, disk nor meta-disk prints as an empty
// block (its disk options are not shown); flexible external meta-disk.
TEST(Dump, VolumeWithoutDeviceOrDiskPrintsEmptyBlock) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r0";
  r.config_file = "/tmp/dumpw/t.res";
  r.start_line = 3;
  Volume v0;
  v0.vnr = 0;
  v0.parsed_disk = true;
  v0.pd_options = {Opt("c-max-rate", "1M")};
  r.volumes.push_back(v0);
  Volume v3 = Vol(3, std::nullopt, 13, "/dev/vg/c", "/dev/md3", "flexible", true);
  r.volumes.push_back(v3);
  DumpOptions opts;
  opts.hostname = "alpha";
  EXPECT_EQ(Text(cfg, opts, /*header=*/false),
            "# resource r0 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/t.res:3\n"
            "resource r0 {\n"
            "    volume 0 {\n"
            "    }\n"
            "    volume 3 {\n"
            "        device           minor 13;\n"
            "        disk             /dev/vg/c;\n"
            "        meta-disk        /dev/md3;\n"
            "    }\n"
            "}\n"
            "\n");
}

// common { startup { stacked-timeouts; } }
// resource r0 { ... }                                 # no startup section
// resource r1 { ... startup { become-primary-on both; } }
// `drbdadm -d dump all`: the flag reaches both resources by inheritance, but
// drbd-utils only shows `stacked-timeouts;` where the startup option list
// did not come from an option-less `startup { }` section.
TEST(Dump, StackedTimeoutsLostAfterOptionlessStartupSection) {
  Config cfg;
  cfg.config_save = "/tmp/dumpw/gen/h2.res";
  Resource common;
  common.stacked_timeouts = true;
  common.startup_section_empty = true;
  cfg.common = common;
  for (const char* name : {"r0", "r1"}) {
    Resource& r = cfg.resources.emplace_back();
    r.name = name;
    r.config_file = "/tmp/dumpw/gen/h2.res";
    r.start_line = 3;
    r.stacked_timeouts = true;
  }
  cfg.resources.back().startup_section_empty = true;
  cfg.resources.back().start_line = 5;
  DumpOptions opts;
  opts.hostname = "alpha";
  opts.dry_run = true;
  EXPECT_EQ(Text(cfg, opts),
            "# /tmp/dumpw/gen/h2.res\n"
            "common {\n"
            "}\n"
            "\n"
            "# resource r0 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/gen/h2.res:3\n"
            "resource r0 {\n"
            "    startup {\n"
            "        stacked-timeouts;\n"
            "    }\n"
            "}\n"
            "\n"
            "# resource r1 on alpha: not ignored, not stacked\n"
            "# defined at /tmp/dumpw/gen/h2.res:5\n"
            "resource r1 {\n"
            "}\n"
            "\n");
  // Without -d/-v nothing is inherited, so an empty list with the flag set
  // always stems from an option-less section, even if the parser did not say.
  cfg.resources.front().startup_section_empty = false;
  cfg.common->startup_section_empty = false;
  opts.dry_run = false;
  EXPECT_FALSE(DumpShowsStackedTimeouts(cfg.resources.front(), false, opts));
  EXPECT_FALSE(DumpShowsStackedTimeouts(*cfg.common, true, opts));
  cfg.resources.front().startup_options = {Opt("wfc-timeout", "5")};
  EXPECT_TRUE(DumpShowsStackedTimeouts(cfg.resources.front(), false, opts));
}

// resource r0 { ...
//   connection {
//     host alpha address 10.5.6.1:7001 via proxy on alpha { inside 127.0.0.1:7002;
//       outside 10.5.7.1:7003; options { memlimit 1M; plugin { lz4 level 1; } } }
//     host bravo address 10.5.6.2:7001 via proxy on bravo { inside 127.0.0.1:7002;
//       outside 10.5.7.2:7003; }
//   } }
// `dump r0` and `dump-xml r0`, connection part.
Connection ProxyConnection() {
  Connection c;
  Path& p = c.paths.emplace_back();
  p.implicit = true;
  for (auto [name, ip, out] :
       {std::tuple{"alpha", "10.5.6.1", "10.5.7.1"}, std::tuple{"bravo", "10.5.6.2", "10.5.7.2"}}) {
    HnameAddress ha = Pair(name, Addr("ipv4", ip, "7001"), true);
    ProxyInfo pi;
    pi.on_hosts = {name};
    pi.inside = Addr("ipv4", "127.0.0.1", "7002");
    pi.outside = Addr("ipv4", out, "7003");
    if (std::string_view(name) == "alpha") {
      pi.options = {Opt("memlimit", "1M")};
      pi.plugins = {Flag("lz4 level 1")};
    }
    ha.proxy = pi;
    p.hname_address_pairs.push_back(ha);
  }
  c.net_options = {Opt("_name", "bravo")};
  return c;
}

TEST(Dump, ProxyEndpointsContinueTheHostLine) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r0";
  r.config_file = "/tmp/dumpw/pc.res";
  r.start_line = 2;
  r.connections.push_back(ProxyConnection());
  std::ostringstream out;
  DumpResource(cfg, r, DumpOptions{}, out);
  std::string text = out.str();
  size_t from = text.find("    connection {");
  ASSERT_NE(from, std::string::npos);
  EXPECT_EQ(text.substr(from),
            "    connection {\n"
            "        host alpha         address         ipv4 10.5.6.1:7001         via proxy on "
            "alpha {\n"
            "            inside           ipv4 127.0.0.1:7002;\n"
            "            outside          ipv4 10.5.7.1:7003;\n"
            "            options {\n"
            "                memlimit  1M;\n"
            "                plugin {\n"
            "                    lz4 level 1;\n"
            "                }\n"
            "            }\n"
            "        }\n"
            "        host bravo         address         ipv4 10.5.6.2:7001         via proxy on "
            "bravo {\n"
            "            inside           ipv4 127.0.0.1:7002;\n"
            "            outside          ipv4 10.5.7.2:7003;\n"
            "        }\n"
            "        net {\n"
            "            _name        bravo;\n"
            "        }\n"
            "    }\n"
            "}\n"
            "\n");
}

TEST(DumpXml, ProxyEndpointsNestInsideHost) {
  Config cfg;
  Resource& r = cfg.resources.emplace_back();
  r.name = "r0";
  r.config_file = "/tmp/dumpw/pc.res";
  r.start_line = 2;
  r.connections.push_back(ProxyConnection());
  DumpOptions opts;
  opts.xml_standalone = true;
  EXPECT_EQ(Xml(cfg, opts),
            "<resource name=\"r0\" conf-file-line=\"/tmp/dumpw/pc.res:2\">\n"
            "    <connection>\n"
            "        <host name=\"alpha\">\n"
            "            <address family=\"ipv4\" port=\"7001\">10.5.6.1</address>\n"
            "            <proxy hostname=\"alpha\">\n"
            "                <inside family=\"ipv4\" port=\"7002\">127.0.0.1</inside>\n"
            "                <outside family=\"ipv4\" port=\"7003\">10.5.7.1</outside>\n"
            "                <section name=\"options\">\n"
            "                    <option name=\"memlimit\" value=\"1M\"/>\n"
            "                    <section name=\"plugin\">\n"
            "                        <option name=\"lz4 level 1\"/>\n"
            "                    </section>\n"
            "                </section>\n"
            "            </proxy>\n"
            "        </host>\n"
            "        <host name=\"bravo\">\n"
            "            <address family=\"ipv4\" port=\"7001\">10.5.6.2</address>\n"
            "            <proxy hostname=\"bravo\">\n"
            "                <inside family=\"ipv4\" port=\"7002\">127.0.0.1</inside>\n"
            "                <outside family=\"ipv4\" port=\"7003\">10.5.7.2</outside>\n"
            "            </proxy>\n"
            "        </host>\n"
            "        <section name=\"net\">\n"
            "            <option name=\"_name\" value=\"bravo\"/>\n"
            "        </section>\n"
            "    </connection>\n"
            "</resource>\n");
}

// The option line is drbd-utils' printf("%*s%*s %3s;\n", 4 * level, "",
// -24 + 4 * level, name, value), at every level, including the ones where
// the name width turns positive.
TEST(DumpFormat, OptionLineMatchesPrintf) {
  for (int level = 0; level <= 8; ++level) {
    for (const char* name : {"al", "protocol", "allow-two-primaries", "a-very-long-option-name"}) {
      for (const char* value : {"C", "8k", "1000", "\"a b\""}) {
        char buf[256];
        std::snprintf(buf, sizeof(buf), "%*s%*s %3s;\n", 4 * level, "", -24 + 4 * level, name,
                      value);
        EXPECT_EQ(FormatOptionLine(level, name, value), buf) << level << " " << name;
      }
    }
  }
}

TEST(DumpEscape, QuotesOnlyWhatTheScannerCannotReadBare) {
  EXPECT_EQ(EscapeToken(""), "\"\"");
  EXPECT_EQ(EscapeToken("/dev/vg_a/lv-0.x"), "/dev/vg_a/lv-0.x");
  EXPECT_EQ(EscapeToken("a b"), "\"a b\"");
  EXPECT_EQ(EscapeToken("say \"x\" \\ y"), "\"say \\\"x\\\" \\\\ y\"");
  EXPECT_EQ(EscapeToken("10.1.1.1:7789"), "\"10.1.1.1:7789\"");
  EXPECT_EQ(EscapeToken(std::string(80, 'a')), std::string(80, 'a'));
  EXPECT_EQ(EscapeToken(std::string(81, 'a')), "\"" + std::string(81, 'a') + "\"");
}

TEST(DumpEscape, TooLongForDrbdUtilsBufferIsSyntaxError) {
  std::ostringstream err;
  try {
    EscapeToken(std::string(1021, 'a'), &err);
    FAIL() << "no error";
  } catch (const FatalConfigError& e) {
    EXPECT_EQ(e.code, ExitCode::kSyntax);
  }
  EXPECT_EQ(err.str(), "string too long.\n");
  EXPECT_EQ(EscapeToken(std::string(1019, 'a')).size(), 1021u);
  EXPECT_THROW(EscapeXml(std::string(250, '&')), FatalConfigError);
  EXPECT_EQ(EscapeXml(std::string(2000, 'a')), std::string(2000, 'a'));
}

TEST(DumpEscape, XmlEscapesOnlyWhenNeeded) {
  EXPECT_EQ(EscapeXml("plain text"), "plain text");
  EXPECT_EQ(EscapeXml("a\\b"), "a\\b");
  EXPECT_EQ(EscapeXml("<'&\">"), "&lt;&apos;&amp;&quot;&gt;");
}

TEST(DumpNames, JoinsOrSaysUnknown) {
  EXPECT_EQ(NamesToStr({}), "UNKNOWN");
  EXPECT_EQ(NamesToStr({"a", "b"}), "a b");
  EXPECT_EQ(NamesToStr({"a", "b"}, '_'), "a_b");
}

// drbd-utils after 9.22: device options lead the disk section, a volume's
// `tiebreaker` follows its meta-disk, and a NAT address follows the host's
// address as ` via outside-address` (printed with a fresh indentation, as
// the other mid-line address parts are).
TEST(Dump, PrintsDeviceOptionsTiebreakerAndOutsideAddress) {
  Config cfg;
  cfg.config_save = "/tmp/dumpw/n.res";
  Resource& r = cfg.resources.emplace_back();
  r.name = "r0";
  r.config_file = "/tmp/dumpw/n.res";
  r.start_line = 1;
  r.device_options = {Opt("block-size", "4096")};
  r.disk_options = {Opt("disk-flushes", "no")};
  r.pd_options = {Opt("c-max-rate", "10M")};
  HostInfo& h = r.all_hosts.emplace_back(Host("alpha", "0", Address{}));
  Volume v = Vol(0, std::nullopt, 1, "none", "", "", true);
  v.meta_disk.reset();
  v.meta_index.reset();
  v.parsed_meta_disk = false;
  v.tiebreaker = false;
  v.parsed_tiebreaker = true;
  v.device_options = {Opt("discard-granularity", "0")};
  h.volumes.push_back(v);
  Connection& c = r.connections.emplace_back();
  Path& p = c.paths.emplace_back();
  p.implicit = true;
  HnameAddress a = Pair("alpha", Addr("ipv4", "10.0.0.1", "7000"), true);
  a.outside_address = Addr("ipv4", "192.168.1.1", "7000");
  a.parsed_outside_address = true;
  p.hname_address_pairs.push_back(a);
  p.hname_address_pairs.push_back(Pair("bravo", Addr("ipv4", "10.0.0.2", "7000"), true));
  DumpOptions opts;
  EXPECT_EQ(Text(cfg, opts, false),
            "# resource r0 on : not ignored, not stacked\n"
            "# defined at /tmp/dumpw/n.res:1\n"
            "resource r0 {\n"
            "    on alpha {\n"
            "        node-id 0;\n"
            "        volume 0 {\n"
            "            disk {\n"
            "                discard-granularity   0;\n"
            "            }\n"
            "            device       minor 1;\n"
            "            disk         none;\n"
            "            tiebreaker    no;\n"
            "        }\n"
            "    }\n"
            "    connection {\n"
            "        host alpha         address         ipv4 10.0.0.1:7000         via "
            "outside-address ipv4 192.168.1.1:7000;\n"
            "        host bravo         address         ipv4 10.0.0.2:7000;\n"
            "    }\n"
            "    disk {\n"
            "        block-size       4096;\n"
            "        disk-flushes      no;\n"
            "        c-max-rate       10M;\n"
            "    }\n"
            "}\n\n");
}

}  // namespace
}  // namespace drbd::cfg
