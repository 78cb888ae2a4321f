// SPDX-License-Identifier: GPL-2.0-or-later
// Shared text pieces of events2 and status: sinks, colours, addresses and
// the statistics field groups.
#include "lib/events/text.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace drbd::events {

void WrapSink::Print(int indent, std::string_view token) {
  if (col_ + static_cast<int>(token.size()) > columns_) {
    out_->push_back('\n');
    if (!token.empty() && token.front() == '\n') token.remove_prefix(1);
    col_ = 0;
  }
  if (col_ == 0) {
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    col_ += indent;
    out_->append(static_cast<size_t>(indent > 0 ? indent : 0), ' ');
  }
  out_->append(token);
  col_ += static_cast<int>(token.size());
  if (!token.empty() && token.back() == '\n') col_ = 0;
}

namespace {

// The five colour classes of drbdsetup_colors.c.
enum class Tone { kTransitional, kNormal, kPrimary, kGood, kBad };

std::string_view Code(Tone t, bool local) {
  switch (t) {
    case Tone::kTransitional:
      return local ? "\033[1m" : "";
    case Tone::kNormal:
      return "";
    case Tone::kPrimary:
      return local ? "\033[1;36m" : "\033[36m";
    case Tone::kGood:
      return local ? "\033[1;32m" : "\033[32m";
    case Tone::kBad:
      return local ? "\033[1;31m" : "\033[31m";
  }
  return "";
}

// Start code + word + stop code. The stop code is printed only when the
// tone of `stop_tone` has a start code (upstream derives them separately).
std::string Wrap(bool enabled, Tone start, Tone stop, bool local, std::string_view word) {
  if (!enabled) return std::string(word);
  std::string s(Code(start, local));
  s += word;
  if (!Code(stop, local).empty()) s += kColorStop;
  return s;
}

Tone RoleTone(Role r) {
  switch (r) {
    case Role::kPrimary:
      return Tone::kPrimary;
    case Role::kSecondary:
      return Tone::kNormal;
    default:
      return Tone::kTransitional;
  }
}

Tone ConnTone(ConnState c) {
  switch (c) {
    case ConnState::kStandAlone:
    case ConnState::kConnecting:
      return Tone::kBad;
    case ConnState::kConnected:
      return Tone::kNormal;
    default:
      return Tone::kTransitional;
  }
}

Tone ReplTone(ReplState r) {
  switch (r) {
    case ReplState::kEstablished:
    case ReplState::kVerifyS:
    case ReplState::kVerifyT:
    case ReplState::kPausedSyncS:
    case ReplState::kAhead:
      return Tone::kNormal;
    case ReplState::kSyncSource:
    case ReplState::kSyncTarget:
    case ReplState::kPausedSyncT:
      return Tone::kBad;
    default:
      return Tone::kTransitional;
  }
}

bool ReplIsLocal(ReplState r) {
  return r == ReplState::kSyncTarget || r == ReplState::kPausedSyncT || r == ReplState::kBehind;
}

Tone DiskTone(DiskState d) {
  switch (d) {
    case DiskState::kDiskless:
    case DiskState::kInconsistent:
    case DiskState::kOutdated:
      return Tone::kBad;
    case DiskState::kUpToDate:
      return Tone::kGood;
    default:
      return Tone::kTransitional;
  }
}

}  // namespace

std::string Palette::Role(events::Role r, bool local) const {
  return Wrap(enabled_, RoleTone(r), RoleTone(r), local, ToString(r));
}
std::string Palette::Conn(ConnState c) const {
  return Wrap(enabled_, ConnTone(c), ConnTone(c), true, ToString(c));
}
std::string Palette::Repl(ReplState r) const {
  return Wrap(enabled_, ReplTone(r), ReplTone(r), ReplIsLocal(r), ToString(r));
}
std::string Palette::Disk(DiskState d, bool intentional, bool local) const {
  DiskState start = (d == DiskState::kDiskless && intentional) ? DiskState::kUpToDate : d;
  return Wrap(enabled_, DiskTone(start), DiskTone(d), local, ToString(d));
}
std::string Palette::Quorum(bool have_quorum) const {
  Tone t = have_quorum ? Tone::kGood : Tone::kBad;
  return Wrap(enabled_, t, t, true, YesNo(have_quorum));
}
std::string Palette::FailIo(bool fail_io) const {
  Tone t = fail_io ? Tone::kBad : Tone::kGood;
  return Wrap(enabled_, t, t, true, YesNo(fail_io));
}

