// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta command line on image files in a temporary directory; texts are
// drbdmeta 9.22's (checked against /usr/sbin/drbdmeta by
// tests/md/diff_oracle.sh).
#include "drbdmeta/tool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace drbd::meta {
namespace {

namespace fs = std::filesystem;

class DrbdmetaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/drbdmeta_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    img_ = (dir_ / "d.img").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void MakeImage(uint64_t size) {
    std::ofstream(img_).close();
    fs::resize_file(img_, size);
  }
  std::vector<char> Bytes() {
    std::ifstream in(img_, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
  }

  struct Result {
    int rc;
    std::string out, err;
  };
  Result Run(std::vector<std::string> args, bool tty = false, std::string answer = "") {
    Io io;
    std::string err;
    io.err = [&err](const std::string& s) { err += s; };
    io.stdin_is_tty = [tty] { return tty; };
    io.read_line = [answer]() -> std::optional<std::string> { return answer; };
    io.hostname = "host";
    io.now = [] { return std::time_t{0}; };
    io.var_lib_drbd = dir_.string();
    io.probe_minor = false;
    args.insert(args.begin(), "drbdmeta");
    const int rc = RunDrbdmeta(args, io);
    return {rc, io.out, err};
  }

  fs::path dir_;
  std::string img_;
};

TEST_F(DrbdmetaTest, CreateMdWritesAndReportsLikeDrbdutils) {
  MakeImage(100 << 20);
  Result r = Run({"--force", "-", "v09", img_, "internal", "create-md", "2"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "initializing activity log\nWriting meta data...\nNew drbd meta data block successfully created.\n");
  EXPECT_NE(r.err.find("initializing bitmap (8 KB) to all zero"), std::string::npos);
  // Last-known-bdev file for minor "-".
  std::ifstream lk(dir_ / "drbd-minor--1.lkbd");
  std::string line;
  std::getline(lk, line);
  EXPECT_EQ(line, "104857600\t" + img_);

  r = Run({"--force", "-", "v09", img_, "internal", "get-gi", "--node-id=1"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:1:0:0:0:0:0:0:0\n");
  r = Run({"--force", "-", "v09", img_, "internal", "dstate"});
  EXPECT_EQ(r.out, "Inconsistent\n");
}

TEST_F(DrbdmetaTest, DumpMdHeaderAndLayout) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  Result r = Run({"--force", "-", "v09", img_, "internal", "dump-md"});
  EXPECT_EQ(r.rc, 0);
  const std::string head =
      "# DRBD meta data dump\n# 1970-01-01 00:00:00 +0000 [0]\n# host> drbdmeta --force - v09 " + img_ +
      " internal dump-md\n#\n\nversion \"v09\";\n\nmax-peers 2;\n# md_size_sect 88\n# md_offset 104853504\n"
      "# al_offset 104820736\n# bm_offset 104812544\n\nnode-id -1;\ncurrent-uuid 0x0000000000000004;\n";
  setenv("TZ", "UTC", 1);
  EXPECT_EQ(r.out.substr(0, head.size()), head);
  EXPECT_NE(r.out.find("\n# bm-bytes 0;\nbitmap[0] {\n}\nbitmap[1] {\n}\n# bits-set 0;\n"), std::string::npos);
}

TEST_F(DrbdmetaTest, RefusesFilesWithoutForceAndTinyDevices) {
  MakeImage(100 << 20);
  Result r = Run({"-", "v09", img_, "internal", "create-md", "1"});
  EXPECT_EQ(r.rc, 20);
  EXPECT_EQ(r.err, "'" + img_ + "' is not a block device!\n");
  MakeImage(60 << 10);
  r = Run({"--force", "-", "v09", img_, "internal", "create-md", "1"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_NE(r.err.find(img_ + " is only 61440 bytes. That's not enough.\n"), std::string::npos);
}

TEST_F(DrbdmetaTest, WipeMdZeroesOnlyTheSuperblock) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  std::vector<char> want = Bytes();
  std::fill(want.begin() + 104853504, want.begin() + 104853504 + 4096, 0);
  Result r = Run({"--force", "-", "v09", img_, "internal", "wipe-md"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "Wiping meta data...\nDRBD meta data block successfully wiped out.\n");
  EXPECT_NE(r.err.find("\nDo you really want to wipe out the DRBD meta data?\n"
                       "*** confirmation forced via --force option ***\n"),
            std::string::npos);
  EXPECT_EQ(Bytes(), want);
  EXPECT_FALSE(fs::exists(dir_ / "drbd-minor--1.lkbd"));
  r = Run({"--force", "-", "v09", img_, "internal", "wipe-md"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.err.find("There appears to be no drbd meta data to wipe out?\n"), std::string::npos);
}

TEST_F(DrbdmetaTest, CorruptedSuperblockIsRefusedAndFileUnchanged) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  {
    std::fstream f(img_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(104853504 + 0x44);  // al_offset
    f.put(0x12);
  }
  const std::vector<char> before = Bytes();
  Result r = Run({"--force", "-", "v09", img_, "internal", "dump-md"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err.substr(r.err.find("v09")), "v09 al_offset: expected -64, found 318767040\nNo valid meta data found\n");
  r = Run({"--force", "-", "v09", img_, "internal", "apply-al"});
  EXPECT_EQ(r.rc, 1);
  r = Run({"--force", "-", "v08", img_, "internal", "dump-md"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("No valid meta data found"), std::string::npos);
  EXPECT_EQ(Bytes(), before);
}

TEST_F(DrbdmetaTest, ConvertsV08ToV09OnCreateMd) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v08", img_, "internal", "create-md"}).rc, 0);
  ASSERT_EQ(Run({"--force", "-", "v08", img_, "internal", "set-gi", "AAAA000000000000:BBBB000000000000::"}).rc, 0);
  Result r = Run({"--force", "-", "v09", img_, "internal", "create-md", "3"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.err.find("Valid v08 meta-data found, convert to v09?"), std::string::npos);
  EXPECT_NE(r.out.find("Warning: setting max_peers to 1 instead of 3\n\n"), std::string::npos);
  r = Run({"--force", "-", "v09", img_, "internal", "get-gi", "--node-id", "0"});
  EXPECT_EQ(r.out.substr(0, 33), "AAAA000000000000:0000000000000000");
}

TEST_F(DrbdmetaTest, RestoreMdOfItsOwnDumpIsIdentity) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "set-gi", "--node-id=1", "1234000000000000:5678000000000000"}).rc,
            0);
  Result dump = Run({"--force", "-", "v09", img_, "internal", "dump-md"});
  ASSERT_EQ(dump.rc, 0);
  // Give the dump a size and bitmap bits, restore it, dump again.
  std::string text = dump.out;
  text.replace(text.find("la-size-sect 0;"), 15, "la-size-sect 204712;");
  const size_t b0 = text.find("bitmap[0] {\n}");
  text.replace(b0, 13, "bitmap[0] {\n 0x0000000000000003; 500 times 0xFFFFFFFFFFFFFFFF;\n}");
  // The last slot decides how many words are written (drbd-utils quirk):
  // give it as many as slot 0.
  const size_t b1 = text.find("bitmap[1] {\n}");
  text.replace(b1, 13, "bitmap[1] {\n 501 times 0x0000000000000000;\n}");
  {
    std::ofstream(dir_ / "in.dump") << text;
  }
  Result r = Run({"--force", "-", "v09", img_, "internal", "restore-md", (dir_ / "in.dump").string()});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "Successfully restored meta data\n");
  r = Run({"--force", "-", "v09", img_, "internal", "verify-dump", (dir_ / "in.dump").string()});
  EXPECT_EQ(r.out, "# la-size-sect was too big (204712), truncated (0)!\ninput file parsed ok\n");
  Result again = Run({"--force", "-", "v09", img_, "internal", "dump-md"});
  EXPECT_NE(again.out.find("bitmap[0] {\n   # at 0kB\n    0x0000000000000003; 0xFFFFFFFFFFFFFFFF;"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("5678000000000000"), std::string::npos);
  // A broken dump changes nothing.
  const std::vector<char> before = Bytes();
  {
    std::ofstream(dir_ / "bad.dump") << "version \"v09\"; max-peers 2; node-id x;";
  }
  r = Run({"--force", "-", "v09", img_, "internal", "restore-md", (dir_ / "bad.dump").string()});
  EXPECT_EQ(r.rc, 10);
  EXPECT_NE(r.err.find("line 1: unknown token: x ...\nParse error in line 1: number ([0-9], up to 20 digits) expected\n"),
            std::string::npos);
  EXPECT_EQ(Bytes(), before);
}

TEST_F(DrbdmetaTest, UsageAndArgumentErrors) {
  Result r = Run({"x"});
  EXPECT_EQ(r.rc, 20);
  EXPECT_EQ(r.out.substr(0, 85),
            "\nUSAGE: drbdmeta [--force] DEVICE FORMAT [FORMAT ARGS...] COMMAND [CMD ARGS...]\n\nFORM");
  MakeImage(100 << 20);
  r = Run({"--force", "-", "v09", img_, "internal", "create-md"});
  EXPECT_EQ(r.rc, 20);
  EXPECT_EQ(r.err, "USAGE: drbdmeta MINOR v09 ... create-md MAX_PEERS\n\n  MAX_PEERS argument missing\n");
  r = Run({"--force", "-", "v09", img_, "internal", "create-md", "32"});
  EXPECT_EQ(r.err, "MAX_PEERS argument not in allowed range 1 .. 31.\n");
  r = Run({"--force", "-", "v09", img_, "internal", "get-gi"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err, "The get-gi command requires the --node-id option\n");
  r = Run({"--force", "-", "v10", img_, "internal", "dump-md"});
  EXPECT_EQ(r.err, "Unknown format 'v10'.\n");
  r = Run({"--force", "-", "v09", img_, "internal", "frobnicate"});
  EXPECT_EQ(r.err, "Unknown command 'frobnicate'.\n");
  r = Run({"--force", "--al-stripe-size-kB=4", "-", "v09", img_, "internal", "create-md", "1"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err, "invalid (too small) al-stripe* settings\n");
}

}  // namespace
}  // namespace drbd::meta
