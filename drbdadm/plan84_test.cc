// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm `-d` plans for a DRBD 8.4 module, run in-process with
// DRBD_DRIVER_VERSION_OVERRIDE=8.4.11 and pinned to what drbd-utils 9.22
// (handing over to /lib/drbd/drbdadm-84) prints for the same configuration;
// the refusals of DRBD 9-only configurations are pinned to our own text.
#include "drbdadm/plan84.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drbdadm/drbdadm.h"

namespace drbd::adm {
namespace {

namespace fs = std::filesystem;

struct AdmRun {
  std::string out;
  std::string err;  // without the __DRBD_NODE__ notice
  int rc;
};

class Plan84Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("plan84_test." + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }

  // drbdadm -c FILE ARGS... as host node-a with an 8.4.11 module.
  static AdmRun Run(const std::string& file, const std::vector<std::string>& args) {
    setenv("__DRBD_NODE__", "node-a", 1);
    setenv("DRBD_DRIVER_VERSION_OVERRIDE", "8.4.11", 1);
    std::vector<std::string> argv{"drbdadm", "-c", file};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out, err;
    int rc = RunDrbdadm(argv, out, err);
    unsetenv("__DRBD_NODE__");
    unsetenv("DRBD_DRIVER_VERSION_OVERRIDE");
    std::string e = err.str();
    const std::string notice =
        "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>node-a<<\n\n";
    if (e.compare(0, notice.size(), notice) == 0) e.erase(0, notice.size());
    return {out.str(), e, rc};
  }

  fs::path dir_;
};

// Common options, syncer options, a resource-level volume section with its
// own disk options, resync-after by name, external and flexible metadata,
// IPv6 and a quoted secret (tests/differential84/configs/01-*).
constexpr const char* kInherit = R"(common {
  disk { on-io-error detach; al-extents 1237; }
  net { protocol B; max-buffers 8000; }
  syncer { rate 33M; csums-alg md5; }
  options { cpu-mask 3; }
}
resource alpha {
  options { on-no-data-accessible suspend-io; }
  disk { fencing resource-only; c-plan-ahead 20; }
  net { after-sb-0pri discard-least-changes; timeout 50; }
  syncer { verify-alg crc32c; rate 20M; }
  volume 0 {
    device /dev/drbd10;
    disk /dev/vg/a0;
    meta-disk internal;
    disk { resync-after beta; disk-barrier no; }
  }
  volume 1 {
    device /dev/drbd11;
    disk /dev/vg/a1;
    meta-disk /dev/vg/meta[3];
  }
  on node-a { address 10.9.0.1:7800; }
  on node-b { address 10.9.0.2:7800; }
}
resource beta {
  protocol C;
  device /dev/drbd12;
  disk /dev/vg/b;
  flexible-meta-disk /dev/vg/bmeta;
  net { shared-secret "a b c"; cram-hmac-alg sha1; allow-two-primaries; }
  on node-a { address ipv6 [fd00::1]:7801; }
  on node-b { address ipv6 [fd00::2]:7801; }
}
)";