std::optional<ColorMode> ParseColorMode(std::optional<std::string_view> arg) {
  if (!arg || *arg == "always") return ColorMode::kAlways;
  if (*arg == "never") return ColorMode::kNever;
  if (*arg == "auto") return ColorMode::kAuto;
  return std::nullopt;
}

bool UseColor(ColorMode mode, int fd) {
  if (mode == ColorMode::kAuto) return isatty(fd) == 1;
  return mode == ColorMode::kAlways;
}

int TerminalColumns(int fd) {
  struct winsize ws = {};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 80;
  return ws.ws_col;
}

std::string_view YesNo(bool b) { return b ? "yes" : "no"; }

std::string_view BackingDevWord(const DeviceInfo& info) {
  return info.backing_dev.empty() ? std::string_view("none") : std::string_view(info.backing_dev);
}

std::string ToString(const Address& a) {
  std::string port = std::to_string(a.port);
  switch (a.family) {
    case Address::Family::kIpv4:
      return "ipv4:" + a.host + ":" + port;
    case Address::Family::kIpv6:
      return "ipv6:[" + a.host + "]:" + port;
    case Address::Family::kSsocks:
      return "ssocks:" + a.host + ":" + port;
    case Address::Family::kSdp:
      return "sdp:" + a.host + ":" + port;
    case Address::Family::kUnknown:
      break;
  }
  return "unknown:" + a.host + ":" + port;
}

