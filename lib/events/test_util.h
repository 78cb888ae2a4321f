// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers for the lib/events tests: reading the checked-in drbd-utils
// captures (testdata/README.md) and turning events2 text into model objects.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/events/model.h"
#include "lib/events/parser.h"

namespace drbd::events::testing {

inline std::filesystem::path TestdataDir() {
  return std::filesystem::path(__FILE__).parent_path() / "testdata";
}

// A capture file's output, without its trailing "# cmd: …" line.
inline std::string ReadCapture(const std::string& relative) {
  std::ifstream in(TestdataDir() / relative);
  EXPECT_TRUE(in.good()) << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  size_t cmd = s.rfind("# cmd: ");
  if (cmd != std::string::npos && (cmd == 0 || s[cmd - 1] == '\n')) s.erase(cmd);
  return s;
}

// The captures were printed by drbd-utils 9.22, which had no `open:` key in
// device lines; drbd-cp prints it as drbd-utils >= 9.28 does (docs/compat.md).
// Removes every " open:VALUE" (and " open:OLD->NEW") token, so that our
// output can be compared with a 9.22 capture.
inline std::string WithoutOpenKey(std::string text) {
  for (size_t at; (at = text.find(" open:")) != std::string::npos;) {
    size_t end = text.find_first_of(" \n", at + 1);
    text.erase(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return text;
}

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

// Parses every line; fails the test on a parse error.
inline std::vector<Events2Line> ParseAll(const std::string& text) {
  Events2Parser p;
  std::vector<Events2Line> out;
  for (const std::string& l : SplitLines(text)) {
    Events2Line line;
    std::string err;
    EXPECT_TRUE(p.Parse(l, &line, &err)) << err << "\n" << l;
    out.push_back(std::move(line));
  }
  return out;
}

// The resources of an `events2 --now` dump, objects in line order.
inline std::vector<ResourceSnapshot> SnapshotsFromNow(const std::string& text) {
  std::vector<ResourceSnapshot> out;
  for (const Events2Line& l : ParseAll(text)) {
    const auto& o = l.notification.object;
    if (const auto* r = std::get_if<Resource>(&o)) {
      out.emplace_back().resource = *r;
      continue;
    }
    if (out.empty()) continue;
    ResourceSnapshot& rs = out.back();
    if (const auto* d = std::get_if<Device>(&o)) rs.devices.push_back(*d);
    if (const auto* c = std::get_if<Connection>(&o)) rs.connections.emplace_back().connection = *c;
    if (const auto* p = std::get_if<PeerDevice>(&o))
      for (auto& c : rs.connections)
        if (c.connection.name == p->conn_name) c.peer_devices.push_back(*p);
    if (const auto* p = std::get_if<Path>(&o))
      for (auto& c : rs.connections)
        if (c.connection.name == p->conn_name) c.paths.push_back(*p);
  }
  return out;
}

}  // namespace drbd::events::testing
