// SPDX-License-Identifier: GPL-2.0-or-later
// drbdsetup's command line: from argv to a typed request (which command,
// which objects, which option values, already converted to the numbers the
// kernel expects), with drbd-utils' argument order rules, aliases, messages
// and exit codes. Nothing here talks to the kernel: the caller connects
// (between ParseOptions and ParseObjects, where drbd-utils connects) and
// encodes the request with lib/genl.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "drbdsetup/commands.h"
#include "lib/config/options.h"
#include "lib/notify/options.h"

namespace drbd::setup {

// A command-line outcome that ends the program: text for stdout and stderr
// and the exit code (drbd-utils prints usage on stdout, errors on stderr).
struct CliExit {
  int code = 0;
  std::string out;
  std::string err;
};

// Option values (lib/notify/options.h), converted from command-line text.
using notify::FieldValue;
using notify::OptionValues;

// An extra positional argument, converted (attach's devices, new-path's
// addresses, new-resource's node id ...).
struct ArgValue {
  const ExtraArg* arg = nullptr;
  uint64_t number = 0;       // kU32, kMdIndex (-1 internal, -2 flexible, as u32)
  std::string text;          // kBlockDev, kString
  std::string sockaddr;      // kAddress: a struct sockaddr_in/in6, network byte order
};

// Where a command line is in its processing.
struct Invocation {
  const Command* cmd = nullptr;
  std::vector<std::string> args;       // operands after option parsing (GNU order)
  std::vector<std::pair<const PlainOpt*, std::optional<std::string>>> plain;  // non-table opts
  std::vector<FieldValue> fields;      // table options, command-line order
  bool set_defaults = false;
  // Objects (ParseObjects).
  uint32_t context = 0;                // ObjArg bits given
  std::string objname = "??";          // first object argument, for messages
  std::string resource;
  uint32_t minor = UINT32_MAX;
  uint32_t peer_node_id = 0;
  uint32_t volume = 0;
  std::vector<ArgValue> extra;         // ParseExtraArgs
  bool Has(char key) const;            // a plain option with this key was given
  std::optional<std::string> Plain(int key) const;  // its argument, if any
};

struct CliEnv {
  int columns = 80;  // terminal width for usage texts
};

// Steps 1-4 of drbdsetup: help/xml-help, the old "object command" order,
// the command lookup. Returns the command to run, or the exit to take.
// argv excludes the program name.
std::variant<Invocation, CliExit> ParseCommand(const std::vector<std::string>& argv,
                                               const CliEnv& env);

// Option parsing (before connecting: unknown options end here, exit 20 with
// usage). Converts table options; a value the field cannot take is an error
// (drbd-utils: "Option --X: invalid argument 'Y'", exit 20).
std::optional<CliExit> ParseOptions(Invocation& inv, const std::vector<std::string>& argv,
                                    const CliEnv& env);

// Object arguments (after connecting): resource / minor / peer node id /
// volume / all, with drbd-utils' messages.
std::optional<CliExit> ParseObjects(Invocation& inv, const CliEnv& env);

// The command's extra positional arguments, converted; then no operand may
// remain ("Excess arguments: ...").
std::optional<CliExit> ParseExtraArgs(Invocation& inv, const CliEnv& env);

// "Excess arguments: ..." (exit 20) when inv.args holds operands from index
// `from` on; nullopt otherwise.
std::optional<CliExit> RejectExcessArgs(const Invocation& inv, size_t from);

// drbd-utils' m_strtoll() for a command-line number: the value, or the exit
// drbd-utils takes ("X is not a valid number", 20; "missing number
// argument", 100; "X: out of range", 20).
std::variant<uint64_t, CliExit> MStrtoll(std::string_view text, char scale);

// Parses an endpoint "[af:]addr[:port]" / "ipv6:[addr]:port" into a
// sockaddr as drbdsetup does (default port 7788). Only numeric addresses
// (names are not resolved). nullopt + message on error.
std::variant<std::string, CliExit> SockaddrFromString(std::string_view text);

}  // namespace drbd::setup
