// SPDX-License-Identifier: GPL-2.0-or-later
// Resource-argument resolution (drbd-utils ctx_by_name / ctx_by_minor).
#include "drbdadm/context.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <ostream>
#include <string>

#include "drbdadm/runner.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace drbd::adm {

namespace {

// drbd-utils m_strtoll() with a plain default unit: a number with an
// optional K/M/G/s suffix; anything else ends the program like drbd-utils.
unsigned long long MStrtoll(AdmState& st, const std::string& s) {
  if (s.empty()) {
    *st.err << "missing number argument\n";
    throw AdmExit{100};
  }
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  size_t start = i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == digits) {
    *st.err << s << " is not a valid number\n";
    throw AdmExit{ToInt(ExitCode::kExecError)};
  }
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str() + start, nullptr, 10);
  if (i == s.size()) return v;
  if (i + 1 < s.size()) {  // a second character after the unit
    *st.err << s << " is not a valid number\n";
    throw AdmExit{ToInt(ExitCode::kExecError)};
  }
  int shift;
  switch (s[i]) {
    case 'K':
    case 'k':
      shift = 10;
      break;
    case 'M':
    case 'm':
      shift = 20;
      break;
    case 'G':
    case 'g':
      shift = 30;
      break;
    case 's':
      shift = 9;
      break;
    default:
      *st.err << s << " is not a valid number\n";
      throw AdmExit{ToInt(ExitCode::kExecError)};
  }
  if (v > (~0ULL >> shift)) {
    *st.err << s << ": out of range\n";
    throw AdmExit{ToInt(ExitCode::kExecError)};
  }
  return v << shift;
}

// drbd-utils set_ignore_flag(): true if the check passes.
bool SetIgnoreFlag(cfg::Connection& conn, CtxCheck check, bool ignore) {
  if (!ignore) {
    if (check == CtxCheck::kWouldEnableDisabled && conn.ignore_tmp) return false;
    if (check == CtxCheck::kWouldEnableMultiTimes && !conn.ignore_tmp) return false;
    if (check == CtxCheck::kWouldEnableMultiTimes) conn.ignore_tmp = ignore;
  }
  if (check == CtxCheck::kSetupMulti) conn.ignore = ignore;
  return true;
}

const cfg::Option* FindOpt(const cfg::Options& opts, std::string_view name) {
  return cfg::FindOption(opts, name);
}

}  // namespace

int CtxByMinor(AdmState& st, CmdCtx* ctx, std::string_view id) {
  if (id.substr(0, 6) != "minor-") return -1;
  unsigned mm = static_cast<unsigned>(MStrtoll(st, std::string(id.substr(6))));
  if (mm == ~0U) return -1;
  for (cfg::Resource& res : st.config.resources) {
    if (res.ignore || !res.me) continue;
    for (cfg::Volume& vol : res.me->volumes) {
      if (static_cast<unsigned>(vol.device_minor) == mm) {
        ctx->res = &res;
        ctx->vol = &vol;
        return 0;
      }
    }
  }
  return -1;
}

int CtxByName(AdmState& st, CmdCtx* ctx, std::string_view id, CtxCheck check) {
  std::string input(id);
  std::string res_name = input;
  bool have_vol = false;
  unsigned vol_nr = ~0U;
  size_t slash = input.rfind('/');
  if (slash != std::string::npos) {
    have_vol = true;
    std::string vol_id = input.substr(slash + 1);
    input.resize(slash);
    vol_nr = static_cast<unsigned>(MStrtoll(st, vol_id));
  }
  std::string conn_or_hostname;
  bool have_conn = false;
  size_t colon = input.find(':');
  if (colon != std::string::npos) {
    have_conn = true;
    conn_or_hostname = input.substr(colon + 1);
    input.resize(colon);
  }
  res_name = input;

  cfg::Resource* res = cfg::ResByName(st.config, res_name);
  if (!res || res->ignore) return -1;
  ctx->res = res;
  cfg::SetPeerInResource(st.config, *res, true, false, *st.diag);

  if (!have_vol && !have_conn && check == CtxCheck::kWouldEnableMultiTimes) {
    for (cfg::Connection& conn : res->connections) {
      if (!conn.ignore) {
        if (!conn.ignore_tmp) return 1;
        conn.ignore_tmp = false;
      }
    }
  }

  int connections_found = 0;
  cfg::Connection* found = nullptr;
  if (have_conn) {
    cfg::HostInfo* hi = cfg::FindHostInfoByName(*res, conn_or_hostname);
    bool valid_conns = false;
    ctx->conn = nullptr;
    for (cfg::Connection& conn : res->connections) {
      if (hi) {
        if (res->me == hi) {
          *st.err << "Host name '" << conn_or_hostname << "' (from '" << id
                  << "') is not a peer, but the local node\n";
          return -1;
        }
        if (conn.peer == hi) {
          ++connections_found;
          conn.on_cmdline = true;
          if (check == CtxCheck::kCtxFirst) {
            found = &conn;
            break;
          }
        }
        if (conn.peer && conn.peer->node_id == hi->node_id) {
          conn.me = true;
          if (!SetIgnoreFlag(conn, check, false)) return 1;
        } else {
          SetIgnoreFlag(conn, check, true);
        }
      } else {
        const cfg::Option* opt = FindOpt(conn.net_options, "_name");
        if (opt && opt->value == conn_or_hostname) {
          ++connections_found;
          if (check == CtxCheck::kCtxFirst) {
            found = &conn;
            break;
          }
          conn.me = true;
          if (!SetIgnoreFlag(conn, check, false)) return 1;
        } else {
          SetIgnoreFlag(conn, check, true);
        }
      }
      if (!conn.ignore) valid_conns = true;
    }
    if (!found && check == CtxCheck::kSetupMulti && !valid_conns) {
      *st.err << "Not a valid connection (" << id << ") for this host\n";
      return -1;
    }
  }

  if (!found) {
    if (check != CtxCheck::kSetupMulti) return 0;
    if (connections_found == 1) {
      for (cfg::Connection& conn : res->connections) {
        if (conn.on_cmdline) {
          found = &conn;
          break;
        }
      }
    }
  }
  if (found) {
    if (found->ignore) {
      *st.err << "Connection '" << conn_or_hostname << "' has the ignore flag set\n";
      return -1;
    }
    ctx->conn = found;
  }

  if (!have_vol) {
    ctx->vol = nullptr;
    return 0;
  }
  cfg::Volume* vol =
      res->me ? cfg::FindVolume(res->me->volumes, static_cast<int>(vol_nr)) : nullptr;
  if (vol_nr != ~0U) {
    if (vol) {
      ctx->vol = vol;
      return 0;
    }
    *st.err << "Resource '" << res_name << "' has no volume " << static_cast<int>(vol_nr) << "\n";
    return -1;
  }
  return -1;
}

}  // namespace drbd::adm
