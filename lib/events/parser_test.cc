// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for the events2 line parser: every events2 line drbd-utils printed in
// the captures (initial dumps, the live stream, every scenario stream)
// parses into model values that print back to the
// same line; change lines update the tracked object; unknown keys are kept
// and counted; malformed lines are rejected with a message.
#include "lib/events/parser.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lib/events/test_util.h"
#include "lib/events/text.h"

namespace drbd::events {
namespace {

using testing::ReadCapture;
using testing::SplitLines;

bool IsEvents2Line(const std::string& l) {
  for (const char* p : {"exists ", "create ", "change ", "destroy ", "call ", "response ",
                        "rename ", "- skipped", "TIME "})
    if (l.starts_with(p)) return true;
  // --timestamps prefix
  return l.size() > 33 && l[4] == '-' && l[10] == 'T' && l[32] == ' ';
}

// Every events2 line of every checked-in capture.
std::vector<std::string> AllCapturedLines() {
  std::vector<std::string> out;
  for (const char* dir : {"drbd-9.2.18", "drbd-8.4.11", "scenarios"}) {
    for (const auto& e : std::filesystem::directory_iterator(testing::TestdataDir() / dir)) {
      std::string name = e.path().filename().string();
      if (std::string(dir).starts_with("drbd-") && name.find("events2") == std::string::npos)
        continue;
      for (std::string l : SplitLines(ReadCapture(std::string(dir) + "/" + name))) {
        if (!IsEvents2Line(l)) continue;
        if (l.starts_with("TIME ")) l.erase(0, 5);
        out.push_back(l);
      }
    }
  }
  return out;
}

TEST(Events2Parser, EveryCapturedLineRoundTrips) {
  std::vector<std::string> lines = AllCapturedLines();
  EXPECT_GT(lines.size(), 2000u);
  Events2Parser p;
  size_t ok = 0;
  for (const std::string& l : lines) {
    // Colour codes are stripped by the parser; compare without them.
    std::string want = StripColor(l);
    for (size_t pos; (pos = want.find("^[[")) != std::string::npos;) {
      size_t m = want.find('m', pos);
      want.erase(pos, m - pos + 1);
    }
    Events2Line parsed;
    std::string err;
    ASSERT_TRUE(p.Parse(want, &parsed, &err)) << err << "\n" << l;
    EXPECT_EQ(FormatEvents2Line(parsed), want);
    ++ok;
  }
  EXPECT_EQ(ok, lines.size());
  EXPECT_EQ(p.unknown_keys(), 0u);
}

TEST(Events2Parser, ChangeLinesUpdateTheTrackedObject) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  ASSERT_TRUE(
      p.Parse("exists device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 "
              "disk:Inconsistent client:no quorum:yes size:32728 read:0",
              &l, &err));
  ASSERT_TRUE(p.Parse("change device name:r0 volume:0 minor:0 disk:UpToDate", &l, &err));
  const Device& d = std::get<Device>(l.notification.object);
  EXPECT_EQ(d.info.disk_state, DiskState::kUpToDate);
  EXPECT_EQ(d.info.backing_dev, "/dev/loop0");
  ASSERT_TRUE(d.stats);
  EXPECT_EQ(d.stats->size, 65456u);  // sectors
  EXPECT_EQ(l.notification.type, NotifyType::kChange);
  ASSERT_TRUE(p.Parse("destroy device name:r0 volume:0", &l, &err));
  EXPECT_EQ(std::get<Device>(l.notification.object).minor, 0u);
  EXPECT_EQ(FormatEvents2Line(l), "destroy device name:r0 volume:0");
}

TEST(Events2Parser, KeepsAndCountsUnknownKeys) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  ASSERT_TRUE(
      p.Parse("exists device name:r0 volume:0 minor:0 disk:UpToDate "
              "open:yes shiny:new quorum:yes",
              &l, &err));
  EXPECT_EQ(p.unknown_keys(), 1u);
  EXPECT_EQ(FormatEvents2Line(l),
            "exists device name:r0 volume:0 minor:0 disk:UpToDate open:yes "
            "shiny:new quorum:yes");
  EXPECT_EQ(std::get<Device>(l.notification.object).info.is_open, Tristate::kYes);
}

TEST(Events2Parser, ParsesDiffColourAndTimestamps) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  ASSERT_TRUE(
      p.Parse("2026-01-15T10:04:40.017355+01:00 change resource name:r0 "
              "role:\033[1;36mSecondary\033[0m->\033[1;36mPrimary\033[0m",
              &l, &err))
      << err;
  EXPECT_EQ(l.timestamp, "2026-01-15T10:04:40.017355+01:00");
  EXPECT_EQ(std::get<Resource>(l.notification.object).info.role, Role::kPrimary);
  ASSERT_EQ(l.fields.size(), 1u);
  EXPECT_EQ(l.fields[0].old_value, "Secondary");
  EXPECT_EQ(FormatEvents2Line(l),
            "2026-01-15T10:04:40.017355+01:00 change resource "
            "name:r0 role:Secondary->Primary");
}

TEST(Events2Parser, ParsesHelpersRenameAndMarkers) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  ASSERT_TRUE(
      p.Parse("response helper name:r0 peer-node-id:1 conn-name:b "
              "helper:fence-peer status:1024",
              &l, &err));
  const Helper& h = std::get<Helper>(l.notification.object);
  EXPECT_TRUE(h.response);
  EXPECT_EQ(h.status, 1024u);
  EXPECT_EQ(h.peer_node_id, 1u);
  EXPECT_FALSE(h.volume);
  ASSERT_TRUE(p.Parse("rename resource name:r1 new_name:r2", &l, &err));
  EXPECT_EQ(std::get<Rename>(l.notification.object).new_name, "r2");
  ASSERT_TRUE(p.Parse("exists -", &l, &err));
  EXPECT_EQ(l.type, Events2Line::Type::kEndOfInitialState);
  ASSERT_TRUE(p.Parse("- skipped 3", &l, &err));
  EXPECT_EQ(l.skipped, 3);
}

TEST(Events2Parser, RejectsMalformedLines) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  EXPECT_FALSE(p.Parse("", &l, &err));
  EXPECT_FALSE(p.Parse("frobnicate resource name:r0", &l, &err));
  EXPECT_EQ(err, "line 2: unknown action 'frobnicate'");
  EXPECT_FALSE(p.Parse("change device name:r0 minor:0", &l, &err));
  EXPECT_EQ(err, "line 3: expected volume:N");
  EXPECT_FALSE(p.Parse("exists device name:r0 volume:0 minor:0 disk:Sideways", &l, &err));
  EXPECT_EQ(err, "line 4: bad value 'Sideways' for key 'disk'");
  EXPECT_FALSE(p.Parse("exists path name:r0 peer-node-id:1 conn-name:b local:x peer:y", &l, &err));
  EXPECT_FALSE(p.Parse("exists resource name:r0 role", &l, &err));
}

TEST(Events2Parser, AddressesRoundTrip) {
  for (const char* s : {"ipv4:127.0.0.1:7788", "ipv6:[fe80::1%eth0]:7789", "ssocks:10.0.0.1:1",
                        "sdp:10.0.0.2:65535"}) {
    auto a = ParseAddress(s);
    ASSERT_TRUE(a) << s;
    EXPECT_EQ(ToString(*a), s);
  }
  EXPECT_FALSE(ParseAddress("ipv4:1.2.3.4:99999"));
  EXPECT_FALSE(ParseAddress("ipv6:::1:7788"));
  EXPECT_FALSE(ParseAddress("bogus:1.2.3.4:1"));
}

}  // namespace
}  // namespace drbd::events
