// SPDX-License-Identifier: GPL-2.0-or-later
// A GNU getopt_long work-alike for the drbdadm and drbdsetup command lines: same permutation,
// abbreviation and ambiguity rules and the same error messages as glibc, so
// that drbdadm's option handling matches drbd-utils byte for byte without
// touching process-global getopt state.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace drbd {

enum class ArgKind { kNone, kRequired, kOptional };

struct LongOpt {
  std::string name;
  ArgKind arg = ArgKind::kNone;
  int val = 0;  // short-option character, or >= 256 for long-only
};

struct ShortOpt {
  char c;
  ArgKind arg;
};

// One recognised option, in command-line order.
struct GetoptEvent {
  int val = 0;
  int long_index = -1;  // index into longopts, -1 for a short option
  bool has_arg = false;
  std::string arg;
};

// Parses args (argv without argv[0]). For each option calls on_option; if it
// returns false, parsing stops (the caller exits). On an error prints glibc's
// message to err (prefixed with progname) and returns false.
// non_options receives the operands in GNU permuted order.
bool GnuGetoptLong(const std::vector<std::string>& args, std::string_view progname,
                   const std::vector<ShortOpt>& shortopts, const std::vector<LongOpt>& longopts,
                   const std::function<bool(const GetoptEvent&)>& on_option,
                   std::vector<std::string>* non_options, std::ostream& err);

}  // namespace drbd
