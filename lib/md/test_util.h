// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers for the lib/md unit tests: load checked-in hex fixtures (written
// by drbd-utils 9.22's drbdmeta, see testdata/README.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace drbd::md::testing {

inline std::filesystem::path TestdataDir() {
  return std::filesystem::path(__FILE__).parent_path() / "testdata";
}

inline std::string ReadText(const std::string& name) {
  std::ifstream in(TestdataDir() / name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses `xxd -p` output.
inline std::vector<uint8_t> ReadHex(const std::string& name) {
  const std::string text = ReadText(name);
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : text) {
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace drbd::md::testing
