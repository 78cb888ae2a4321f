// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/getopt.h"

#include <gtest/gtest.h>

#include <sstream>

namespace drbd {
namespace {

const std::vector<ShortOpt> kShort = {{'d', ArgKind::kNone}, {'c', ArgKind::kRequired}};
const std::vector<LongOpt> kLong = {
    {"dry-run", ArgKind::kNone, 'd'},   {"config-file", ArgKind::kRequired, 'c'},
    {"size", ArgKind::kRequired, 257},  {"sndbuf-size", ArgKind::kRequired, 257},
    {"force", ArgKind::kOptional, 257}, {"force", ArgKind::kOptional, 257},
};

struct Parsed {
  bool ok;
  std::vector<std::string> seen;  // "val:arg"
  std::vector<std::string> operands;
  std::string err;
};

Parsed Parse(std::vector<std::string> args) {
  Parsed p;
  std::ostringstream err;
  p.ok = GnuGetoptLong(
      args, "drbdadm", kShort, kLong,
      [&](const GetoptEvent& ev) {
        std::string name = ev.long_index >= 0 ? kLong[ev.long_index].name
                                              : std::string(1, static_cast<char>(ev.val));
        p.seen.push_back(name + (ev.has_arg ? "=" + ev.arg : ""));
        return true;
      },
      &p.operands, err);
  p.err = err.str();
  return p;
}

TEST(GnuGetoptLong, PermutesOperandsAndStopsAtDoubleDash) {
  Parsed p = Parse({"up", "-d", "r0", "--", "--force", "-d"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.seen, (std::vector<std::string>{"d"}));
  EXPECT_EQ(p.operands, (std::vector<std::string>{"up", "r0", "--force", "-d"}));
}

TEST(GnuGetoptLong, ShortOptionArgumentsAttachedOrSeparate) {
  Parsed p = Parse({"-dcfile", "-c", "other"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.seen, (std::vector<std::string>{"d", "c=file", "c=other"}));
}

TEST(GnuGetoptLong, UniqueAbbreviationAndDuplicateEntriesAreNotAmbiguous) {
  Parsed p = Parse({"--conf", "x", "--fo=1"});
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.seen, (std::vector<std::string>{"config-file=x", "force=1"}));
}

TEST(GnuGetoptLong, AmbiguousPrefixListsDifferingCandidates) {
  Parsed p = Parse({"--s"});
  EXPECT_FALSE(p.ok);
  // size and sndbuf-size have the same kind and value: glibc takes the first.
  EXPECT_TRUE(Parse({"--s=1"}).ok);
  p = Parse({"--d"});  // dry-run only
  EXPECT_TRUE(p.ok);
}

TEST(GnuGetoptLong, ErrorMessagesMatchGlibc) {
  EXPECT_EQ(Parse({"--nope=1"}).err, "drbdadm: unrecognized option '--nope=1'\n");
  EXPECT_EQ(Parse({"-x"}).err, "drbdadm: invalid option -- 'x'\n");
  EXPECT_EQ(Parse({"-c"}).err, "drbdadm: option requires an argument -- 'c'\n");
  EXPECT_EQ(Parse({"--config-file"}).err, "drbdadm: option '--config-file' requires an argument\n");
  EXPECT_EQ(Parse({"--dry-run=1"}).err, "drbdadm: option '--dry-run' doesn't allow an argument\n");
}

TEST(GnuGetoptLong, AmbiguityMessageNamesEveryDifferingOption) {
  std::vector<LongOpt> longs = {{"stacked", ArgKind::kNone, 'S'},
                                {"sh-varname", ArgKind::kRequired, 'n'},
                                {"size", ArgKind::kRequired, 257},
                                {"size", ArgKind::kRequired, 257}};
  std::ostringstream err;
  std::vector<std::string> ops;
  EXPECT_FALSE(GnuGetoptLong(
      {"--s"}, "drbdadm", {}, longs, [](const GetoptEvent&) { return true; }, &ops, err));
  EXPECT_EQ(err.str(),
            "drbdadm: option '--s' is ambiguous; possibilities: '--stacked' '--sh-varname' "
            "'--size' '--size'\n");
}

}  // namespace
}  // namespace drbd
