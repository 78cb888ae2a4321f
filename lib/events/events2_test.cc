// SPDX-License-Identifier: GPL-2.0-or-later
// Golden tests for the events2 printer: model objects filled with the values
// of the drbd-9.2.18 captures (testdata/drbd-9.2.18/) must print the
// captured `events2 --now [--statistics] [--full]` output byte for byte; the
// recorded event streams of the scenarios replay through the state of the
// world to the same lines; --diff, colours, timestamps, rename and the
// queueing of early events behave as drbd-utils 9.22.
#include "lib/events/events2.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "lib/events/test_util.h"

namespace drbd::events {
namespace {

using testing::ReadCapture;
using testing::SnapshotsFromNow;
using testing::SplitLines;

constexpr char kDir[] = "drbd-9.2.18/";

// The notifications of an initial-state dump of `resources`, in the
// kernel's order (resource, connections, paths, devices, peer devices),
// NOTIFY_CONTINUES on all but each resource's last, then INITIAL_STATE_DONE.
std::vector<Notification> InitialDump(const std::vector<ResourceSnapshot>& rs) {
  std::vector<Notification> out;
  for (const ResourceSnapshot& r : rs) {
    auto add = [&out](auto obj) {
      Notification n;
      n.type = NotifyType::kExists;
      n.continues = true;
      n.object = std::move(obj);
      out.push_back(std::move(n));
    };
    add(r.resource);
    for (const auto& c : r.connections) add(c.connection);
    for (const auto& c : r.connections)
      for (const auto& p : c.paths) add(p);
    for (const auto& d : r.devices) add(d);
    for (const auto& c : r.connections)
      for (const auto& p : c.peer_devices) add(p);
    out.back().continues = false;
  }
  Notification done;
  done.object = InitialStateDone{};
  out.push_back(done);
  return out;
}

std::string RunNow(const std::vector<ResourceSnapshot>& rs, Events2Options o) {
  Events2World world(o);
  std::string out;
  for (const Notification& n : InitialDump(rs)) world.Apply(n, "", &out);
  return out;
}

// A SyncSource/SyncTarget peer device as the kernel reported it right after
// `primary --force` (capture 19): 68.83% done, 37.93 MiB/s, eta 0 s.
void FillResync(PeerDevice& p) {
  PeerDeviceStatistics& s = *p.stats;
  s.rs_total = 65456;  // the whole 32728 KiB device, in sectors
  s.rs_dt1_ms = 1000;
  s.rs_db1_sectors = 77681;
}

TEST(Events2Golden, NowWithStatisticsBothInconsistent) {
  std::string want =
      ReadCapture(std::string(kDir) +
                  "12-drbdsetup_events2_--now_--statistics__connected__both_Inconsistent_.txt");
  EXPECT_EQ(testing::WithoutOpenKey(RunNow(SnapshotsFromNow(want), {.statistics = true})), want);
}

TEST(Events2Golden, NowWithStatisticsDuringResync) {
  std::string want =
      ReadCapture(std::string(kDir) +
                  "19-drbdsetup_events2_--now_--statistics__right_after_primary_--force_.txt");
  std::vector<ResourceSnapshot> rs = SnapshotsFromNow(want);
  ASSERT_EQ(rs.size(), 2u);
  FillResync(rs[0].connections[0].peer_devices[0]);
  FillResync(rs[1].connections[0].peer_devices[0]);
  EXPECT_EQ(testing::WithoutOpenKey(RunNow(rs, {.statistics = true})), want);
}

TEST(Events2Golden, NowWithStatisticsSyncedAndRolesSwitched) {
  for (const char* f :
       {"20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt",
        "40-drbdsetup_events2_--now_--statistics__roles_switched__r1_Primary_.txt"}) {
    std::string want = ReadCapture(std::string(kDir) + f);
    EXPECT_EQ(testing::WithoutOpenKey(RunNow(SnapshotsFromNow(want), {.statistics = true})), want) << f;
  }
}

TEST(Events2Golden, NowWithoutStatistics) {
  std::string want =
      ReadCapture(std::string(kDir) + "28-drbdsetup_events2_--now__no_statistics_.txt");
  // The model carries the statistics; without --statistics they stay hidden.
  std::vector<ResourceSnapshot> rs = SnapshotsFromNow(ReadCapture(
      std::string(kDir) + "20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt"));
  EXPECT_EQ(testing::WithoutOpenKey(RunNow(rs, {})), want);
}

TEST(Events2Golden, NowStatisticsFull) {
  std::string want =
      ReadCapture(std::string(kDir) + "29-drbdsetup_events2_r0_--now_--statistics_--full.txt");
  EXPECT_EQ(testing::WithoutOpenKey(RunNow(SnapshotsFromNow(want), {.statistics = true, .full = true})), want);
}

TEST(Events2Golden, NothingConfiguredPrintsOnlyTheEndMarker) {
  EXPECT_EQ(RunNow({}, {}), "exists -\n");
}

TEST(Events2Golden, PromotionScoreFollowsCaptures) {
  // Both Inconsistent: nobody has UpToDate data.
  auto rs = SnapshotsFromNow(
      ReadCapture(std::string(kDir) +
                  "12-drbdsetup_events2_--now_--statistics__connected__both_Inconsistent_.txt"));
  EXPECT_EQ(Events2World::ComputePromotion(rs[0]), (Events2World::Promotion{false, 0}));
  // Synced, peer Primary: 10102 but may not promote.
  rs = SnapshotsFromNow(ReadCapture(
      std::string(kDir) + "20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt"));
  EXPECT_EQ(Events2World::ComputePromotion(rs[1]), (Events2World::Promotion{false, 10102}));
  rs[1].connections[0].connection.info.peer_role = Role::kSecondary;
  EXPECT_EQ(Events2World::ComputePromotion(rs[1]), (Events2World::Promotion{true, 10102}));
}

// ---- replay of the recorded streams ----------------------------------------

// Turns the lines of a recorded `events2 --timestamps` stream back into
// notifications: lines printed together (same timestamp) form one burst.
// Values drbdsetup derives are re-created: a `done:` from resync totals, and
// a peer-device line that names no field from a statistics change.
struct Replay {
  std::string expected;
  std::string got;
  size_t lines = 0;
};

Replay ReplayStream(const std::string& text) {
  Replay r;
  r.expected = text;
  std::vector<Events2Line> lines = testing::ParseAll(text);
  Events2World world({});
  uint64_t bump = 0;
  uint32_t seq = 1000;  // netlink sequence numbers of multicast events
  bool gap_pending = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    Events2Line& l = lines[i];
    std::string prefix = l.timestamp.empty() ? "" : l.timestamp + " ";
    if (l.type == Events2Line::Type::kSkipped) {
      // The kernel's sequence number jumped before the next event. drbd-utils
      // 9.22 printed "- skipped N"; the newer reader (ours) holds later
      // events for the missing ones until the reader gives up on them.
      seq += static_cast<uint32_t>(l.skipped);
      gap_pending = true;
      continue;
    }
    Notification n = l.notification;
    bool same_burst_next =
        i + 1 < lines.size() && !l.timestamp.empty() && lines[i + 1].timestamp == l.timestamp &&
        lines[i + 1].type == Events2Line::Type::kObject && l.type == Events2Line::Type::kObject;
    n.continues = same_burst_next;
    if (auto* p = std::get_if<PeerDevice>(&n.object)) {
      PeerDeviceStatistics& s = p->stats ? *p->stats : p->stats.emplace();
      s.bitmap_uuid = ++bump;  // the kernel sent new statistics
      s.rs_total = 0;
      for (const auto& f : l.fields) {
        if (f.key != "done") continue;
        // 1,000,000 sectors in total; to go = the rest.
        double done = std::strtod(f.value.c_str(), nullptr);
        s.rs_total = 1000000;
        s.out_of_sync = static_cast<uint64_t>(1000000 - done * 10000 + 0.5);
      }
      // UUID_FLAG_STABLE: the peer's data is not moving (not a Primary).
      s.uuid_flags = kUuidFlagStable;
    }
    std::optional<uint32_t> event_seq;
    if (n.type != NotifyType::kExists) event_seq = ++seq;
    world.Apply(n, prefix, &r.got, event_seq);
    if (gap_pending) {
      // Nothing else arrives in the real stream until the next burst: the
      // reader's wait times out and it gives up on the missing number.
      if (!same_burst_next) {
        world.SkipGap(prefix, &r.got);
        gap_pending = false;
      }
    }
    ++r.lines;
  }
  r.got = testing::WithoutOpenKey(r.got);
  // The expected text without 9.22's "- skipped N" lines.
  std::string expected;
  for (const std::string& line : testing::SplitLines(r.expected)) {
    if (line.find(" - skipped ") == std::string::npos && !line.starts_with("- skipped ")) {
      expected += line + "\n";
    }
  }
  r.expected = expected;
  return r;
}

TEST(Events2Golden, ScenarioStreamsReplayByteForByte) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::TestdataDir() / "scenarios")) {
    std::string text = ReadCapture("scenarios/" + e.path().filename().string());
    Replay r = ReplayStream(text);
    EXPECT_GT(r.lines, 10u);
    std::vector<std::string> want = SplitLines(r.expected), got = SplitLines(r.got);
    size_t n = std::min(want.size(), got.size());
    size_t first_diff = n;
    for (size_t i = 0; i < n; ++i)
      if (want[i] != got[i]) {
        first_diff = i;
        break;
      }
    EXPECT_TRUE(r.got == r.expected)
        << e.path().filename() << " first difference at line " << first_diff + 1
        << "\nwant: " << (first_diff < want.size() ? want[first_diff] : "<eof>")
        << "\ngot:  " << (first_diff < got.size() ? got[first_diff] : "<eof>");
    ++files;
  }
  EXPECT_EQ(files, 17);
}

