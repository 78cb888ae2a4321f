// SPDX-License-Identifier: GPL-2.0-or-later
#include "lib/base/strings.h"

#include <algorithm>
#include <vector>

namespace drbd {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool ParsePlainIpv6(std::string_view s, std::array<uint16_t, 8>* groups) {
  std::array<uint16_t, 8> g{};
  size_t n = 0;  // groups read
  int gap = -1;  // groups before the "::", -1 without one
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (s.empty() || s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    unsigned v = 0;
    size_t digits = 0;
    for (int h; i < s.size() && (h = HexValue(s[i])) >= 0; ++i) {
      if (++digits > 4) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    if (digits == 0 || n == 8) return false;
    g[n++] = static_cast<uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return false;  // '.', '%', ...: not plain
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;  // a second "::"
      gap = static_cast<int>(n);
      ++i;
    } else if (i == s.size()) {
      return false;  // a single trailing ':'
    }
  }
  if (gap < 0) {
    if (n != 8) return false;
  } else {
    if (n == 8) return false;  // "::" must stand for at least one group
    // Move the groups after the gap to the end.
    const size_t tail = n - static_cast<size_t>(gap);
    for (size_t k = 0; k < tail; ++k) {
      g[7 - k] = g[n - 1 - k];
      g[n - 1 - k] = 0;
    }
  }
  *groups = g;
  return true;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace drbd
