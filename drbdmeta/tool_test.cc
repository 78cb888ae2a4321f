// SPDX-License-Identifier: GPL-2.0-or-later
// drbdmeta command line on image files in a temporary directory; texts are
// drbdmeta 9.22's (checked against /usr/sbin/drbdmeta by
// tests/md/diff_oracle.sh).
#include "drbdmeta/tool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "lib/md/superblock.h"

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
    std::ifstream in(img_, std::ios::binary | std::ios::ate);
    std::vector<char> data(static_cast<size_t>(in.tellg()));
    in.seekg(0);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    return data;
  }

  struct Result {
    int rc;
    std::string out, err;
  };
  Result Run(std::vector<std::string> args, bool tty = false, std::string answer = "", long long fail_from = -1) {
    Io io;
    io.fail_writes_from = fail_from;
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

TEST_F(DrbdmetaTest, UnknownEnumeratedValuesListTheChoices) {
  MakeImage(100 << 20);
  Result r = Run({"--force", "--initialize-bitmap=foo", "-", "v09", img_, "internal", "create-md",
                  "1"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err,
            "invalid initialize-bitmap-mode \"foo\", should be one of "
            "automatic|zeroout|pwrite|skip\n");
  r = Run({"--output-format=yaml", "-", "v09", img_, "internal", "dump-md"});
  EXPECT_EQ(r.rc, 10);
  EXPECT_EQ(r.err, "invalid output format \"yaml\", should be one of binary|hex|json\n");
  EXPECT_EQ(Bytes(), std::vector<char>(100 << 20, 0));  // nothing written
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

// Each superblock byte flipped in turn, for v09 and v08, internal and
// flex-external. Where the format can tell (lib/md's validation refuses the
// block), every command that reads the superblock refuses: non-zero exit,
// drbdmeta's message on stderr (a wrong magic is silent without -v, as in
// drbdmeta) and the image byte-unchanged. Where it cannot (UUIDs, flags,
// sizes nobody cross-checks), the read-only commands still never write.
// tests/md/flip_oracle.py runs the same sweep against drbdmeta 9.22.
TEST_F(DrbdmetaTest, EveryFlippedSuperblockByteIsRefusedOrHarmless) {
  struct Case {
    const char* fmt;
    const char* place;
    md::Format format;
    int index;
    size_t struct_bytes;  // meaningful part of the 4 KiB block
    uint64_t sb_offset;   // where the superblock sits on the image
    int min_refused;      // bytes the format checks, at least
  };
  constexpr uint64_t kSize = 256 << 10;
  const Case cases[] = {
      {"v09", "internal", md::Format::kV09, md::kIndexFlexInternal, 0x570, kSize - 4096, 36},
      {"v09", "flex-external", md::Format::kV09, md::kIndexFlexExternal, 0x570, 0, 36},
      {"v08", "internal", md::Format::kV08, md::kIndexFlexInternal, 0x60, kSize - 4096, 24},
      {"v08", "flex-external", md::Format::kV08, md::kIndexFlexExternal, 0x60, 0, 24}};
  // Some 10000 runs, each ending in fsync: on tmpfs when there is one.
  char shm[] = "/dev/shm/drbdmeta_flip.XXXXXX";
  const bool on_shm = mkdtemp(shm) != nullptr;
  if (on_shm) {
    fs::remove_all(dir_);
    dir_ = shm;  // also the last-known-bdev directory; TearDown removes it
    img_ = (dir_ / "d.img").string();
  }
  auto write_image = [this](const std::vector<char>& data) {
    std::ofstream out(img_, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.fmt) + " " + c.place);
    MakeImage(kSize);
    const bool v09 = c.format == md::Format::kV09;
    using Args = std::vector<std::string>;
    auto cmd = [&](Args a) {
      Args args = {"--force", "-", c.fmt, img_, c.place};
      args.insert(args.end(), a.begin(), a.end());
      return args;
    };
    ASSERT_EQ(Run(cmd(v09 ? Args{"create-md", "2"} : Args{"create-md"})).rc, 0);
    const Args gi = v09 ? Args{"--node-id=1"} : Args{};
    Args set = {"set-gi"};
    set.insert(set.end(), gi.begin(), gi.end());
    set.push_back("1111222233334444:AAAABBBBCCCCDDDD:5555666677778888:9999000011112222");
    ASSERT_EQ(Run(cmd(set)).rc, 0);
    ASSERT_EQ(Run(cmd({"write-dev-uuid", "FEDCBA9876543210"})).rc, 0);
    const std::vector<char> base = Bytes();
    ASSERT_EQ(base.size(), kSize);
    Args get_gi = {"get-gi"};
    get_gi.insert(get_gi.end(), gi.begin(), gi.end());
    const std::vector<std::pair<Args, bool>> commands = {
        {{"dump-md"}, true}, {get_gi, true}, {{"dstate"}, true}, {{"outdate"}, false}, {{"apply-al"}, false}};
    int refused = 0;
    for (size_t i = 0; i < c.struct_bytes; ++i) {
      std::vector<char> bad = base;
      bad[c.sb_offset + i] ^= static_cast<char>(0xff);
      md::SuperblockBytes raw{};
      std::memcpy(raw.data(), bad.data() + c.sb_offset, raw.size());
      const md::Validation v = md::Validate(c.format, md::Decode(c.format, raw), c.index, kSize);
      if (!v.ok) ++refused;
      for (const auto& [args, read_only] : commands) {
        write_image(bad);
        const Result r = Run(cmd(args));
        const bool unchanged = Bytes() == bad;
        if (!v.ok) {
          EXPECT_NE(r.rc, 0) << "byte " << i << " " << args[0] << " accepted: " << v.message;
          if (v.magic_ok) {
            EXPECT_NE(r.err.find(v.message + "\n"), std::string::npos) << "byte " << i << " " << args[0];
          }
        }
        if (r.rc != 0 || read_only) {
          EXPECT_TRUE(unchanged) << "byte " << i << " " << args[0] << " (exit " << r.rc << ") changed the image";
        }
      }
    }
    EXPECT_GE(refused, c.min_refused);
  }
}

// repair-md as drbd-utils >= 9.28 does it: unused ("day0") peer slots get
// the bitmap UUID of the highest such slot; --tentative only reports.
TEST_F(DrbdmetaTest, RepairMdAlignsDay0Uuids) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  Result dump = Run({"--force", "-", "v09", img_, "internal", "dump-md"});
  std::string text = dump.out;
  // Slot 3 carries a stray UUID; slot 1 is in use (bitmap 0), so not day0.
  auto set_peer = [&text](int peer, const std::string& key, const std::string& value) {
    const size_t at = text.find(key, text.find("peer[" + std::to_string(peer) + "] {"));
    text.replace(at, text.find(';', at) - at, key + " " + value);
  };
  set_peer(3, "bitmap-uuid", "0x0000000000000ABC");
  set_peer(1, "bitmap-index", "0");
  set_peer(1, "bitmap-uuid", "0x1111111111111111");
  std::ofstream(dir_ / "in.dump") << text;
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "restore-md", (dir_ / "in.dump").string()}).rc, 0);
  const std::vector<char> before = Bytes();
  Result r = Run({"--force", "-", "v09", img_, "internal", "repair-md", "--tentative"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("Peer slot 3 has \"day0\" UUID 0x0000000000000ABC, expected 0x0000000000000000\n"),
            std::string::npos);
  EXPECT_EQ(r.err.find("Repairing"), std::string::npos);
  EXPECT_EQ(Bytes(), before);
  r = Run({"--force", "-", "v09", img_, "internal", "repair-md"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.err.find("expected 0x0000000000000000\nRepairing metadata\n"), std::string::npos);
  EXPECT_EQ(Run({"--force", "-", "v09", img_, "internal", "get-gi", "--node-id=3"}).out.substr(0, 33),
            "0000000000000004:0000000000000000");
  EXPECT_EQ(Run({"--force", "-", "v09", img_, "internal", "get-gi", "--node-id=1"}).out.substr(0, 33),
            "0000000000000004:1111111111111111");
  r = Run({"--force", "-", "v09", img_, "internal", "repair-md"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.err.find("Peer slot"), std::string::npos);
  MakeImage(100 << 20);
  r = Run({"--force", "-", "v09", img_, "internal", "repair-md"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("No valid meta data found\n"), std::string::npos);
}

// --dry-run: every write is reported with drbdmeta's tag and skipped; -vv
// traces reads and writes the same way.
TEST_F(DrbdmetaTest, DryRunAndTracesUseDrbdmetaTags) {
  MakeImage(100 << 20);
  ASSERT_EQ(Run({"--force", "-", "v09", img_, "internal", "create-md", "2"}).rc, 0);
  const std::vector<char> before = Bytes();
  Result r = Run({"--force", "--dry-run", "-", "v09", img_, "internal", "invalidate"});
  EXPECT_EQ(r.rc, 0);
  const std::string skipped = "...,  4096,   104853504) SKIPPED DUE TO DRY-RUN\n";
  EXPECT_EQ(r.err.find(" v09_md_cpu_to_disk        : pwrite("), r.err.find("ioctl") == 0 ? r.err.find('\n') + 1 : 0);
  EXPECT_NE(r.err.find(skipped), std::string::npos) << r.err;
  EXPECT_EQ(Bytes(), before);
  r = Run({"--force", "-vv", "-", "v09", img_, "internal", "dstate"});
  EXPECT_NE(r.err.find(" v09_md_disk_to_cpu        : pread("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(", ...,  4096,   104853504)\n"), std::string::npos) << r.err;
  r = Run({"--force", "-vvv", "-", "v09", img_, "internal", "dstate"});
  EXPECT_EQ(r.err.find("063ff000"), std::string::npos);  // hexdump from -vvv only if invalid
  r = Run({"--force", "-vvvv", "-", "v09", img_, "internal", "dstate"});
  EXPECT_NE(r.err.find("063ff030  00 00 00 00 00 00 00 00  00 00 00 80 83 74 02 6d  |.............t.m|\n"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.err.ends_with("|................|\n06400000\n")) << r.err;
}

// create-md over existing metadata zeroes AL and bitmap before it writes the
// new superblock, last: a crash at any write leaves the old superblock
// (with a cleared AL and bitmap, which the new one would have anyway) or the
// new one, never an invalid block.
TEST_F(DrbdmetaTest, CreateMdOverExistingMetadataIsCrashSafeAtEveryWrite) {
  for (const char* fmt : {"v09", "v08"}) {
    SCOPED_TRACE(fmt);
    const bool v09 = std::string(fmt) == "v09";
    const std::vector<std::string> create = v09 ? std::vector<std::string>{"create-md", "2"}
                                                : std::vector<std::string>{"create-md"};
    auto cmd = [&](std::vector<std::string> a) {
      std::vector<std::string> args = {"--force", "-", fmt, img_, "internal"};
      args.insert(args.end(), a.begin(), a.end());
      return args;
    };
    const std::vector<std::string> get_gi = v09 ? std::vector<std::string>{"get-gi", "--node-id=1"}
                                                : std::vector<std::string>{"get-gi"};
    MakeImage(64 << 20);
    ASSERT_EQ(Run(cmd(create)).rc, 0);
    std::vector<std::string> set = {"set-gi"};
    if (v09) set.push_back("--node-id=1");
    set.push_back("1111222233334444:AAAABBBBCCCCDDDD::");
    ASSERT_EQ(Run(cmd(set)).rc, 0);
    const std::vector<char> old_image = Bytes();
    const std::string old_gi = Run(cmd(get_gi)).out;
    ASSERT_EQ(old_gi.substr(0, 16), "1111222233334444");
    int crash = 0;
    for (;; ++crash) {
      ASSERT_LT(crash, 100);
      {
        std::ofstream out(img_, std::ios::binary | std::ios::trunc);
        out.write(old_image.data(), static_cast<std::streamsize>(old_image.size()));
      }
      const Result r = Run(cmd(create), false, "", crash);
      const Result gi = Run(cmd(get_gi));
      ASSERT_EQ(gi.rc, 0) << "crash at write " << crash << ": no valid metadata left";
      if (r.rc == 0) {
        EXPECT_EQ(gi.out.substr(0, 16), "0000000000000004");
        break;
      }
      EXPECT_EQ(r.rc, 10) << r.err;
      EXPECT_EQ(gi.out, old_gi) << "crash at write " << crash;
    }
    // AL, bitmap (a pwrite after the failed zero-out) and the superblock.
    EXPECT_GE(crash, 3);
  }
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
