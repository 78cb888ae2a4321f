// SPDX-License-Identifier: GPL-2.0-or-later
// The real env's clock and backing files on a live io_context: zero-delay
// timers run on the loop (posted, not armed) and can still be cancelled;
// a file's flush (off the loop while flushes are slow, the first one
// included) covers the writes issued before it, completes on the loop in
// order, and is dropped when the disk goes away first; large reads and
// writes (on the file's worker thread) keep their order with small ones.
#include "sim/real/real_env.h"

#include <fcntl.h>
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
    order.emplace_back("write");
  });
  disk->Flush([&](bool ok) {
    EXPECT_TRUE(ok);
    order.emplace_back("flush");
  });
  disk->Flush([&](bool ok) {
    EXPECT_TRUE(ok);
    order.emplace_back("flush");
  });
  EXPECT_TRUE(order.empty());  // completions arrive on the loop only
  io.run();                    // returns once the flushes were posted and ran
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

// Large reads and writes go to the file's worker thread, small ones and
// quick flushes run on the loop unless the worker still has ops: mixed,
// they complete in the order issued and each sees the ones before it.
TEST_F(FileDisksTest, LargeAndSmallOpsKeepTheirOrder) {
  constexpr uint32_t kLarge = 256 * 1024;
  std::vector<std::string> order;
  auto note = [&order](const std::string& what) {
    return [&order, what](bool ok) {
      EXPECT_TRUE(ok) << what;
      order.push_back(what);
    };
  };
  std::vector<uint8_t> small_read, large_read;
  for (int round = 0; round < 20; ++round) {
    order.clear();
    auto r = static_cast<uint8_t>(round);
    disk->Write(0, std::vector<uint8_t>(kLarge, r), note("large"));         // worker
    disk->Write(4096, std::vector<uint8_t>(4096, r + 100), note("small"));  // after it
    disk->Read(0, 8192, [&](bool ok, std::vector<uint8_t> b) {
      EXPECT_TRUE(ok);
      order.emplace_back("read");
      small_read = std::move(b);
    });
    disk->Flush(note("flush"));
    disk->Read(0, kLarge, [&](bool ok, std::vector<uint8_t> b) {
      EXPECT_TRUE(ok);
      order.emplace_back("large read");
      large_read = std::move(b);
    });
    io.restart();
    io.run();
    ASSERT_EQ(order, (std::vector<std::string>{"large", "small", "read", "flush", "large read"}));
    std::vector<uint8_t> want(8192, r);
    std::fill(want.begin() + 4096, want.end(), static_cast<uint8_t>(r + 100));
    ASSERT_EQ(small_read, want) << round;
    ASSERT_EQ(large_read.size(), kLarge);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), large_read.begin()));
    EXPECT_TRUE(std::all_of(large_read.begin() + 8192, large_read.end(),
                            [r](uint8_t c) { return c == r; }));
  }
}

// Large aligned writes run with O_DIRECT where the file system allows it,
// unaligned ones and reads through the page cache; mixed with the loop's
// buffered small ops, every read sees every write issued before it.
TEST_F(FileDisksTest, LargeAlignedWritesBypassThePageCacheAndStayCoherent) {
  int probe = ::open(f.path().c_str(), O_RDWR | O_DIRECT);
  if (probe < 0) GTEST_SKIP() << "no O_DIRECT on " << testing::TempDir();
  ::close(probe);
  constexpr uint32_t kLarge = 128 * 1024;
  auto run = [this] {
    io.restart();
    io.run();
  };
  auto read = [&](uint64_t at, uint32_t len) {
    std::vector<uint8_t> got;
    disk->Read(at, len, [&got](bool ok, std::vector<uint8_t> b) {
      EXPECT_TRUE(ok);
      got = std::move(b);
    });
    run();
    return got;
  };
  auto write = [&](uint64_t at, std::vector<uint8_t> bytes) {
    disk->Write(at, std::move(bytes), [](bool ok) { EXPECT_TRUE(ok); });
    run();
  };
  write(8192, std::vector<uint8_t>(4096, 0x11));  // cached, dirty
  uint64_t before = disks.stats().direct_writes.load();
  std::vector<uint8_t> pattern(kLarge);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7);
  write(0, pattern);  // direct: replaces the dirty cached page
  EXPECT_EQ(disks.stats().direct_writes.load(), before + 1);
  EXPECT_EQ(read(8192, 4096), std::vector<uint8_t>(pattern.begin() + 8192, pattern.begin() + 12288));
  write(4096, std::vector<uint8_t>(4096, 0x22));  // cached, dirty
  std::vector<uint8_t> want = pattern;
  std::fill(want.begin() + 4096, want.begin() + 8192, 0x22);
  EXPECT_EQ(read(0, kLarge), want);  // buffered (the worker's): sees the dirty page
  EXPECT_EQ(disks.stats().direct_writes.load(), before + 1);
  write(kLarge, pattern);  // direct, after a large buffered read of the file
  EXPECT_EQ(disks.stats().direct_writes.load(), before + 2);
  EXPECT_EQ(read(kLarge, 4096), std::vector<uint8_t>(pattern.begin(), pattern.begin() + 4096));
  // Not a multiple of 4 KiB: the buffered path, same result.
  write(512, std::vector<uint8_t>(kLarge, 0x33));
  EXPECT_EQ(disks.stats().direct_writes.load(), before + 2);
  std::fill(want.begin() + 512, want.end(), 0x33);
  want.resize(kLarge + 512, 0x33);
  want.insert(want.end(), pattern.begin() + 512, pattern.end());
  EXPECT_EQ(read(0, 2 * kLarge), want);
  disk->Flush([](bool ok) { EXPECT_TRUE(ok); });
  run();
  std::ifstream in(f.path(), std::ios::binary);
  std::vector<char> file(2 * kLarge);
  in.read(file.data(), static_cast<std::streamsize>(file.size()));
  EXPECT_TRUE(std::equal(want.begin(), want.end(), file.begin(),
                         [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); }));
}

