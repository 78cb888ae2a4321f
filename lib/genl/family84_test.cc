// SPDX-License-Identifier: GPL-2.0-or-later
// The DRBD 8.4 genl table: every number pinned by
// tests/golden/genl84_abi.txt, spot checks against the 8.4 header, the
// codec speaking the 8.4 dialect, and the module-version probe.
#include "lib/genl/family84.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/genl/codec.h"

namespace drbd::genl::v84 {
namespace {

std::filesystem::path GoldenPath() {
  return std::filesystem::path(__FILE__).parent_path() / "../../tests/golden/genl84_abi.txt";
}

TEST(Genl84Abi, MatchesGoldenFile) {
  std::string now = AbiText();
  if (std::getenv("UPDATE_GOLDEN")) {
    std::ofstream(GoldenPath()) << now;
  }
  std::ifstream in(GoldenPath());
  ASSERT_TRUE(in) << GoldenPath();
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), now) << "the 8.4 genl ABI changed; if intended: UPDATE_GOLDEN=1";
}

TEST(Genl84Abi, FamilyConstants) {
  EXPECT_EQ(kFamilyVersion, 1);
  EXPECT_EQ(MaxTla(), 24);
  EXPECT_EQ(AllCmds().size(), 38u);  // 31 ops + 7 notifications
  EXPECT_EQ(FindSet(14), nullptr);   // device_conf is 9 only
  EXPECT_EQ(FindCmd(42), nullptr);   // forget-peer is 9 only
  EXPECT_EQ(FindCmd(uint8_t{1})->name, "DRBD_EVENT");
}

TEST(Genl84Abi, FieldsThatMovedIn9) {
  // The resync controller sits in disk_conf in 8.4.
  EXPECT_EQ(attr::resync_rate, (AttrKey{Set::kDiskConf, 8, AttrType::kU32}));
  EXPECT_EQ(attr::c_max_rate, (AttrKey{Set::kDiskConf, 14, AttrType::kU32}));
  EXPECT_EQ(attr::fencing, (AttrKey{Set::kDiskConf, 7, AttrType::kU32}));
  EXPECT_EQ(attr::max_buffers, (AttrKey{Set::kNetConf, 14, AttrType::kU32}));
  EXPECT_EQ(attr::discard_my_data, (AttrKey{Set::kNetConf, 25, AttrType::kFlag}));
  EXPECT_EQ(attr::assume_uptodate, (AttrKey{Set::kSetRoleParms, 1, AttrType::kFlag}));
  EXPECT_EQ(attr::current_state, (AttrKey{kStateInfo, 2, AttrType::kU32}));
  EXPECT_EQ(FindAttr("cpu_mask")->max_len, 32u);
  EXPECT_EQ(FindAttr("unplug_watermark")->def, 128);
  EXPECT_EQ(FindAttr("unplug_watermark")->set, Set::kNetConf);
}

TEST(Genl84Codec, EncodesDiskConfFieldsUnknownTo9) {
  Message m = MakeRequest(Cmd::kChgDiskOpts);
  m.nl.type = 0x20;
  m.version = kFamilyVersion;
  m.minor = 0;
  m.Get(Set::kDiskConf).PutU32(attr::c_plan_ahead, 0).PutU32(attr::resync_rate, 102400);
  // The DRBD 9 table has no disk_conf 8/11: refused there.
  EXPECT_FALSE(Encode(m, kRequestStyle).ok());
  Result<std::vector<uint8_t>> b = Encode(m, kRequestStyle84);
  ASSERT_TRUE(b.ok()) << b.error().message;
  DecodeOptions dopt;
  dopt.dialect = k84;
  Result<Message> d = Decode(*b, dopt);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->version, 1);
  ASSERT_NE(d->Find(Set::kDiskConf), nullptr);
  EXPECT_EQ(d->Find(Set::kDiskConf)->GetU32(attr::resync_rate), 102400u);
  EXPECT_EQ(d->Find(Set::kDiskConf)->GetU32(attr::c_plan_ahead), 0u);
  // Mandatory bit on kMand fields, as drbdsetup-84 sends them.
  EXPECT_EQ(d->Find(Set::kDiskConf)->attrs[0].wire_type, 11 | kNlaMandatory);
}

