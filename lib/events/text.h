// SPDX-License-Identifier: GPL-2.0-or-later
// Shared text pieces of `events2` and `status`: the output sinks (plain, and
// the terminal-width wrapping of drbd-utils' wrap_printf), the ANSI colour
// palette of drbdsetup's --color, address and flag words, and the
// statistics field groups both commands print. See docs/formats/events2.md
// and docs/formats/status.md.
#pragma once

#include <string>
#include <string_view>

#include "lib/events/model.h"

namespace drbd::events {

// Receives output one token at a time. A token is " key:value" (leading
// space), a bare word at the start of a line, or "\n".
class TextSink {
 public:
  virtual ~TextSink() = default;
  // `indent` is the column a wrapped continuation starts at.
  virtual void Print(int indent, std::string_view token) = 0;
};

// Appends tokens unchanged (events2).
class PlainSink : public TextSink {
 public:
  explicit PlainSink(std::string* out) : out_(out) {}
  void Print(int, std::string_view token) override { out_->append(token); }

 private:
  std::string* out_;
};

// Wraps at `columns` the way drbd-utils' wrap_printf does (status): a token
// that would make the line longer than `columns` starts a new line indented
// by its `indent`, without its leading spaces (and without a leading "\n").
// Colour escape bytes count as columns, as they do upstream. One sink per
// command run: the column is carried across calls.
class WrapSink : public TextSink {
 public:
  WrapSink(std::string* out, int columns) : out_(out), columns_(columns) {}
  void Print(int indent, std::string_view token) override;

 private:
  std::string* out_;
  int columns_;
  int col_ = 0;
};

// drbdsetup's --color palette. Disabled: every code is "".
class Palette {
 public:
  explicit Palette(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  // `local`: the local palette (bold) vs the peer one.
  std::string Role(events::Role r, bool local) const;
  std::string Conn(ConnState c) const;
  std::string Repl(ReplState r) const;
  // `intentional`: a Diskless client counts as UpToDate for the start code.
  std::string Disk(DiskState d, bool intentional, bool local) const;
  std::string Quorum(bool have_quorum) const;
  std::string FailIo(bool fail_io) const;

 private:
  bool enabled_;
};

// --color[=always|auto|never] (default auto: only when stdout is a tty).
enum class ColorMode { kAuto, kAlways, kNever };
// The --color argument; a bare --color (no argument) is "always". nullopt
// for anything else (drbdsetup: "unknown --color argument").
std::optional<ColorMode> ParseColorMode(std::optional<std::string_view> arg);
// Whether to colour output written to `fd`.
bool UseColor(ColorMode mode, int fd);
// The terminal width of `fd` (TIOCGWINSZ), 80 when it is not a terminal or
// reports no width: the width status wraps at.
int TerminalColumns(int fd);

// The reset code drbdsetup prints before dying from a signal.
inline constexpr std::string_view kColorStop = "\033[0m";

// "ipv4:127.0.0.1:7788", "ipv6:[::1]:7788".
std::string ToString(const Address& a);
// Parses the form above; nullopt if malformed.
std::optional<Address> ParseAddress(std::string_view s);

std::string_view YesNo(bool b);
// The device's backing_dev word: the path or "none".
std::string_view BackingDevWord(const DeviceInfo& info);

// printf("%.2f") / printf("%.0f") of the C library, so rounding matches.
std::string FormatFixed(double v, int decimals);

// Which statistics groups to print, from the command's options.
struct StatsLevel {
  bool statistics = false;  // --statistics (status -s; events2 -s or --full)
  int verbose = 0;          // status: count of -v; events2: -s and --full add 1 each
  bool full = false;        // events2 --full
};

// The statistics field groups of drbd-utils' print_*_statistics. `old` is
// the previous value (events2) or null (status, new object).
void PrintResourceStatistics(TextSink& out, int indent, const ResourceStatistics* old,
                             const ResourceStatistics& now, const StatsLevel& level);
void PrintDeviceStatistics(TextSink& out, int indent, const DeviceStatistics* old,
                           const DeviceStatistics& now, const StatsLevel& level);
void PrintConnectionStatistics(TextSink& out, int indent, const ConnectionStatistics* old,
                               const ConnectionStatistics& now, const StatsLevel& level);
// indent 0 = the events2 form (starts with `done:` during a resync, and
// stops there without --statistics); otherwise the status form.
void PrintPeerDeviceStatistics(TextSink& out, int indent, const PeerDeviceStatistics& now,
                               const StatsLevel& level);

// Resync progress (sectors still to go, percent done), as printed by `done:`.
bool HasSyncDetails(const PeerDeviceStatistics& s);
uint64_t SectorsToGo(const PeerDeviceStatistics& s);
double PercentDone(const PeerDeviceStatistics& s);

}  // namespace drbd::events