// A flush with nothing written since the previous (complete, successful)
// one completes without an fdatasync, in order after it; one after a write
// does not.
TEST_F(FileDisksTest, AFlushWithNothingWrittenSinceTheLastOneIsSkipped) {
  std::vector<std::string> order;
  auto note = [&order](const std::string& what) {
    return [&order, what](bool ok) {
      EXPECT_TRUE(ok) << what;
      order.push_back(what);
    };
  };
  auto run = [this] {
    io.restart();
    io.run();
  };
  const FileDisks::Stats& st = disks.stats();
  disk->Write(0, std::vector<uint8_t>(4096, 1), note("w1"));
  disk->Flush(note("f1"));  // the first: never skipped
  run();
  EXPECT_EQ(st.skipped_flushes.load(), 0u);
  disk->Flush(note("f2"));  // nothing written since f1
  disk->Flush(note("f3"));
  run();
  EXPECT_EQ(st.skipped_flushes.load(), 2u);
  std::vector<uint8_t> got;
  disk->Read(0, 4096, [&got](bool ok, std::vector<uint8_t> b) {
    EXPECT_TRUE(ok);
    got = std::move(b);
  });
  disk->Flush(note("f4"));  // a read writes nothing
  disk->Write(4096, std::vector<uint8_t>(4096, 2), note("w2"));
  disk->Flush(note("f5"));  // after a write: a real one
  run();
  EXPECT_EQ(st.skipped_flushes.load(), 3u);
  EXPECT_EQ(order, (std::vector<std::string>{"w1", "f1", "f2", "f3", "f4", "w2", "f5"}));
  // A large write goes to the worker: the flush behind it is a real one,
  // and the next (skipped unless the worker still has f6) still comes
  // after it.
  disk->Write(0, std::vector<uint8_t>(256 * 1024, 3), note("w3"));
  disk->Flush(note("f6"));
  disk->Flush(note("f7"));
  run();
  EXPECT_LE(st.skipped_flushes.load(), 4u);
  EXPECT_EQ(std::vector<std::string>(order.end() - 3, order.end()),
            (std::vector<std::string>{"w3", "f6", "f7"}));
}

// The engine's writes are not lost when the disk goes away with some still
// on the worker (the kernel waits for a backing device's requests before it
// lets go of it); only their completions are dropped.
TEST_F(FileDisksTest, ClosingADiskWritesWhatItsWorkerStillHas) {
  int called = 0;
  for (int i = 0; i < 4; ++i) {
    disk->Write(static_cast<uint64_t>(i) * 128 * 1024,
                std::vector<uint8_t>(128 * 1024, static_cast<uint8_t>(0x10 + i)),
                [&](bool) { ++called; });
  }
  disk.reset();
  io.run();
  EXPECT_EQ(called, 0);
  std::ifstream in(f.path(), std::ios::binary);
  for (int i = 0; i < 4; ++i) {
    in.seekg(i * 128 * 1024 + 128 * 1024 - 1);
    char c = 0;
    in.read(&c, 1);
    EXPECT_EQ(static_cast<uint8_t>(c), 0x10 + i) << i;
  }
}

}  // namespace
}  // namespace drbd::real