// ---- behaviours --------------------------------------------------------------

Device Dev(DiskState disk, std::string backing) {
  Device d;
  d.resource = "r0";
  d.info.disk_state = disk;
  d.info.intentional_diskless = Tristate::kNo;
  d.info.has_quorum = true;
  d.info.backing_dev = std::move(backing);
  return d;
}

Notification Note(NotifyType t, decltype(Notification::object) o, bool continues = false) {
  Notification n;
  n.type = t;
  n.continues = continues;
  n.object = std::move(o);
  return n;
}

TEST(Events2World, DiffPrintsOldAndNewAndOmitsQuorumOfNewDevice) {
  Events2World w({.diff = true});
  std::string out;
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  Resource r;
  r.name = "r0";
  r.info.role = Role::kSecondary;
  w.Apply(Note(NotifyType::kCreate, r), "", &out);
  w.Apply(Note(NotifyType::kCreate, Dev(DiskState::kDiskless, "")), "", &out);
  w.Apply(Note(NotifyType::kChange, Dev(DiskState::kUpToDate, "/dev/vdb")), "", &out);
  EXPECT_EQ(out,
            "exists -\n"
            "create resource name:r0 role:UNKNOWN->Secondary suspended:UNKNOWN->no "
            "force-io-failures:UNKNOWN->no may_promote:UNKNOWN->no promotion_score:0->0\n"
            "create device name:r0 volume:0 minor:0 backing_dev:UNKNOWN->none "
            "disk:UNKNOWN->Diskless client:UNKNOWN->no open:UNKNOWN->unknown\n"
            "change resource name:r0 may_promote:no->yes promotion_score:0->10101\n"
            "change device name:r0 volume:0 minor:0 backing_dev:none->/dev/vdb "
            "disk:Diskless->UpToDate client:no open:unknown quorum:yes\n");
}