TEST(Genl84Codec, DecodesStateInfoOnlyIn84) {
  Message m;
  m.nl.type = 0x20;
  m.cmd = static_cast<uint8_t>(Cmd::kEvent);
  m.version = kFamilyVersion;
  m.minor = 1;
  m.Get(kStateInfo).PutU32(attr::sib_reason, 2).PutU32(attr::current_state, 0x1234);
  EncodeOptions eo;
  eo.mandatory_bit = false;
  eo.nested_flag = false;
  eo.dialect = k84;
  Result<std::vector<uint8_t>> b = Encode(m, eo);
  ASSERT_TRUE(b.ok()) << b.error().message;
  DecodeOptions dopt;
  dopt.dialect = k84;
  Result<Message> d = Decode(*b, dopt);
  ASSERT_TRUE(d.ok());
  ASSERT_NE(d->Find(kStateInfo), nullptr);
  EXPECT_EQ(d->Find(kStateInfo)->GetU32(attr::current_state), 0x1234u);
  // Read with the 9 table, the 8.4-only TLA is skipped.
  DecodeStats st;
  Result<Message> d9 = Decode(*b, {}, &st);
  ASSERT_TRUE(d9.ok());
  EXPECT_EQ(d9->Find(kStateInfo), nullptr);
  EXPECT_EQ(st.unknown_tlas, 1);
}

TEST(Genl84Version, ParsesLikeDrbdUtils) {
  EXPECT_EQ(ParseVersion("8.4.11"), (ModuleVersion{8, 4, 11}));
  EXPECT_EQ(ParseVersion("9.2.18-1"), (ModuleVersion{9, 2, 18}));
  EXPECT_EQ(ParseVersion("8.4"), std::nullopt);
  EXPECT_EQ(ParseVersion("x"), std::nullopt);
  EXPECT_EQ(ParseVersion("0.0.0"), std::nullopt);
  EXPECT_EQ(ParseVersion("8.4.11")->code(), 0x08040Bu);
}

TEST(Genl84Version, ReadsProcDrbdFirstLine) {
  // First line of /proc/drbd of the mainline 8.4.11 module (captures).
  EXPECT_EQ(
      ParseProcDrbd("version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 211FB288A383ED945B83420\n"),
      (ModuleVersion{8, 4, 11}));
  EXPECT_EQ(ParseProcDrbd("version: 9.2.18 (api:2/proto:118-123)\n"), (ModuleVersion{9, 2, 18}));
  EXPECT_EQ(ParseProcDrbd("nothing here\n"), std::nullopt);
}

class Genl84Probe : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("genl84_probe_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    paths_.proc_drbd = (dir_ / "proc_drbd").string();
    paths_.sys_version = (dir_ / "version").string();
    ::unsetenv("DRBD_DRIVER_VERSION_OVERRIDE");
  }
  void TearDown() override {
    ::unsetenv("DRBD_DRIVER_VERSION_OVERRIDE");
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  ProbePaths paths_;
};

TEST_F(Genl84Probe, NoModuleNoOverrideIsNothing) {
  EXPECT_EQ(ProbeModuleVersion(paths_), std::nullopt);
  EXPECT_FALSE(ModuleIs84(paths_));
}

TEST_F(Genl84Probe, ProcDrbdWinsOverSysfs) {
  std::ofstream(paths_.proc_drbd) << "version: 8.4.11 (api:1/proto:86-101)\n";
  std::ofstream(paths_.sys_version) << "9.2.18\n";
  EXPECT_TRUE(ModuleIs84(paths_));
}

TEST_F(Genl84Probe, SysfsWhenNoProcDrbd) {
  std::ofstream(paths_.sys_version) << "8.4.11\n";
  EXPECT_EQ(ProbeModuleVersion(paths_), (ModuleVersion{8, 4, 11}));
}

TEST_F(Genl84Probe, OverrideWinsAndBadOverrideIsIgnored) {
  std::ofstream(paths_.proc_drbd) << "version: 9.2.18 (api:2/proto:118-123)\n";
  ::setenv("DRBD_DRIVER_VERSION_OVERRIDE", "8.4.11", 1);
  EXPECT_TRUE(ModuleIs84(paths_));
  ::setenv("DRBD_DRIVER_VERSION_OVERRIDE", "garbage", 1);
  EXPECT_EQ(ProbeModuleVersion(paths_), (ModuleVersion{9, 2, 18}));
}

}  // namespace
}  // namespace drbd::genl::v84
