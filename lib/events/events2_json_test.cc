// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for events2 --json (docs/formats/events2-json.md): typed values,
// key order, diff old values, markers; every captured line converts to
// valid single-line JSON carrying the same keys as the text.
#include "lib/events/events2_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lib/events/test_util.h"

namespace drbd::events {
namespace {

std::string Json(const std::string& text) {
  Events2Parser p;
  Events2Line l;
  std::string err;
  EXPECT_TRUE(p.Parse(text, &l, &err)) << err;
  return ToJsonLine(l);
}

TEST(Events2Json, TypesValuesAndKeepsKeyOrder) {
  EXPECT_EQ(Json("exists device name:r0 volume:0 minor:0 backing_dev:/dev/loop0 "
                 "disk:UpToDate client:no quorum:yes size:32728 blocked:upper,lower"),
            R"({"v":1,"action":"exists","object":"device","name":"r0","volume":0,)"
            R"("minor":0,"backing_dev":"/dev/loop0","disk":"UpToDate","client":false,)"
            R"("quorum":true,"size":32728,"blocked":["upper","lower"]})");
  EXPECT_EQ(Json("change peer-device name:r0 peer-node-id:1 conn-name:b0 volume:0 "
                 "replication:SyncSource done:68.83 dbdt1:37.93 eta:nan "
                 "resync-suspended:no peer-client:unknown"),
            R"({"v":1,"action":"change","object":"peer-device","name":"r0",)"
            R"("peer-node-id":1,"conn-name":"b0","volume":0,"replication":"SyncSource",)"
            R"("done":68.83,"dbdt1":37.93,"eta":null,"resync-suspended":[],)"
            R"("peer-client":null})");
}

TEST(Events2Json, PathsDiffAndMarkers) {
  EXPECT_EQ(Json("2026-11-22T00:37:10.434484+00:00 create path name:r0 peer-node-id:1 "
                 "conn-name:b0 local:ipv6:[::1]:7788 peer:ipv4:127.0.0.1:7789 "
                 "established:no"),
            R"({"v":1,"timestamp":"2026-11-22T00:37:10.434484+00:00","action":"create",)"
            R"("object":"path","name":"r0","peer-node-id":1,"conn-name":"b0",)"
            R"("local":{"family":"ipv6","address":"::1","port":7788},)"
            R"("peer":{"family":"ipv4","address":"127.0.0.1","port":7789},)"
            R"("established":false})");
  EXPECT_EQ(Json("change resource name:r0 role:Secondary->Primary "
                 "suspended:no->user,quorum may_promote:UNKNOWN->no"),
            R"({"v":1,"action":"change","object":"resource","name":"r0",)"
            R"("role":"Primary","suspended":["user","quorum"],"may_promote":false,)"
            R"("old":{"role":"Secondary","suspended":[],"may_promote":"UNKNOWN"}})");
  EXPECT_EQ(Json("exists -"), R"({"v":1,"action":"exists","object":"-"})");
  EXPECT_EQ(Json("- skipped 4"), R"({"v":1,"action":"skipped","count":4})");
  EXPECT_EQ(Json("response helper name:r0 peer-node-id:1 conn-name:b helper:fence-peer "
                 "status:1024"),
            R"({"v":1,"action":"response","object":"helper","name":"r0",)"
            R"("peer-node-id":1,"conn-name":"b","helper":"fence-peer","status":1024})");
}

TEST(Events2Json, InvalidUtf8BecomesReplacementCharacter) {
  // Found by events2_parse_fuzz: nlohmann::json throws on invalid UTF-8.
  EXPECT_EQ(Json("exists resource name:r\xff"
                 "0 role:Primary"),
            "{\"v\":1,\"action\":\"exists\",\"object\":\"resource\","
            "\"name\":\"r\xef\xbf\xbd"
            "0\",\"role\":\"Primary\"}");
}

TEST(Events2Json, EveryScenarioLineIsOneJsonObjectWithTheSameKeys) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(testing::TestdataDir() / "scenarios")) {
    Events2Parser p;
    for (const std::string& text :
         testing::SplitLines(testing::ReadCapture("scenarios/" + e.path().filename().string()))) {
      Events2Line l;
      std::string err;
      ASSERT_TRUE(p.Parse(text, &l, &err)) << err;
      std::string js = ToJsonLine(l);
      EXPECT_EQ(js.find('\n'), std::string::npos);
      auto j = nlohmann::ordered_json::parse(js);
      // Same keys, same order: timestamp, action, object, then the line's.
      std::vector<std::string> keys;
      for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
      std::vector<std::string> want = {"v", "timestamp"};
      if (l.type == Events2Line::Type::kEndOfInitialState) {
        want.insert(want.end(), {"action", "object"});
      } else if (l.type == Events2Line::Type::kSkipped) {
        want.insert(want.end(), {"action", "count"});
      } else {
        want.insert(want.end(), {"action", "object"});
        std::string_view rest = text;
        rest.remove_prefix(rest.find(' ') + 1);  // timestamp
        rest.remove_prefix(rest.find(' ') + 1);  // action
        rest.remove_prefix(rest.find(' ') + 1);  // object
        while (!rest.empty()) {
          size_t sp = rest.find(' ');
          std::string_view tok = rest.substr(0, sp);
          want.emplace_back(tok.substr(0, tok.find(':')));
          rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
        }
      }
      EXPECT_EQ(keys, want) << text;
      ++n;
    }
  }
  EXPECT_GT(n, 1000u);
}

}  // namespace
}  // namespace drbd::events