TEST_F(Plan84Test, UpOrdersInheritedOptionsAsDrbdadm84) {
  AdmRun r = Run(Write("r.res", kInherit), {"-d", "up", "all"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "drbdsetup-84 new-resource alpha --cpu-mask=3 --on-no-data-accessible=suspend-io\n"
            "drbdsetup-84 new-minor alpha 10 0\n"
            "drbdsetup-84 new-minor alpha 11 1\n"
            "drbdsetup-84 new-resource beta --cpu-mask=3\n"
            "drbdsetup-84 new-minor beta 12 0\n"
            "drbdmeta 10 v08 /dev/vg/a0 internal apply-al\n"
            "drbdsetup-84 attach 10 /dev/vg/a0 /dev/vg/a0 internal --disk-barrier=no "
            "--resync-after=12 --resync-rate=20M --c-plan-ahead=20 --fencing=resource-only "
            "--on-io-error=detach --al-extents=1237\n"
            "drbdmeta 11 v08 /dev/vg/meta 3 apply-al\n"
            "drbdsetup-84 attach 11 /dev/vg/a1 /dev/vg/meta 3 --resync-rate=20M --c-plan-ahead=20 "
            "--fencing=resource-only --on-io-error=detach --al-extents=1237\n"
            "drbdmeta 12 v08 /dev/vg/bmeta flex-external apply-al\n"
            "drbdsetup-84 attach 12 /dev/vg/b /dev/vg/bmeta flexible --on-io-error=detach "
            "--al-extents=1237 --resync-rate=33M\n"
            "drbdsetup-84 connect alpha ipv4:10.9.0.1:7800 ipv4:10.9.0.2:7800 --csums-alg=md5 "
            "--max-buffers=8000 --protocol=B --after-sb-0pri=discard-least-changes --timeout=50 "
            "--verify-alg=crc32c\n"
            "drbdsetup-84 connect beta ipv6:\\[fd00::1\\]:7801 ipv6:\\[fd00::2\\]:7801 "
            "--csums-alg=md5 --max-buffers=8000 --protocol=C --shared-secret=a\\ b\\ c "
            "--cram-hmac-alg=sha1 --allow-two-primaries=yes\n");
}

TEST_F(Plan84Test, VolumeAndMinorNamesSelectOneVolume) {
  std::string f = Write("r.res", kInherit);
  AdmRun r = Run(f, {"-d", "primary", "alpha/1"});
  EXPECT_EQ(r.out, "drbdsetup-84 primary 11\n");
  EXPECT_EQ(r.rc, 0);
  r = Run(f, {"-d", "create-md", "minor-12"});
  EXPECT_EQ(r.out, "drbdmeta 12 v08 /dev/vg/bmeta flex-external create-md\n");
  r = Run(f, {"-d", "resize", "alpha/0"});
  EXPECT_EQ(r.out, "drbdsetup-84 resize 10\ndrbdsetup-84 check-resize 10\n");
  r = Run(f, {"-d", "attach", "--size=10G", "alpha/1"});
  EXPECT_EQ(r.out,
            "drbdmeta 11 v08 /dev/vg/meta 3 apply-al --size=10G\n"
            "drbdsetup-84 attach 11 /dev/vg/a1 /dev/vg/meta 3 --resync-rate=20M --c-plan-ahead=20 "
            "--fencing=resource-only --on-io-error=detach --al-extents=1237 --size=10G\n");
  r = Run(f, {"-d", "primary", "--force", "beta"});
  EXPECT_EQ(r.out, "drbdsetup-84 primary 12 --force\n");
  r = Run(f, {"-d", "down", "alpha/1"});
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "down operates on whole resources, but you specified a specific volume!\n");
  EXPECT_EQ(r.rc, 1);
  r = Run(f, {"-d", "primary", "alpha/7"});
  EXPECT_EQ(r.err, "'alpha/7' not defined in your config (for this host).\n");
  EXPECT_EQ(r.rc, 1);
}

TEST_F(Plan84Test, DisklessVolumeIsAttachedAsNone) {
  std::string f = Write("r.res", R"(resource r0 {
  net { protocol A; ko-count 4; }
  volume 0 { device minor 20; disk /dev/vg/r0; meta-disk internal; }
  volume 1 { device minor 21; disk none; meta-disk internal; }
  on node-a { address 10.9.0.1:7790; }
  on node-b { address 10.9.0.2:7790; }
}
)");
  AdmRun r = Run(f, {"-d", "attach", "r0"});
  EXPECT_EQ(r.out,
            "drbdmeta 20 v08 /dev/vg/r0 internal apply-al\n"
            "drbdsetup-84 attach 20 /dev/vg/r0 /dev/vg/r0 internal\n"
            "drbdmeta 21 v08 none internal apply-al\n"
            "drbdsetup-84 attach 21 none none internal\n");
  r = Run(f, {"-d", "disconnect", "r0"});
  EXPECT_EQ(r.out, "drbdsetup-84 disconnect ipv4:10.9.0.1:7790 ipv4:10.9.0.2:7790\n");
}