std::optional<Address> ParseAddress(std::string_view s) {
  Address a;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view fam = s.substr(0, colon);
  std::string_view rest = s.substr(colon + 1);
  if (fam == "ipv4")
    a.family = Address::Family::kIpv4;
  else if (fam == "ipv6")
    a.family = Address::Family::kIpv6;
  else if (fam == "ssocks")
    a.family = Address::Family::kSsocks;
  else if (fam == "sdp")
    a.family = Address::Family::kSdp;
  else
    return std::nullopt;
  std::string_view host, port;
  if (a.family == Address::Family::kIpv6) {
    if (rest.size() < 2 || rest.front() != '[') return std::nullopt;
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return std::nullopt;
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t last = rest.rfind(':');
    if (last == std::string_view::npos) return std::nullopt;
    host = rest.substr(0, last);
    port = rest.substr(last + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return std::nullopt;
  a.host = std::string(host);
  a.port = static_cast<uint16_t>(p);
  return a;
}

std::string FormatFixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

namespace {
std::string Field(std::string_view key, std::string_view value) {
  std::string s;
  s.reserve(key.size() + value.size() + 2);
  s += ' ';
  s += key;
  s += ':';
  s += value;
  return s;
}
std::string Field(std::string_view key, uint64_t value) {
  return Field(key, std::to_string(value));
}
}  // namespace

void PrintResourceStatistics(TextSink& out, int indent, const ResourceStatistics* old,
                             const ResourceStatistics& now, const StatsLevel& level) {
  if ((!old || old->write_ordering != now.write_ordering || level.full) &&
      IsKnown(now.write_ordering))
    out.Print(indent, Field("write-ordering", ToString(now.write_ordering)));
}

void PrintDeviceStatistics(TextSink& out, int indent, const DeviceStatistics* old,
                           const DeviceStatistics& s, const StatsLevel& level) {
  if (level.statistics) {
    if (level.verbose) out.Print(indent, Field("size", s.size / 2));
    out.Print(indent, Field("read", s.read / 2));
    out.Print(indent, Field("written", s.written / 2));
    if (level.verbose) {
      out.Print(indent, Field("al-writes", s.al_writes));
      out.Print(indent, Field("bm-writes", s.bm_writes));
      out.Print(indent, Field("upper-pending", s.upper_pending));
      out.Print(indent, Field("lower-pending", s.lower_pending));
      if (!old || old->al_suspended != s.al_suspended || level.full)
        out.Print(indent, Field("al-suspended", YesNo(s.al_suspended)));
    }
  }
  bool blocked_changed =
      !old || old->upper_blocked != s.upper_blocked || old->lower_blocked != s.lower_blocked;
  if (blocked_changed && (level.verbose || s.upper_blocked || s.lower_blocked)) {
    std::string v;
    if (s.upper_blocked) v = "upper";
    if (s.lower_blocked) v += v.empty() ? "lower" : ",lower";
    if (v.empty()) v = "no";
    out.Print(indent, Field("blocked", v));
  }
}

void PrintConnectionStatistics(TextSink& out, int indent, const ConnectionStatistics* old,
                               const ConnectionStatistics& s, const StatsLevel& level) {
  if (!old || old->congested != s.congested || level.full)
    out.Print(indent, Field("congested", YesNo(s.congested)));
  if (s.ap_in_flight) {
    out.Print(indent, Field("ap-in-flight", *s.ap_in_flight));
    out.Print(indent, Field("rs-in-flight", s.rs_in_flight.value_or(0)));
  }
}

bool HasSyncDetails(const PeerDeviceStatistics& s) {
  return s.rs_total.has_value() && *s.rs_total != 0;
}

uint64_t SectorsToGo(const PeerDeviceStatistics& s) {
  if (!HasSyncDetails(s)) return 0;
  return s.ov_left ? s.ov_left : s.out_of_sync - s.resync_failed;
}

double PercentDone(const PeerDeviceStatistics& s) {
  uint64_t total = s.rs_total.value_or(0);
  return 100.0 * static_cast<double>(total - SectorsToGo(s)) / static_cast<double>(total);
}

void PrintPeerDeviceStatistics(TextSink& out, int indent, const PeerDeviceStatistics& s,
                               const StatsLevel& level) {
  bool details = HasSyncDetails(s);
  uint64_t to_go = SectorsToGo(s);
  if (indent == 0) {
    if (details) out.Print(indent, Field("done", FormatFixed(PercentDone(s), 2)));
    if (!level.statistics) return;
  }
  out.Print(indent, Field("received", s.received / 2));
  out.Print(indent, Field("sent", s.sent / 2));
  if (level.verbose || s.out_of_sync) out.Print(indent, Field("out-of-sync", s.out_of_sync / 2));
  if (!level.verbose) return;
  out.Print(indent, Field("pending", s.pending));
  out.Print(indent, Field("unacked", s.unacked));
  if (!details) return;
  uint64_t total = *s.rs_total;
  if (level.verbose > 1) {
    out.Print(indent, Field("rs-total", total));
    // Upstream prints these with a signed conversion.
    auto d64 = [](uint64_t v) { return std::to_string(static_cast<int64_t>(v)); };
    out.Print(indent, Field("rs-dt-start-ms", d64(s.rs_dt_start_ms)));
    out.Print(indent, Field("rs-paused-ms", d64(s.rs_paused_ms)));
    out.Print(indent, Field("rs-dt0-ms", d64(s.rs_dt0_ms)));
    out.Print(indent, Field("rs-db0-sectors", d64(s.rs_db0_sectors)));
    out.Print(indent, Field("rs-dt1-ms", d64(s.rs_dt1_ms)));
    out.Print(indent, Field("rs-db1-sectors", d64(s.rs_db1_sectors)));
    if (s.ov_left) {
      out.Print(indent, Field("ov-start-sector", s.ov_start_sector));
      out.Print(indent, Field("ov-stop-sector", s.ov_stop_sector));
      out.Print(indent, Field("ov-position", d64(s.ov_position)));
      out.Print(indent, Field("ov-left", s.ov_left));
      out.Print(indent, Field("ov-skipped", s.ov_skipped));
    } else {
      out.Print(indent, Field("rs-failed", s.resync_failed));
      out.Print(indent, Field("rs-same-csum", s.rs_same_csum));
    }
    if (s.rs_c_sync_rate)
      out.Print(indent, Field("want", FormatFixed(s.rs_c_sync_rate / 1024.0, 2)));
    double db = static_cast<double>(total - to_go);
    double dt = static_cast<double>(s.rs_dt_start_ms - s.rs_paused_ms);
    out.Print(indent, Field("dbdt", FormatFixed(db / (dt != 0 ? dt : 1) * 1000.0 / 2048.0, 2)));
    db = static_cast<double>(static_cast<int64_t>(s.rs_db0_sectors));
    dt = static_cast<double>(s.rs_dt0_ms ? s.rs_dt0_ms : 1);
    out.Print(indent, Field("dbdt0", FormatFixed(db / dt * 1000.0 / 2048.0, 2)));
  }
  double db = static_cast<double>(static_cast<int64_t>(s.rs_db1_sectors));
  double dt = static_cast<double>(s.rs_dt1_ms ? s.rs_dt1_ms : 1);
  out.Print(indent, Field("dbdt1", FormatFixed(db / dt * 1000.0 / 2048.0, 2)));
  out.Print(
      indent,
      Field("eta", FormatFixed(db > 0 ? dt * 1e-3 * static_cast<double>(to_go) / db : NAN, 0)));
}

}  // namespace drbd::events
