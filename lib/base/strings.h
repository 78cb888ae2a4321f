// SPDX-License-Identifier: GPL-2.0-or-later
// Small string helpers shared by the command-line and config front ends.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace drbd {

// Levenshtein distance (insert, delete, substitute: cost 1 each), for
// "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

// ASCII letters folded to lower case ('A'..'Z' only; other bytes as they are,
// whatever the locale).
constexpr char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Equal ignoring the case of ASCII letters: strcasecmp() == 0 in the C
// locale, without a locale lookup per byte.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Parses an IPv6 address written as hex groups with at most one "::" and
// nothing else (no embedded IPv4, no "%scope"), accepting exactly what
// inet_pton(AF_INET6) accepts of such text, into its eight groups. Returns
// false for anything else, including forms inet_pton would take: callers
// fall back to inet_pton then.
bool ParsePlainIpv6(std::string_view s, std::array<uint16_t, 8>* groups);

// S with &, <, > and " replaced by their XML entities: fit for element text
// and double-quoted attribute values.
std::string XmlEscape(std::string_view s);

}  // namespace drbd
