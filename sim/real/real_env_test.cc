// SPDX-License-Identifier: GPL-2.0-or-later
// The real env's clock and backing files on a live io_context: zero-delay
// timers run on the loop (posted, not armed) and can still be cancelled;
// a file's flush (off the loop while flushes are slow, the first one
// included) covers the writes issued before it, completes on the loop in
// order, and is dropped when the disk goes away first.
#include "sim/real/real_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace drbd::real {
namespace {

// A 1 MiB scratch file, removed at the end.
class ScratchFile {
 public:
  ScratchFile() {
    std::string tmpl = testing::TempDir() + "/real_env_test.XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::ftruncate(fd, 1 << 20), 0);
    ::close(fd);
    path_ = tmpl;
  }
  ~ScratchFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(AsioClock, ZeroDelayTimersRunInOrderOnTheLoop) {
  asio::io_context io;
  AsioClock clock(io);
  std::vector<int> ran;
  clock.StartTimer(0, [&] { ran.push_back(1); });
  sim::TimerId second = clock.StartTimer(0, [&] { ran.push_back(2); });
  clock.StartTimer(0, [&] { ran.push_back(3); });
  clock.CancelTimer(second);
  clock.CancelTimer(second);  // twice is harmless
  EXPECT_TRUE(ran.empty());   // never inline
  io.run();
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

TEST(AsioClock, CancelledTimerWithDelayDoesNotRun) {
  asio::io_context io;
  AsioClock clock(io);
  bool fired = false;
  bool kept = false;
  sim::TimerId t = clock.StartTimer(1'000'000, [&] { fired = true; });
  clock.StartTimer(2'000'000, [&] { kept = true; });
  clock.CancelTimer(t);
  io.run();
  EXPECT_FALSE(fired);
  EXPECT_TRUE(kept);
}

// A scratch file opened through FileDisks on a loop of its own.
class FileDisksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int err = 0;
    disk = disks.Open(f.path(), &err);
    ASSERT_NE(disk, nullptr) << err;
  }
  ScratchFile f;
  asio::io_context io;
  FileDisks disks{io};
  std::unique_ptr<sim::Disk> disk;
};

TEST_F(FileDisksTest, FlushCompletesOnTheLoopAfterTheWritesBeforeIt) {
  EXPECT_EQ(disk->SizeBytes(), 1u << 20);
  std::vector<std::string> order;
  disk->Write(4096, std::vector<uint8_t>(512, 0xab), [&](bool ok) {
    EXPECT_TRUE(ok);
    order.push_back("write");
  });
  disk->Flush([&](bool ok) {
    EXPECT_TRUE(ok);
    order.push_back("flush");
  });
  disk->Flush([&](bool ok) {
    EXPECT_TRUE(ok);
    order.push_back("flush");
  });
  EXPECT_TRUE(order.empty());  // completions arrive on the loop only
  io.run();                     // returns once the flushes were posted and ran
  EXPECT_EQ(order, (std::vector<std::string>{"write", "flush", "flush"}));
  std::vector<uint8_t> got;
  disk->Read(4096, 512, [&](bool ok, std::vector<uint8_t> b) {
    EXPECT_TRUE(ok);
    got = std::move(b);
  });
  io.restart();
  io.run();
  EXPECT_EQ(got, std::vector<uint8_t>(512, 0xab));
  // Later flushes (on the loop or the thread, depending on how long the
  // last one took) each come after the writes issued before them, and in
  // order; a later write may complete before an earlier flush.
  std::vector<std::string> later;
  for (int i = 0; i < 3; ++i) {
    disk->Write(0, std::vector<uint8_t>(512, static_cast<uint8_t>(i)), [&later, i](bool ok) {
      EXPECT_TRUE(ok);
      later.push_back("w" + std::to_string(i));
    });
    disk->Flush([&later, i](bool ok) {
      EXPECT_TRUE(ok);
      later.push_back("f" + std::to_string(i));
    });
  }
  io.restart();
  io.run();
  ASSERT_EQ(later.size(), 6u);
  auto at = [&](const std::string& e) { return std::find(later.begin(), later.end(), e); };
  for (int i = 0; i < 3; ++i) {
    for (int w = 0; w <= i; ++w) {
      EXPECT_LT(at("w" + std::to_string(w)), at("f" + std::to_string(i))) << i;
    }
    if (i > 0) {
      EXPECT_LT(at("f" + std::to_string(i - 1)), at("f" + std::to_string(i)));
    }
  }
  std::ifstream in(f.path(), std::ios::binary);
  in.seekg(4096);
  char c = 0;
  in.read(&c, 1);
  EXPECT_EQ(static_cast<uint8_t>(c), 0xab);
}

TEST_F(FileDisksTest, ClosingADiskDropsItsPendingCompletions) {
  int called = 0;
  disk->Write(0, std::vector<uint8_t>(512, 1), [&](bool) { ++called; });
  disk->Flush([&](bool) { ++called; });
  disk.reset();  // joins the flush thread; its completion may be posted already
  io.run();
  EXPECT_EQ(called, 0);
}

}  // namespace
}  // namespace drbd::real
