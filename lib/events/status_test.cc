// SPDX-License-Identifier: GPL-2.0-or-later
// Golden tests for `status` text and JSON and the role/cstate/dstate
// queries: model objects filled with the values of the drbd-9.2.18 captures
// (taken from the events2 dump of the same stage, plus the node ids of the
// capture's configuration) must print the captured drbd-utils 9.22 output
// byte for byte; wrapping and colours follow wrap_printf and
// drbdsetup_colors.
#include "lib/events/status.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "lib/events/test_util.h"
#include "lib/events/text.h"

namespace drbd::events {
namespace {

using testing::ReadCapture;

constexpr char kDir[] = "drbd-9.2.18/";

// The resources of an events2 --now capture, optionally updated by more
// events2 lines (values of a status capture of a nearby moment), with the
// node ids of captures/drbd-9.2.18/05-_etc_drbd.conf.txt (r0: 0, r1: 1).
std::vector<ResourceSnapshot> Stage(const std::string& events2_capture,
                                    const std::vector<std::string>& updates = {}) {
  std::string text = ReadCapture(std::string(kDir) + events2_capture);
  for (const std::string& u : updates) text += u + "\n";
  // Re-read with the updates applied to the tracked objects.
  Events2Parser p;
  std::vector<ResourceSnapshot> rs;
  for (const std::string& l : testing::SplitLines(text)) {
    Events2Line line;
    std::string err;
    EXPECT_TRUE(p.Parse(l, &line, &err)) << err;
    const auto& o = line.notification.object;
    if (const auto* r = std::get_if<Resource>(&o)) {
      bool found = false;
      for (auto& x : rs)
        if (x.resource.name == r->name) x.resource = *r, found = true;
      if (!found) rs.emplace_back().resource = *r;
    } else if (const auto* d = std::get_if<Device>(&o)) {
      for (auto& x : rs)
        if (x.resource.name == d->resource) {
          bool f = false;
          for (auto& y : x.devices)
            if (y.volume == d->volume) y = *d, f = true;
          if (!f) x.devices.push_back(*d);
        }
    } else if (const auto* c = std::get_if<Connection>(&o)) {
      for (auto& x : rs)
        if (x.resource.name == c->resource) {
          bool f = false;
          for (auto& y : x.connections)
            if (y.connection.name == c->name) y.connection = *c, f = true;
          if (!f) x.connections.emplace_back().connection = *c;
        }
    } else if (const auto* pd = std::get_if<PeerDevice>(&o)) {
      for (auto& x : rs)
        for (auto& y : x.connections)
          if (x.resource.name == pd->resource && y.connection.name == pd->conn_name) {
            bool f = false;
            for (auto& z : y.peer_devices)
              if (z.volume == pd->volume) z = *pd, f = true;
            if (!f) y.peer_devices.push_back(*pd);
          }
    }
  }
  for (auto& x : rs) x.resource.node_id = x.resource.name == "r0" ? 0 : 1;
  return rs;
}

StatusOptions VerboseStats() {
  StatusOptions o;
  o.verbose = 1;
  o.statistics = true;
  return o;
}

TEST(StatusGolden, VerboseStatisticsBothInconsistent) {
  auto rs = Stage("12-drbdsetup_events2_--now_--statistics__connected__both_Inconsistent_.txt");
  EXPECT_EQ(
      FormatStatus(rs, VerboseStats()),
      ReadCapture(std::string(kDir) +
                  "13-drbdsetup_status_--verbose_--statistics__connected__both_Inconsistent_.txt"));
}

TEST(StatusGolden, VerboseStatisticsDuringResyncWrapsDoneLine) {
  // Capture 18 was taken just before events2 capture 19; its values:
  auto rs = Stage(
      "19-drbdsetup_events2_--now_--statistics__right_after_primary_--force_.txt",
      {"change device name:r0 volume:0 minor:0 read:16384 written:0 bm-writes:1 lower-pending:2",
       "change connection name:r0 peer-node-id:1 conn-name:b0 congested:no rs-in-flight:12288",
       "change peer-device name:r0 peer-node-id:1 conn-name:b0 volume:0 received:0 sent:16384 "
       "out-of-sync:22488 pending:6 unacked:2 rs-total:65456 rs-dt1-ms:1000 rs-db1-sectors:56258",
       "change device name:r1 volume:0 minor:1 read:0 written:12288 lower-pending:8",
       "change connection name:r1 peer-node-id:0 conn-name:a1 rs-in-flight:0",
       "change peer-device name:r1 peer-node-id:0 conn-name:a1 volume:0 received:20480 sent:0 "
       "out-of-sync:20440 pending:0 unacked:8 rs-total:65456 rs-dt1-ms:1000 rs-db1-sectors:62054"});
  EXPECT_EQ(
      FormatStatus(rs, VerboseStats()),
      ReadCapture(std::string(kDir) +
                  "18-drbdsetup_status_--verbose_--statistics__right_after_primary_--force_.txt"));
}

TEST(StatusGolden, SyncedVerbosePlainAndSingleResource) {
  auto rs = Stage("20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt");
  EXPECT_EQ(FormatStatus(rs, VerboseStats()),
            ReadCapture(std::string(kDir) +
                        "21-drbdsetup_status_--verbose_--statistics__synced__r0_Primary_.txt"));
  EXPECT_EQ(FormatStatus(rs, {}),
            ReadCapture(std::string(kDir) + "26-drbdsetup_status__plain__synced_.txt"));
  StatusOptions verbose;
  verbose.verbose = 1;
  EXPECT_EQ(FormatStatus({rs[0]}, verbose),
            ReadCapture(std::string(kDir) + "27-drbdsetup_status_r0_--verbose.txt"));
  // drbdadm status r0 is drbdsetup's paragraph (after drbdadm's own
  // __DRBD_NODE__ notice on stdout).
  std::string adm = ReadCapture(std::string(kDir) + "36-__DRBD_NODE___a0_drbdadm_status_r0.txt");
  std::string para = FormatStatus({rs[0]}, {});
  ASSERT_GE(adm.size(), para.size());
  EXPECT_EQ(adm.substr(adm.size() - para.size()), para);
}

TEST(StatusGolden, AfterWriteAndRolesSwitched) {
  auto rs = Stage("40-drbdsetup_events2_--now_--statistics__roles_switched__r1_Primary_.txt");
  EXPECT_EQ(
      FormatStatus(rs, VerboseStats()),
      ReadCapture(std::string(kDir) +
                  "41-drbdsetup_status_--verbose_--statistics__roles_switched__r1_Primary_.txt"));
  // Capture 39 has the same counters, before the roles were switched.
  rs[0].resource.info.role = Role::kPrimary;
  rs[0].connections[0].connection.info.peer_role = Role::kSecondary;
  rs[1].resource.info.role = Role::kSecondary;
  rs[1].connections[0].connection.info.peer_role = Role::kPrimary;
  EXPECT_EQ(FormatStatus(rs, VerboseStats()),
            ReadCapture(std::string(kDir) +
                        "39-drbdsetup_status_--verbose_--statistics__after_write_.txt"));
}

TEST(StatusGolden, NothingConfigured) {
  EXPECT_EQ(FormatStatus({}, {}),
            ReadCapture(std::string(kDir) + "04-drbdsetup_status__nothing_configured_.txt"));
  EXPECT_EQ(FormatStatus({}, VerboseStats()),
            ReadCapture(std::string(kDir) + "44-drbdsetup_status__after_down_.txt"));
  EXPECT_EQ(FormatStatusJson({}), "[\n]\n\n");
}

TEST(Status, CommandFiltersAndReportsMissingResource) {
  auto rs = Stage("20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt");
  StatusCommandOutput o = RunStatusCommand(rs, "r1", {}, false);
  EXPECT_EQ(o.out,
            "r1 role:Secondary\n  disk:UpToDate\n  a1 role:Primary\n    peer-disk:UpToDate\n\n");
  EXPECT_EQ(o.exit_code, 0);
  // Unknown name, other resources exist: nothing on stdout.
  o = RunStatusCommand(rs, "r9", {}, false);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "r9: No such resource\n");
  EXPECT_EQ(o.exit_code, 10);
  // Nothing configured at all: the comment, and the error for a name.
  o = RunStatusCommand({}, "r9", {}, false);
  EXPECT_EQ(o.out, "# No currently configured DRBD found.\n");
  EXPECT_EQ(o.exit_code, 10);
  o = RunStatusCommand({}, "all", {}, false);
  EXPECT_EQ(o.exit_code, 0);
  o = RunStatusCommand(rs, "r9", {}, true);
  EXPECT_EQ(o.out, "[\n]\n\n");
  EXPECT_EQ(o.exit_code, 10);
}

TEST(StatusGolden, Json) {
  EXPECT_EQ(FormatStatusJson(Stage(
                "12-drbdsetup_events2_--now_--statistics__connected__both_Inconsistent_.txt")),
            ReadCapture(std::string(kDir) +
                        "14-drbdsetup_status_--json__connected__both_Inconsistent_.txt"));
  EXPECT_EQ(
      FormatStatusJson(Stage("20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt")),
      ReadCapture(std::string(kDir) + "22-drbdsetup_status_--json__synced__r0_Primary_.txt"));
  EXPECT_EQ(FormatStatusJson(
                Stage("40-drbdsetup_events2_--now_--statistics__roles_switched__r1_Primary_.txt")),
            ReadCapture(std::string(kDir) +
                        "42-drbdsetup_status_--json__roles_switched__r1_Primary_.txt"));
}

TEST(StatusGolden, RoleCstateDstate) {
  auto rs = Stage("20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt");
  EXPECT_EQ(FormatRole(rs[0]) + *FormatCstate(rs[0], 1) + *FormatDstate(rs[0], 0),
            ReadCapture(std::string(kDir) + "30-drbdsetup_role_r0___cstate_r0_1___dstate.txt"));
  EXPECT_EQ(FormatRole(rs[1]) + *FormatCstate(rs[1], 0) + *FormatDstate(rs[1], 1),
            ReadCapture(std::string(kDir) + "33-drbdsetup_role_r1___cstate_r1_0___dstate.txt"));
  EXPECT_FALSE(FormatCstate(rs[0], 7));
  EXPECT_FALSE(FormatDstate(rs[0], 1));
}

// ---- every `status --verbose --statistics` of the scenario runs -------------

// Reads the values back from verbose+statistics status text, which shows
// every field (tokens are key:value; a bare word starts a connection;
// volume:N starts a device, or a peer device after a connection). The
// fields go through Events2Parser, whose keys are the same. Values
// drbdsetup derives (done, dbdt1, eta) are turned back into resync
// counters that print the same.
std::vector<ResourceSnapshot> ParseVerboseStatus(const std::string& text) {
  std::vector<ResourceSnapshot> out;
  Events2Parser parser;
  std::string pending;  // the events2 line being collected
  std::vector<std::pair<std::string, std::string>> derived;
  auto flush = [&]() {
    if (pending.empty()) return;
    Events2Line l;
    std::string err;
    EXPECT_TRUE(parser.Parse(pending, &l, &err)) << err << "\n" << pending;
    ResourceSnapshot& rs = out.back();
    const auto& o = l.notification.object;
    if (const auto* r = std::get_if<Resource>(&o)) {
      std::optional<uint32_t> id = rs.resource.node_id;
      rs.resource = *r;
      rs.resource.node_id = id;
    } else if (const auto* d = std::get_if<Device>(&o)) {
      rs.devices.push_back(*d);
    } else if (const auto* c = std::get_if<Connection>(&o)) {
      rs.connections.emplace_back().connection = *c;
    } else if (const auto* p = std::get_if<PeerDevice>(&o)) {
      PeerDevice pd = *p;
      std::map<std::string, double> v;
      for (const auto& [k, val] : derived) v[k] = std::strtod(val.c_str(), nullptr);
      if (v.count("done")) {
        // Smallest resync total whose done% prints the same.
        PeerDeviceStatistics& s = *pd.stats;
        uint64_t to_go = s.out_of_sync;
        bool found = false;
        for (uint64_t total = std::max<uint64_t>(to_go, 1); !found && total < 100 * to_go + 100000;
             ++total) {
          s.rs_total = total;
          found = FormatFixed(PercentDone(s), 2) == FormatFixed(v["done"], 2);
        }
        EXPECT_TRUE(found) << "done:" << v["done"];
        // A progress mark that prints the same dbdt1 and eta.
        for (uint64_t dt = 1; dt < 100000; ++dt) {
          uint64_t db = static_cast<uint64_t>(v["dbdt1"] * 2.048 * dt + 0.5);
          s.rs_dt1_ms = dt;
          s.rs_db1_sectors = db;
          double rate = static_cast<double>(db) / dt * 1000.0 / 2048.0;
          double eta = dt * 1e-3 * static_cast<double>(to_go) / db;
          if (FormatFixed(rate, 2) == FormatFixed(v["dbdt1"], 2) &&
              FormatFixed(eta, 0) == FormatFixed(v["eta"], 0))
            break;
        }
      }
      rs.connections.back().peer_devices.push_back(pd);
    }
    pending.clear();
    derived.clear();
  };
  std::stringstream ss(text);
  std::string tok;
  bool new_paragraph = true;
  std::string line;
  while (std::getline(ss, line)) {
    if (line.empty()) {
      flush();
      new_paragraph = true;
      continue;
    }
    std::stringstream ls(line);
    while (ls >> tok) {
      std::string name = out.empty() ? "" : out.back().resource.name;
      size_t colon = tok.find(':');
      if (new_paragraph) {
        flush();
        out.emplace_back().resource.name = tok;
        pending = "exists resource name:" + tok;
        new_paragraph = false;
        continue;
      }
      std::string key = tok.substr(0, colon == std::string::npos ? 0 : colon);
      std::string value = colon == std::string::npos ? "" : tok.substr(colon + 1);
      if (colon == std::string::npos) {  // a connection name
        flush();
        pending = "exists connection name:" + name + " conn-name:" + tok;
      } else if (key == "volume") {
        flush();
        if (out.back().connections.empty() && !pending.starts_with("exists connection")) {
          pending = "exists device name:" + name + " volume:" + value;
        } else {
          const Connection& c = out.back().connections.back().connection;
          pending = "exists peer-device name:" + name +
                    " peer-node-id:" + std::to_string(c.peer_node_id) + " conn-name:" + c.name +
                    " volume:" + value;
        }
      } else if (key == "node-id" && pending.starts_with("exists resource")) {
        out.back().resource.node_id = std::stoul(value);
      } else if (key == "node-id") {
        // events2 spells the connection identity peer-node-id and puts it
        // before conn-name.
        size_t at = pending.find(" conn-name:");
        pending.insert(at, " peer-node-id:" + value);
      } else if (key == "done" || key == "dbdt1" || key == "eta") {
        derived.emplace_back(key, value);
      } else {
        pending += " " + tok;
      }
    }
  }
  flush();
  return out;
}

TEST(StatusGolden, EveryScenarioSnapshotRebuildsByteForByte) {
  int files = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(testing::TestdataDir() / "scenarios-status")) {
    std::string want = ReadCapture("scenarios-status/" + e.path().filename().string());
    std::vector<ResourceSnapshot> rs = ParseVerboseStatus(want);
    EXPECT_EQ(FormatStatus(rs, VerboseStats()), want) << e.path().filename();
    ++files;
  }
  EXPECT_EQ(files, 89);
}

