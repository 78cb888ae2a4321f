// SPDX-License-Identifier: GPL-2.0-or-later
// The drbdsetup command table (drbdsetup/commands.def expanded) and the help
// texts drawn from it: the command list, `help CMD` usage and `xml-help CMD`,
// formatted as drbd-utils formats them (its wrap-at-the-terminal-width
// printer included), with the options of each command taken from the option
// table (lib/spec/options.def).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/config/options.h"

namespace drbd::setup {

// Object-argument bits, as drbd-utils' cfg_ctx_key (the values fix the order
// in which multiple arguments are taken: lowest bit first).
enum ObjArg : uint32_t {
  kResource = 1,
  kPeerNodeId = 2,
  kMinor = 4,
  kVolume = 8,
  kMyAddr = 16,
  kPeerAddr = 32,
  kAll = 64,
  kMulti = 128,
};

enum class CmdKind {
  kConfig, kDown, kDelMinor, kDelResource, kEvents, kWait, kShow, kStatus, kRole, kPeerRole,
  kCState, kDState, kGi, kCheckResize, kUdev,
};

// Non-table options some commands take (drbd-utils' per-command option lists).
enum class ExtraOpts { kNoOpts, kShowOpts, kStatusOpts, kEventsOpts, kWaitOpts };

enum CmdFlag : uint32_t {
  kSetDefaults = 1,
  kMissingOk = 2,
  kLockless = 4,
  kAfter922 = 8,
};

enum class ArgConv { kBlockDev, kMdIndex, kU32, kString, kAddress };

// A positional argument after the object arguments (attach's lower_dev ...).
struct ExtraArg {
  std::string_view name;  // as help prints it
  std::string_view attr;  // genl attribute name in the payload set
  ArgConv conv;
};

// A non-table option (--show-defaults, --wfc-timeout=...).
struct PlainOpt {
  std::string_view name;
  bool takes_arg = false;       // --name=... (required or optional argument)
  bool optional_arg = false;    // --name[=...]
  int key = 0;                  // identifies the option to the handler
  bool after_922 = false;       // added by drbd-utils after 9.22
};

struct Command {
  std::string_view name;
  uint32_t objects = 0;         // ObjArg bits
  std::string_view genl_cmd;    // "" if the command sends no config request
  std::string_view payload;     // top-level attribute set, "" if none
  CmdKind kind = CmdKind::kConfig;
  std::optional<cfg::OptContext> opt_ctx;
  ExtraOpts extra_opts = ExtraOpts::kNoOpts;
  uint32_t flags = 0;           // CmdFlag bits
  std::string_view summary;
  std::span<const ExtraArg> args;
  std::span<const PlainOpt> plain_opts;

  bool Has(CmdFlag f) const { return (flags & f) != 0; }
};

// All commands in `drbdsetup help` order.
std::span<const Command> AllCommands();

// The command named `name` (exact match, as drbd-utils), or nullptr.
const Command* FindCommand(std::string_view name);

// The option rows of cmd's context, in context order (empty if none).
std::span<const cfg::OptionDef* const> CommandFields(const Command& cmd);

// The object arguments of cmd in the order they are taken.
std::vector<ObjArg> ObjectArgs(const Command& cmd);

// Output options for the help texts.
struct HelpStyle {
  int columns = 80;             // terminal width (drbd-utils: TIOCGWINSZ, else 80)
  bool include_after_922 = true;  // list rows/commands added after drbd-utils 9.22
  std::string_view progname = "drbdsetup";
};

// `drbdsetup` without a command: the title, the command list and the hint.
std::string UsageText(const HelpStyle& style);

// `drbdsetup help CMD`.
std::string CommandHelp(const Command& cmd, const HelpStyle& style);

// `drbdsetup xml-help CMD`.
std::string CommandXmlHelp(const Command& cmd, const HelpStyle& style);

// drbd-utils' wrap_printf(): appends text to a line buffer, breaking the
// line before a piece that would pass `columns`, and indenting a new line.
class WrapPrinter {
 public:
  explicit WrapPrinter(int columns) : columns_(columns) {}
  // Prints `piece` with wrap_printf's rules: when it does not fit, a newline
  // first (a leading '\n' of the piece is then dropped); at the start of a
  // line leading spaces are dropped and `indent` spaces printed.
  void Print(int indent, std::string_view piece);
  // wrap_printf_wordwise(): `text` word by word.
  void PrintWords(int indent, std::string_view text);
  std::string& str() { return out_; }

 private:
  int columns_;
  int col_ = 0;
  std::string out_;
};

}  // namespace drbd::setup