TEST(Events2World, EventsBeforeInitialStateAreQueued) {
  Events2World w({});
  std::string out;
  Resource r;
  r.name = "r0";
  r.info.role = Role::kSecondary;
  w.Apply(Note(NotifyType::kExists, r), "", &out);
  Resource primary = r;
  primary.info.role = Role::kPrimary;
  w.Apply(Note(NotifyType::kChange, primary), "", &out);
  EXPECT_EQ(out,
            "exists resource name:r0 role:Secondary suspended:no "
            "force-io-failures:no may_promote:no promotion_score:0\n");
  out.clear();
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "T ", &out);
  EXPECT_EQ(out, "T exists -\nT change resource name:r0 role:Primary\n");
}

TEST(Events2World, RenameAndDestroy) {
  Events2World w({});
  std::string out;
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  Resource r;
  r.name = "r0";
  w.Apply(Note(NotifyType::kCreate, r), "", &out);
  out.clear();
  w.Apply(Note(NotifyType::kRename, Rename{"r0", "r9"}), "", &out);
  EXPECT_EQ(out, "rename resource name:r0 new_name:r9\n");
  ASSERT_EQ(w.Snapshot().size(), 1u);
  EXPECT_EQ(w.Snapshot()[0].resource.name, "r9");
  out.clear();
  Resource gone;
  gone.name = "r9";
  w.Apply(Note(NotifyType::kDestroy, gone), "", &out);
  EXPECT_EQ(out, "destroy resource name:r9\n");
  EXPECT_TRUE(w.Snapshot().empty());
}

TEST(Events2World, HelperOfUnknownResourceIsNotPrinted) {
  Events2World w({});
  std::string out;
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  Helper h;
  h.resource = "nope";
  h.name = "fence-peer";
  w.Apply(Note(NotifyType::kCall, h), "", &out);
  EXPECT_EQ(out, "exists -\n");
}