// ---- behaviours beyond the captures -----------------------------------------

ResourceSnapshot Degraded() {
  ResourceSnapshot r;
  r.resource.name = "r3";
  r.resource.info.role = Role::kPrimary;
  r.resource.info.susp.quorum = true;
  Device d;
  d.resource = "r3";
  d.info.disk_state = DiskState::kUpToDate;
  d.info.has_quorum = false;
  r.devices.push_back(d);
  ConnectionSnapshot c;
  c.connection.name = "nodeb";
  c.connection.peer_node_id = 1;
  c.connection.info.conn_state = ConnState::kConnecting;
  PeerDevice p;
  p.info.repl_state = ReplState::kOff;
  p.info.peer_disk_state = DiskState::kDUnknown;
  c.peer_devices.push_back(p);
  r.connections.push_back(c);
  return r;
}

TEST(Status, ShowsProblemsWithoutVerbose) {
  EXPECT_EQ(FormatStatus({Degraded()}, {}),
            "r3 role:Primary suspended:quorum\n"
            "  disk:UpToDate quorum:no\n"
            "  nodeb connection:Connecting\n"
            "\n");
}

TEST(Status, ColoursUseDrbdUtilsCodes) {
  StatusOptions o;
  o.color = true;
  EXPECT_EQ(FormatStatus({Degraded()}, o),
            "r3 role:\033[1;36mPrimary\033[0m suspended:quorum\n"
            "  disk:\033[1;32mUpToDate\033[0m quorum:\033[1;31mno\033[0m\n"
            "  nodeb connection:\033[1;31mConnecting\033[0m\n"
            "\n");
}

