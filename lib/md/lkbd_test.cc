// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/md/lkbd.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace drbd::md {
namespace {

class LkBdevTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lkbd_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return LkBdevPath(dir_.string(), 7); }
  void Put(const std::string& text) const { std::ofstream(Path()) << text; }
  std::filesystem::path dir_;
};

TEST_F(LkBdevTest, PathNamesTheMinor) {
  EXPECT_EQ(LkBdevPath("/var/lib/drbd", 3), "/var/lib/drbd/drbd-minor-3.lkbd");
}

TEST_F(LkBdevTest, SaveWritesDrbdUtilsLayout) {
  std::string err;
  ASSERT_TRUE(SaveLkBdev(Path(), {1048576, "/dev/vg/lv", 0xABCDEF0123456789ull}, &err));
  std::ifstream in(Path());
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "1048576\t/dev/vg/lv\nuuid:\tABCDEF0123456789\n");
  ASSERT_TRUE(SaveLkBdev(Path(), {4096, "/dev/sdb1", 0}, &err));
  std::ifstream in2(Path());
  std::string text2((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_EQ(text2, "4096\t/dev/sdb1\n");
}

TEST_F(LkBdevTest, LoadRoundTripsWithAndWithoutUuid) {
  std::string err;
  LastKnownBdev lk;
  Put("1048576\t/dev/vg/lv\nuuid:\tABCDEF0123456789\n");
  ASSERT_EQ(LoadLkBdev(Path(), &lk, &err), LkLoadResult::kOk);
  EXPECT_EQ(lk.size_bytes, 1048576u);
  EXPECT_EQ(lk.device, "/dev/vg/lv");
  EXPECT_EQ(lk.uuid, 0xABCDEF0123456789ull);
  Put("4096 /dev/sdb1\n");
  ASSERT_EQ(LoadLkBdev(Path(), &lk, &err), LkLoadResult::kOk);
  EXPECT_EQ(lk.size_bytes, 4096u);
  EXPECT_EQ(lk.device, "/dev/sdb1");
  EXPECT_EQ(lk.uuid, 0u);
  Put("4096\n");
  ASSERT_EQ(LoadLkBdev(Path(), &lk, &err), LkLoadResult::kOk);
  EXPECT_TRUE(lk.device.empty());
}

TEST_F(LkBdevTest, MissingAndGarbageAreTold) {
  std::string err;
  LastKnownBdev lk;
  EXPECT_EQ(LoadLkBdev(Path(), &lk, &err), LkLoadResult::kMissing);
  Put("not a number\n");
  EXPECT_EQ(LoadLkBdev(Path(), &lk, &err), LkLoadResult::kParseError);
  EXPECT_FALSE(SaveLkBdev((dir_ / "no/such/dir/x.lkbd").string(), {1, "d", 0}, &err));
  EXPECT_EQ(err, "No such file or directory");
}

}  // namespace
}  // namespace drbd::md