TEST(Events2World, ChangesApplyInSequenceOrder) {
  // drbd-utils >= 9.28: changes that arrive out of order are held until the
  // ones before them (by nlmsg_seq) have arrived; no "- skipped" lines.
  Events2World w({});
  std::string out;
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  Resource r;
  r.name = "r0";
  r.info.role = Role::kSecondary;
  w.Apply(Note(NotifyType::kCreate, r), "", &out, 5);
  out.clear();
  Resource p = r;
  p.info.role = Role::kPrimary;
  w.Apply(Note(NotifyType::kChange, p), "", &out, 7);  // 6 is still missing
  EXPECT_EQ(out, "");
  w.Apply(Note(NotifyType::kChange, r), "", &out, 6);
  EXPECT_EQ(out, "change resource name:r0 role:Primary\n");
}

TEST(Events2World, PollUpdateTurnsExistsIntoChanges) {
  // --poll without --now: "n" re-reads the initial state; only differences
  // are printed, as change lines, and no second "exists -".
  Events2World w({.statistics = true});
  std::string out;
  Resource r;
  r.name = "r0";
  r.info.role = Role::kSecondary;
  r.stats = ResourceStatistics{WriteOrdering::kFlush};
  w.Apply(Note(NotifyType::kExists, r), "", &out);
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  out.clear();
  w.PrepareUpdate();
  r.stats->write_ordering = WriteOrdering::kDrain;
  w.Apply(Note(NotifyType::kExists, r), "", &out);
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  EXPECT_EQ(out, "change resource name:r0 write-ordering:drain\n");
  // --poll --now: Reset() forgets everything; the dump prints in full again.
  out.clear();
  w.Reset();
  w.Apply(Note(NotifyType::kExists, r), "", &out);
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  EXPECT_EQ(out,
            "exists resource name:r0 role:Secondary suspended:no force-io-failures:no "
            "write-ordering:drain may_promote:no promotion_score:0\nexists -\n");
}

TEST(Events2World, SiblingOrderAlternatesBetweenBurstsAsInDrbdUtils) {
  // drbdsetup copies a resource into a fresh list for every burst, which
  // reverses its devices; a burst that changes both volumes prints them in
  // the order of that copy.
  Events2World w({});
  std::string out;
  w.Apply(Note(NotifyType::kExists, InitialStateDone{}), "", &out);
  Resource r;
  r.name = "r0";
  w.Apply(Note(NotifyType::kCreate, r), "", &out);
  Device v0 = Dev(DiskState::kDiskless, ""), v1 = v0;
  v1.volume = 1;
  v1.minor = 1;
  w.Apply(Note(NotifyType::kCreate, v0), "", &out);
  w.Apply(Note(NotifyType::kCreate, v1), "", &out);
  auto both = [&](DiskState s) {
    v0.info.disk_state = v1.info.disk_state = s;
    out.clear();
    w.Apply(Note(NotifyType::kChange, v0, true), "", &out);
    w.Apply(Note(NotifyType::kChange, v1), "", &out);
    std::string order;
    for (const std::string& l : SplitLines(out))
      if (l.starts_with("change device")) order += l.substr(l.find("volume:") + 7, 1);
    return order;
  };
  EXPECT_EQ(both(DiskState::kAttaching), "01");
  EXPECT_EQ(both(DiskState::kInconsistent), "10");
  EXPECT_EQ(both(DiskState::kUpToDate), "01");
}

TEST(Events2World, ResourceFilterPassesMarkerAndNamedResource) {
  Resource r0, r1;
  r0.name = "r0";
  r1.name = "r1";
  Helper h;
  h.resource = "r1";
  EXPECT_TRUE(MatchesResource(Note(NotifyType::kChange, r0), "r0"));
  EXPECT_FALSE(MatchesResource(Note(NotifyType::kChange, r1), "r0"));
  EXPECT_FALSE(MatchesResource(Note(NotifyType::kCall, h), "r0"));
  EXPECT_TRUE(MatchesResource(Note(NotifyType::kCall, h), "all"));
  EXPECT_TRUE(MatchesResource(Note(NotifyType::kExists, InitialStateDone{}), "r0"));
}

TEST(Events2World, TimestampPrefixUsesLocalOffset) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(TimestampPrefix(1763771827324982), "2025-11-22T00:37:07.324982+00:00 ");
  setenv("TZ", "CET-1", 1);
  tzset();
  EXPECT_EQ(TimestampPrefix(1763771827000001), "2025-11-22T01:37:07.000001+01:00 ");
  setenv("TZ", "UTC", 1);
  tzset();
}

}  // namespace
}  // namespace drbd::events
