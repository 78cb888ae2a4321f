// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for the shared text pieces: wrap_printf's wrapping rules, the colour
// palette of drbdsetup_colors.c, --color arguments and the statistics
// formulas (pinned against values in the drbd-9.2.18 captures).
#include "lib/events/text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace drbd::events {
namespace {

TEST(WrapSink, WrapsBeforeTheWidthAndDropsLeadingSpace) {
  std::string out;
  WrapSink w(&out, 20);
  w.Print(0, "r0");
  w.Print(4, " role:Secondary");  // 17 columns
  w.Print(4, " suspended:no");    // would be 30: wraps, indent 4
  w.Print(4, " x:1");
  w.Print(0, "\n");
  w.Print(0, "\n");  // paragraph end at column 0
  EXPECT_EQ(out, "r0 role:Secondary\n    suspended:no x:1\n\n");
}

TEST(WrapSink, NewlineTokenThatDoesNotFitLeavesAnIndentOnlyLine) {
  // wrap_printf: a "\n" token past the width wraps, loses its "\n", then
  // prints the indent; the column stays at the indent, so the next token
  // wraps again (a line of spaces only).
  std::string out;
  WrapSink w(&out, 5);
  w.Print(0, "abcde");
  w.Print(4, "\n");
  w.Print(4, " y:1");
  EXPECT_EQ(out, "abcde\n    \n    y:1");
}

TEST(Palette, CodesOfDrbdsetupColors) {
  Palette on(true), off(false);
  EXPECT_EQ(off.Disk(DiskState::kUpToDate, false, true), "UpToDate");
  EXPECT_EQ(on.Disk(DiskState::kUpToDate, false, true), "\033[1;32mUpToDate\033[0m");
  EXPECT_EQ(on.Disk(DiskState::kUpToDate, false, false), "\033[32mUpToDate\033[0m");
  // An intentional diskless client counts as good.
  EXPECT_EQ(on.Disk(DiskState::kDiskless, true, true), "\033[1;32mDiskless\033[0m");
  EXPECT_EQ(on.Disk(DiskState::kDiskless, false, false), "\033[31mDiskless\033[0m");
  // Transitional: bold locally, nothing for peers.
  EXPECT_EQ(on.Disk(DiskState::kConsistent, false, true), "\033[1mConsistent\033[0m");
  EXPECT_EQ(on.Disk(DiskState::kConsistent, false, false), "Consistent");
  EXPECT_EQ(on.Role(Role::kPrimary, true), "\033[1;36mPrimary\033[0m");
  EXPECT_EQ(on.Role(Role::kPrimary, false), "\033[36mPrimary\033[0m");
  EXPECT_EQ(on.Role(Role::kSecondary, true), "Secondary");
  EXPECT_EQ(on.Conn(ConnState::kStandAlone), "\033[1;31mStandAlone\033[0m");
  EXPECT_EQ(on.Conn(ConnState::kConnected), "Connected");
  EXPECT_EQ(on.Conn(ConnState::kNetworkFailure), "\033[1mNetworkFailure\033[0m");
  // SyncTarget is the local node's problem, SyncSource the peer's.
  EXPECT_EQ(on.Repl(ReplState::kSyncTarget), "\033[1;31mSyncTarget\033[0m");
  EXPECT_EQ(on.Repl(ReplState::kSyncSource), "\033[31mSyncSource\033[0m");
  EXPECT_EQ(on.Repl(ReplState::kOff), "Off");  // peer palette, transitional
  EXPECT_EQ(on.Repl(ReplState::kBehind), "\033[1mBehind\033[0m");
  EXPECT_EQ(on.Quorum(false), "\033[1;31mno\033[0m");
  EXPECT_EQ(on.FailIo(false), "\033[1;32mno\033[0m");
}

TEST(ColorMode, ParsesDrbdsetupArguments) {
  EXPECT_EQ(ParseColorMode(std::nullopt), ColorMode::kAlways);
  EXPECT_EQ(ParseColorMode("always"), ColorMode::kAlways);
  EXPECT_EQ(ParseColorMode("never"), ColorMode::kNever);
  EXPECT_EQ(ParseColorMode("auto"), ColorMode::kAuto);
  EXPECT_FALSE(ParseColorMode("yes"));
  EXPECT_TRUE(UseColor(ColorMode::kAlways, -1));
  EXPECT_FALSE(UseColor(ColorMode::kAuto, -1));
  EXPECT_EQ(TerminalColumns(-1), 80);
}

TEST(Statistics, ResyncFieldsMatchCapture19) {
  // r0 right after primary --force: done:68.83 ... dbdt1:37.93 eta:0.
  PeerDeviceStatistics s;
  s.out_of_sync = 20400;
  s.sent = 60080;
  s.pending = 8;
  s.unacked = 1;
  s.rs_total = 65456;
  s.rs_dt1_ms = 1000;
  s.rs_db1_sectors = 77681;
  std::string out;
  PlainSink sink(&out);
  PrintPeerDeviceStatistics(sink, 0, s, {.statistics = true, .verbose = 1});
  EXPECT_EQ(out,
            " done:68.83 received:0 sent:30040 out-of-sync:10200 pending:8 "
            "unacked:1 dbdt1:37.93 eta:0");
  // Without --statistics, events2 still prints done.
  out.clear();
  PrintPeerDeviceStatistics(sink, 0, s, {});
  EXPECT_EQ(out, " done:68.83");
}

TEST(Statistics, DetailedResyncFieldsAtVerbosityTwo) {
  PeerDeviceStatistics s;
  s.out_of_sync = 5000;
  s.rs_total = 8000;
  s.rs_dt_start_ms = 2000;
  s.rs_paused_ms = 1000;
  s.rs_dt1_ms = 100;
  s.rs_db1_sectors = 0;  // no progress: eta nan
  s.rs_c_sync_rate = 2048;
  std::string out;
  PlainSink sink(&out);
  PrintPeerDeviceStatistics(sink, 0, s, {.statistics = true, .verbose = 2, .full = true});
  EXPECT_EQ(out,
            " done:37.50 received:0 sent:0 out-of-sync:2500 pending:0 unacked:0 "
            "rs-total:8000 rs-dt-start-ms:2000 rs-paused-ms:1000 rs-dt0-ms:0 "
            "rs-db0-sectors:0 rs-dt1-ms:100 rs-db1-sectors:0 rs-failed:0 rs-same-csum:0 "
            "want:2.00 dbdt:1.46 dbdt0:0.00 dbdt1:0.00 eta:nan");
}

TEST(Statistics, DeviceBlockedAndConnectionInFlight) {
  DeviceStatistics d;
  d.upper_blocked = true;
  d.lower_blocked = true;
  std::string out;
  PlainSink sink(&out);
  PrintDeviceStatistics(sink, 0, nullptr, d, {});
  EXPECT_EQ(out, " blocked:upper,lower");
  out.clear();
  ConnectionStatistics c;
  c.congested = true;
  PrintConnectionStatistics(sink, 0, nullptr, c, {});
  EXPECT_EQ(out, " congested:yes");  // no in-flight counters from old kernels
}

}  // namespace
}  // namespace drbd::events