TEST(Status, DisklessClientShownWhenPiped) {
  ResourceSnapshot r = Degraded();
  r.resource.info.susp = {};
  r.devices[0].info.disk_state = DiskState::kDiskless;
  r.devices[0].info.intentional_diskless = Tristate::kYes;
  r.devices[0].info.has_quorum = true;
  r.devices.push_back(r.devices[0]);
  r.devices[1].volume = 1;
  EXPECT_EQ(FormatStatus({r}, {}),
            "r3 role:Primary\n"
            "  volume:0 disk:Diskless client:yes\n"
            "  volume:1 disk:Diskless client:yes\n"
            "  nodeb connection:Connecting\n"
            "\n");
  StatusOptions tty;
  tty.is_a_tty = true;
  EXPECT_EQ(FormatStatus({r}, tty),
            "r3 role:Primary\n"
            "  volume:0 disk:Diskless\n"
            "  volume:1 disk:Diskless\n"
            "  nodeb connection:Connecting\n"
            "\n");
}

TEST(Status, WrapsAtTerminalWidth) {
  auto rs = Stage("20-drbdsetup_events2_--now_--statistics__synced__r0_Primary_.txt");
  StatusOptions o = VerboseStats();
  o.columns = 40;
  std::string out = FormatStatus({rs[0]}, o);
  EXPECT_EQ(out.substr(0, out.find("  b0")),
            "r0 node-id:0 role:Primary suspended:no\n"
            "    force-io-failures:no\n"
            "    write-ordering:flush\n"
            "  volume:0 minor:0 disk:UpToDate\n"
            "      backing_dev:/dev/loop0 quorum:yes\n"
            "      size:32728 read:32728 written:0\n"
            "      al-writes:0 bm-writes:2\n"
            "      upper-pending:0 lower-pending:0\n"
            "      al-suspended:no blocked:no\n");
}

}  // namespace
}  // namespace drbd::events