TEST_F(Plan84Test, DrbdNineOnlyConfigurationsGetOneLineAndExit10) {
  std::string f = Write("three.res", R"(resource r0 {
  device /dev/drbd0;
  disk /dev/vg/r0;
  meta-disk internal;
  on node-a { address 10.9.0.1:7790; }
  on node-b { address 10.9.0.2:7790; }
  on node-c { address 10.9.0.3:7790; }
}
)");
  AdmRun r = Run(f, {"-d", "up", "r0"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "drbdadm: " + f +
                       ":1: resource r0: more than one peer needs DRBD 9, but the loaded DRBD "
                       "module is 8.4.11; DRBD 8.4 replicates to one peer: split the resource "
                       "or install the DRBD 9 kernel module\n");

  f = Write("quorum.res", R"(resource r0 {
  options { quorum majority; }
  device /dev/drbd0; disk /dev/vg/r0; meta-disk internal;
  on node-a { address 10.9.0.1:7790; }
  on node-b { address 10.9.0.2:7790; }
}
)");
  r = Run(f, {"-d", "up", "all"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err, "drbdadm: " + f +
                       ":2: resource r0: option 'quorum' needs DRBD 9, but the loaded DRBD "
                       "module is 8.4.11; remove it from the configuration or install the "
                       "DRBD 9 kernel module\n");

  f = Write("nodeid.res", R"(resource r0 {
  device /dev/drbd0; disk /dev/vg/r0; meta-disk internal;
  on node-a { node-id 0; address 10.9.0.1:7790; }
  on node-b { node-id 1; address 10.9.0.2:7790; }
}
)");
  r = Run(f, {"-d", "primary", "r0"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err, "drbdadm: " + f +
                       ":3: resource r0: 'node-id' needs DRBD 9, but the loaded DRBD module is "
                       "8.4.11; remove the node-id lines or install the DRBD 9 kernel module\n");
}

TEST_F(Plan84Test, ConnectionSectionsAreRefused) {
  std::string f = Write("conn.res", R"(resource r0 {
  device /dev/drbd0; disk /dev/vg/r0; meta-disk internal;
  on node-a { }
  on node-b { }
  connection {
    host node-a address 10.9.0.1:7790;
    host node-b address 10.9.0.2:7790;
  }
}
)");
  AdmRun r = Run(f, {"-d", "connect", "r0"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "drbdadm: " + f +
                       ":5: resource r0: a 'connection' section needs DRBD 9, but the loaded "
                       "DRBD module is 8.4.11; give each host its address in its 'on' section or "
                       "install the DRBD 9 kernel module\n");
}

TEST_F(Plan84Test, AnAddressUsedByTwoResourcesIsRefused) {
  std::string f = Write("reuse.res", R"(resource r0 {
  device /dev/drbd0; disk /dev/vg/r0; meta-disk internal;
  on node-a { address 10.9.0.1:7790; }
  on node-b { address 10.9.0.2:7790; }
}
resource r1 {
  device /dev/drbd1; disk /dev/vg/r1; meta-disk internal;
  on node-a { address 10.9.0.1:7790; }
  on node-b { address 10.9.0.2:7791; }
}
)");
  AdmRun r = Run(f, {"-d", "up", "r1"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "drbdadm: " + f + ":8: resource r1: address 10.9.0.1:7790 is also used by " +
                       "resource r0 (" + f +
                       ":3); DRBD 8.4 needs a distinct address:port for each resource\n");
}

TEST(Plan84Verbs, CoverDrbdadm84sKernelVerbs) {
  for (const char* v : {"up", "down", "adjust", "primary", "secondary", "create-md", "attach",
                        "detach", "connect", "disconnect", "resize", "invalidate", "verify",
                        "outdate", "wait-connect", "dstate", "get-gi", "net-options"}) {
    EXPECT_TRUE(IsPlan84Verb(v)) << v;
  }
  // Not planned for 8.4: no kernel commands (dump), no such drbdadm-84
  // verb (events2), or run by live84 itself (sh-status).
  for (const char* v : {"dump", "events2", "sh-status", "wait-con-int"}) {
    EXPECT_FALSE(IsPlan84Verb(v)) << v;
  }
}

}  // namespace
}  // namespace drbd::adm
