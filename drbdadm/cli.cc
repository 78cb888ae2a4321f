// SPDX-License-Identifier: GPL-2.0-or-later
// drbdadm's main flow (drbd-utils 9.22 drbdadm_main.c main()): command-line
// parsing, config file selection, parse → post-parse → expand → validate,
// per-resource dispatch, and the deferred-command stages.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include "drbdadm/commands.h"
#include "drbdadm/context.h"
#include "drbdadm/drbdadm.h"
#include "lib/base/getopt.h"
#include "drbdadm/registry.h"
#include "drbdadm/live84.h"
#include "drbdadm/plan84.h"
#include "drbdadm/runner.h"
#include "lib/config/dump.h"
#include "lib/config/host.h"
#include "lib/config/parser.h"
#include "lib/config/postparse.h"

namespace drbd::adm {

namespace {

constexpr int kBackendOpt = 257;

const char* const kConfFiles[] = {
    "/etc/drbd-90.conf", "/etc/drbd-84.conf", "/etc/drbd-83.conf",
    "/etc/drbd-82.conf", "/etc/drbd-08.conf", "/etc/drbd.conf",
};

std::string ErrnoText() { return std::strerror(errno); }

// drbd-utils canonify_path(): the directory part resolved through the file
// system, the last component kept as written.
std::string CanonifyPath(AdmState& st, const std::string& path) {
  if (path.empty()) {
    *st.err << "cannot canonify an empty path\n";
    throw AdmExit{ToInt(ExitCode::kUsage)};
  }
  size_t slash = path.rfind('/');
  if (slash == 0) return path;
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  char buf[PATH_MAX];
  if (realpath(dir.c_str(), buf) == nullptr) {
    *st.err << "chdir(\"" << dir << "\") failed: " << ErrnoText() << "\n";
    throw AdmExit{ToInt(ExitCode::kUsage)};
  }
  std::string wd = buf;
  if (wd == "/") return "/" + base;
  return wd + "/" + base;
}

bool CanOpen(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  std::fclose(f);
  return true;
}

void EnsureSanityOfResName(AdmState& st, const std::string& name) {
  if (name.empty()) {
    *st.err << "Resource name is empty.\n";
    throw AdmExit{ToInt(ExitCode::kUsage)};
  }
  for (unsigned char c : name) {
    if (c < ' ' || c == 0x7f) {
      *st.err << "Resource name is invalid - please don't use control characters.\n";
      throw AdmExit{ToInt(ExitCode::kUsage)};
    }
  }
}

void FindDrbdCmd(AdmState& st, std::string* cmd, const std::string& path) {
  if (access(path.c_str(), X_OK) == 0) {
    *cmd = path;
    return;
  }
  *st.err << "Can not find command (drbdsetup/drbdmeta)\n";
  throw AdmExit{ToInt(ExitCode::kExecError)};
}

// drbd-utils assign_command_names_from_argv0().
void AssignCommandNames(AdmState& st, const std::string& argv0) {
  size_t slash = argv0.rfind('/');
  if (slash == std::string::npos) {
    st.progname = argv0;
    return;
  }
  st.progname = argv0.substr(slash + 1);
  std::string dir = argv0.substr(0, slash + 1);
  auto pick = [&](std::string* var, const char* name) {
    std::string p = dir + name;
    *var = access(p.c_str(), X_OK) == 0 ? p : std::string(name);
  };
  pick(&st.drbdsetup, "drbdsetup");
  pick(&st.drbdmeta, "drbdmeta");
  pick(&st.drbd_proxy_ctl, "drbd-proxy-ctl");
}

unsigned VersionCode(const std::string& v) {
  unsigned a = 0, b = 0, c = 0;
  if (std::sscanf(v.c_str(), "%u.%u.%u", &a, &b, &c) < 1) return 0;
  return (a << 16) | (b << 8) | c;
}

// The module version drbd-simd stands in for.
constexpr const char* kSimDriverVersion = "9.2.18";

// The DRBD kernel module's version as "X.Y.Z", or empty when unknown
// (drbd-utils drbd_driver_version(STRICT)): DRBD_DRIVER_VERSION_OVERRIDE,
// else drbd-simd's (DRBD_SIM_SOCKET), else /proc/drbd, else `modinfo -F
// version drbd` (whose shell complaints, e.g. "sh: 1: modinfo: not found",
// reach stderr as with drbd-utils).
std::string DriverVersion() {
  std::string text;
  if (const char* v = std::getenv("DRBD_DRIVER_VERSION_OVERRIDE"); v && VersionCode(v) != 0) {
    text = v;
  } else if (const char* sim = std::getenv("DRBD_SIM_SOCKET"); sim && *sim) {
    // drbd-simd implements the DRBD 9 genl API (docs/design/drbd-simd.md).
    text = kSimDriverVersion;
  } else if (std::ifstream f("/proc/drbd"); f) {
    std::string word;
    if (f >> word && word == "version:") f >> text;
  } else if (FILE* in = popen("modinfo -F version drbd", "r")) {
    char buf[32];
    if (std::fscanf(in, "%30s", buf) == 1) text = buf;
    pclose(in);
  }
  unsigned code = VersionCode(text);
  if (code == 0) return {};
  return std::to_string(code >> 16) + "." + std::to_string((code >> 8) & 0xff) + "." +
         std::to_string(code & 0xff);
}

[[noreturn]] void PrintVersionAndExit(AdmState& st, std::string kv) {
  std::ostream& out = *st.out;
  // drbd-utils caches only a known version; an unknown one is probed again
  // for each of the two kernel lines.
  if (kv.empty()) {
    kv = DriverVersion();
    if (kv.empty()) kv = DriverVersion();
  }
  char code[32];
  out << "DRBDADM_BUILDTAG="
      << ShellEscape(
             "GIT-hash: 409097fe02187f83790b88ac3e0d94f3c167adab reproducible build, "
             "2023-01-09 14:51:18")
      << "\n";
  out << "DRBDADM_API_VERSION=2\n";
  std::snprintf(code, sizeof code, "0x%06x", VersionCode(kv));
  out << "DRBD_KERNEL_VERSION_CODE=" << code << "\n";
  out << "DRBD_KERNEL_VERSION=" << (kv.empty() ? "0" : ShellEscape(kv)) << "\n";
  out << "DRBDADM_VERSION_CODE=0x091600\n";
  out << "DRBDADM_VERSION=9.22.0\n";
  throw AdmExit{0};
}

// drbd-utils maybe_exec_legacy_drbdadm(): with an 8.3/8.4 kernel module the
// matching legacy drbdadm (drbdadm-83/-84, looked up next to argv[0] and in
// /lib/drbd) takes over the whole invocation. Main() calls it for modules
// other than 8.4 only: 8.4 is driven by drbdadm/live84.h.
void MaybeExecLegacyDrbdadm(AdmState& st, const std::vector<std::string>& argv,
                            const std::string& driver_version) {
  unsigned code = VersionCode(driver_version);
  if ((code >> 16) != 8 || (((code >> 8) & 0xff) != 3 && ((code >> 8) & 0xff) != 4)) return;
  std::string name = ((code >> 8) & 0xff) == 3 ? "drbdadm-83" : "drbdadm-84";
  size_t slash = argv[0].rfind('/');
  if (slash != std::string::npos) {
    std::string p = argv[0].substr(0, slash + 1) + name;
    if (access(p.c_str(), X_OK) == 0) name = p;
  }
  setenv("DRBD_DONT_WARN_ON_VERSION_MISMATCH", "1", 0);
  const char* env_path = std::getenv("PATH");
  std::string path = env_path != nullptr ? env_path : "";
  if (path.find("/lib/drbd") == std::string::npos) {
    path += path.empty() ? "/lib/drbd" : ":/lib/drbd";
    setenv("PATH", path.c_str(), 1);
  }
  st.out->flush();
  st.err->flush();
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  execvp(name.c_str(), cargv.data());
  *st.err << "execvp() failed to exec " << name << ": " << ErrnoText() << "\n";
  throw AdmExit{ToInt(ExitCode::kExecError)};
}

struct Invocation {
  const AdmCmd* cmd = nullptr;
  std::vector<std::string> resource_names;
  std::string config_file;  // empty: not given
  std::string config_test;
  bool help = false;
  std::string driver_version;  // DriverVersion(), probed once
};

// drbd-utils parse_options(). Returns 0 or the exit code.
int ParseOptions(AdmState& st, const std::vector<std::string>& argv, Invocation* inv) {
  std::vector<LongOpt> longopts = {
      {"stacked", ArgKind::kNone, 'S'},
      {"dry-run", ArgKind::kNone, 'd'},
      {"verbose", ArgKind::kNone, 'v'},
      {"config-file", ArgKind::kRequired, 'c'},
      {"config-to-test", ArgKind::kRequired, 't'},
      {"config-to-exclude", ArgKind::kRequired, 'E'},
      {"drbdsetup", ArgKind::kRequired, 's'},
      {"drbdmeta", ArgKind::kRequired, 'm'},
      {"drbd-proxy-ctl", ArgKind::kRequired, 'p'},
      {"sh-varname", ArgKind::kRequired, 'n'},
      {"version", ArgKind::kNone, 'V'},
      {"setup-option", ArgKind::kRequired, 'W'},
      {"help", ArgKind::kNone, 'h'},
  };
  std::vector<ShortOpt> shortopts;
  shortopts.reserve(longopts.size());
  for (const LongOpt& o : longopts) shortopts.push_back({static_cast<char>(o.val), o.arg});
  // Every backend option of every command (duplicates included, as drbd-utils).
  for (const AdmCmd* c : AllCommands()) {
    for (const CliField& f : CliFields(c->cli)) {
      longopts.push_back(
          {f.name, f.optional_arg ? ArgKind::kOptional : ArgKind::kRequired, kBackendOpt});
    }
  }

  std::vector<std::string> backend_check;
  auto on_option = [&](const GetoptEvent& ev) -> bool {
    switch (ev.val) {
      case kBackendOpt: {
        const std::string& name = longopts[static_cast<size_t>(ev.long_index)].name;
        backend_check.push_back(ev.has_arg ? "--" + name + "=" + ev.arg : "--" + name);
        break;
      }
      case 'S':
        st.is_drbd_top = true;
        break;
      case 'v':
        ++st.verbose;
        break;
      case 'd':
        st.dry_run = true;
        break;
      case 'c':
        if (ev.arg == "-") {
          inv->config_file = "STDIN";
          st.config_from_stdin = true;
        } else {
          if (!CanOpen(ev.arg)) {
            *st.err << "Can not open '" << ev.arg << "'.\n.";
            throw AdmExit{ToInt(ExitCode::kExecError)};
          }
          inv->config_file = ev.arg;
          st.config_from_stdin = false;
        }
        break;
      case 't':
        inv->config_test = ev.arg;
        break;
      case 'E': {
        char buf[PATH_MAX];
        if (realpath(ev.arg.c_str(), buf)) st.config.seen_files.insert(buf);
        break;
      }
      case 's':
        FindDrbdCmd(st, &st.drbdsetup, ev.arg);
        break;
      case 'm':
        FindDrbdCmd(st, &st.drbdmeta, ev.arg);
        break;
      case 'p':
        FindDrbdCmd(st, &st.drbd_proxy_ctl, ev.arg);
        break;
      case 'n': {
        bool ok = true;
        for (char ch : ev.arg) {
          if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) ok = false;
        }
        if (ok) {
          st.sh_varname = ev.arg;
        } else {
          *st.err << "ignored --sh-varname=" << ev.arg
                  << ": contains suspect characters, allowed set is [a-zA-Z0-9_]\n";
        }
        break;
      }
      case 'V':
        PrintVersionAndExit(st, inv->driver_version);
      case 'W':
        st.backend_options.push_back(ev.arg);
        break;
      case 'h':
        inv->help = true;
        break;
    }
    return true;
  };

  std::vector<std::string> args(argv.begin() + 1, argv.end());
  std::vector<std::string> operands;
  if (!GnuGetoptLong(args, st.progname, shortopts, longopts, on_option, &operands, *st.err)) {
    *st.err << "try '" << st.progname << " help'\n";
    return ToInt(ExitCode::kUsage);
  }

  for (const std::string& a : operands) {
    if (inv->cmd) {
      EnsureSanityOfResName(st, a);
      inv->resource_names.push_back(a);
    } else if (a == "help") {
      inv->help = true;
    } else {
      if (a == "hidden-commands") {
        CmdCtx none;
        HiddenCommandsCmd().fn(st, none);
      }
      inv->cmd = FindCommand(a, st);
      if (!inv->cmd && (VersionCode(inv->driver_version) >> 8) == 0x0804) {
        inv->cmd = FindCommand84(a);
      }
      if (!inv->cmd) st.backend_options.push_back(a);
    }
  }

  const bool module_84 = (VersionCode(inv->driver_version) >> 8) == 0x0804;
  if (inv->help && module_84) PrintUsage84AndExit(st, inv->cmd, nullptr, 0);
  if (inv->help) PrintUsageAndExit(st, inv->cmd, nullptr, inv->cmd ? 0 : ToInt(ExitCode::kUsage));
  if (!inv->cmd) {
    if (!operands.empty()) {
      *st.err << st.progname << ": Unknown command '" << operands.front() << "'\n";
      return ToInt(ExitCode::kUsage);
    }
    if (module_84) PrintUsage84AndExit(st, nullptr, "No command specified", ToInt(ExitCode::kUsage));
    PrintUsageAndExit(st, nullptr, "No command specified", ToInt(ExitCode::kUsage));
  }

  // Backend options given as --name must belong to this command.
  for (const std::string& o : backend_check) {
    size_t len = o.find('=');
    if (len == std::string::npos) len = o.size();
    bool ok = inv->cmd->cli == CliCtx::kWildcard;
    if (!ok && o.size() >= 2 && o[0] == '-' && o[1] == '-') {
      std::string name = o.substr(2, len - 2);
      for (const CliField& f : CliFields(inv->cmd->cli)) {
        if (f.name == name) ok = true;
      }
    }
    if (!ok) {
      *st.err << st.progname << ": unrecognized option '" << o.substr(0, len) << "'\n";
      *st.err << "try '" << st.progname << " help " << inv->cmd->name << "'\n";
      return ToInt(ExitCode::kUsage);
    }
  }
  for (std::string& o : backend_check) st.backend_options.push_back(std::move(o));
  return 0;
}

// drbd-utils config_file_from_arg(): the config file registered for a
// resource or minor by an earlier new-resource/new-minor.
std::string ConfigFileFromArg(AdmState& st, const std::string& arg) {
  std::optional<std::string> f;
  if (arg.compare(0, 6, "minor-") == 0) {
    int minor = std::atoi(arg.c_str() + 6);
    f = LookupMinor(minor);
    if (!f) {
      *st.err << "Don't know which config file belongs to minor " << minor
              << ", trying default ones...\n";
      return {};
    }
  } else {
    f = LookupResource(arg);
    if (!f) {
      *st.err << "Don't know which config file belongs to resource " << arg
              << ", trying default ones...\n";
      return {};
    }
  }
  if (!CanOpen(*f)) {
    // drbd-utils names the (still unset) -c file here, i.e. "(null)".
    *st.err << "Couldn't open file (null) for reading, reason: " << ErrnoText()
            << "\ntrying default config file...\n";
    return {};
  }
  return *f;
}

void VerifyIps(AdmState& st, cfg::Resource& res) {
  if (st.config.globals.disable_ip_verification) return;
  if ((st.dry_run && st.no_tty) || !st.do_verify_ips) return;
  if (res.ignore) return;
  if (res.proxy_only) return;
  if (res.stacked && !st.is_drbd_top) return;
  if (!res.me || res.me->address.addr.empty()) return;
  if (!cfg::HaveIp(res.me->address.af, res.me->address.addr)) {
    std::string hosts;
    for (size_t i = 0; i < res.me->on_hosts.size(); ++i) {
      if (i) hosts += ' ';
      hosts += res.me->on_hosts[i];
    }
    *st.err << res.config_file << ": in resource " << res.name << ", on " << hosts << ":\n\tIP "
            << res.me->address.addr << " not found on this host.\n";
    st.config.valid = false;
  }
}

void CountResources(AdmState& st, int* normal, int* stacked, int* ignored) {
  st.number_of_minors = 0;
  for (cfg::Resource& res : st.config.resources) {
    if (res.ignore) {
      ++*ignored;
      continue;
    }
    if (res.stacked) {
      ++*stacked;
    } else {
      ++*normal;
    }
    if (res.me) st.number_of_minors += static_cast<int>(res.me->volumes.size());
  }
}

int Main(AdmState& st, const std::vector<std::string>& argv) {
  if (argv.empty()) {
    *st.err << "drbdadm: Nonexistent or empty arguments array, aborting.\n";
    return ToInt(ExitCode::kThinko);
  }
  bool from_env = false;
  st.pp.hostname = cfg::LocalNodeName(&from_env);
  st.no_tty = !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO);
  if (from_env) {
    *st.err << cfg::NodeNameOverrideNotice(st.pp.hostname);
  }
  AssignCommandNames(st, argv[0]);
  Invocation inv;
  inv.driver_version = DriverVersion();
  // An 8.4 module: the verbs drbdadm/live84.h implements are planned and
  // run here (our drbdsetup speaks genl version 1); the others need no
  // module or work through our drbdsetup's 8.4 mode. Only an 8.3 module
  // still goes to drbd-utils' drbdadm-83.
  const unsigned drv = VersionCode(inv.driver_version);
  const bool is_84 = (drv >> 8) == 0x0804;
  if (!is_84) MaybeExecLegacyDrbdadm(st, argv, inv.driver_version);

  if (int rv = ParseOptions(st, argv, &inv)) return rv;
  const AdmCmd& cmd = *inv.cmd;
  const bool plan_84 = is_84 && IsLive84Verb(cmd.name);

  if (!inv.config_test.empty() && !cmd.test_config) {
    *st.err << "The --config-to-test (-t) option is only allowed "
               "with the dump and sh-nop commands\n";
    return ToInt(ExitCode::kUsage);
  }
  const bool is_dump_xml = &cmd == &DumpXmlCmd();
  const bool is_dump = is_dump_xml || &cmd == &DumpCmd();
  const bool is_adjust =
      &cmd == &AdjustCmd() || &cmd == &AdjustWithProgressCmd() || &cmd == &ShListAdjustableCmd();

  st.list_adjustable = &cmd == &ShListAdjustableCmd();
  st.do_verify_ips =
      (is_adjust && FindBackendOption(st, "--skip-net") >= 0) ? false : cmd.verify_ips;
  const std::vector<std::string>& names = inv.resource_names;
  if (names.empty()) {
    if (!is_dump && cmd.res_name_required) {
      PrintUsageAndExit(st, &cmd, "No resource names specified", ToInt(ExitCode::kUsage));
    }
  } else if (!cmd.backend_res_name) {
    if (!cmd.res_name_required) {
      *st.err << "This command will ignore resource names!\n";
    } else if (names.size() > 1 && cmd.use_cached_config_file) {
      *st.err << "You should not use this command with multiple resources!\n";
    }
  }

  std::string config_file = inv.config_file;
  if (config_file.empty() && cmd.use_cached_config_file && !names.empty()) {
    config_file = ConfigFileFromArg(st, names[0]);
  }
  if (config_file.empty()) {
    for (const char* f : kConfFiles) {
      if (CanOpen(f)) {
        config_file = f;
        break;
      }
    }
    if (config_file.empty()) {
      *st.err << "Can not open '" << kConfFiles[5] << "': " << ErrnoText() << "\n";
      return ToInt(ExitCode::kConfigInvalid);
    }
  }

  st.config.config_file = config_file;
  st.config.config_save = st.config_from_stdin ? config_file : CanonifyPath(st, config_file);

  cfg::ParseRequest req;
  req.config_file = st.config_from_stdin ? "-" : config_file;
  req.module_version = inv.driver_version;  // empty: module not loaded
  req.hostname = st.pp.hostname;
  req.verbose = st.verbose;
  cfg::ParseConfig(req, st.config, *st.diag);

  if (!inv.config_test.empty()) {
    std::string saved_file = st.config.config_file;
    std::string saved_save = st.config.config_save;
    st.config.config_file = inv.config_test;
    st.config.config_save = CanonifyPath(st, inv.config_test);
    if (!CanOpen(inv.config_test)) {
      *st.err << "Can not open '" << inv.config_test << "'.\n.";
      return ToInt(ExitCode::kExecError);
    }
    cfg::ParseRequest treq = req;
    treq.config_file = inv.config_test;
    cfg::ParseConfig(treq, st.config, *st.diag);
    st.config.config_file = saved_file;
    st.config.config_save = saved_save;
  }
  if (!st.config.valid) return ToInt(ExitCode::kConfigInvalid);
  if (plan_84) {
    if (int r = CheckConfig84(st.config, inv.driver_version, *st.err)) return r;
  }

  st.pp.match_on_proxy = cmd.is_proxy_cmd;
  st.pp.dry_run = st.dry_run;
  st.pp.no_tty = st.no_tty;
  st.pp.stacked = st.is_drbd_top;
  st.pp.drbdsetup = st.drbdsetup;
  st.pp.drbdmeta = st.drbdmeta;
  st.pp.module_84 = is_84;
  cfg::PostParse(st.config, st.pp, *st.diag);
  if (!is_dump || st.dry_run || st.verbose) cfg::ExpandCommon(st.config, st.pp, *st.diag);
  const bool all_names = names.empty() || names[0] == "all";
  // sh-status takes no resource names; the other 8.4 verbs work on
  // resources, "all" when none are named.
  const bool sh_status_84 = plan_84 && cmd.name == "sh-status";
  if (plan_84 && (!all_names || sh_status_84)) {
    return RunVerb84(st, cmd.name, names, inv.driver_version);
  }

  int nr_normal = 0, nr_stacked = 0, nr_ignored = 0;
  CountResources(st, &nr_normal, &nr_stacked, &nr_ignored);

  int rv = 0;
  CmdCtx ctx;
  ctx.cmd = &cmd;
  if (cmd.res_name_required || !names.empty() || plan_84) {
    if (st.config.resources.empty() && !is_dump) {
      *st.err << "no resources defined!\n";
      return ToInt(ExitCode::kUsage);
    }
    cfg::GlobalValidate(st.config, !is_dump, st.pp, *st.diag);

    if (names.empty() || names[0] == "all") {
      if (!is_dump) {
        if (!st.is_drbd_top && nr_ignored > 0 && nr_normal == 0) {
          *st.err << "WARN: no normal resources defined for this host (" << st.pp.hostname
                  << ")!?\nMisspelled name of the local machine with the 'on' keyword ?\n";
          return ToInt(ExitCode::kUsage);
        }
        if (!st.is_drbd_top && nr_normal == 0) {
          *st.err << "WARN: no normal resources defined for this host (" << st.pp.hostname
                  << ")!?\n";
          return ToInt(ExitCode::kUsage);
        }
        if (st.is_drbd_top && nr_stacked == 0) {
          *st.err << "WARN: nothing stacked for this host (" << st.pp.hostname
                  << "), nothing to do in stacked mode!\n";
          return ToInt(ExitCode::kUsage);
        }
      }
      if (plan_84) return RunVerb84(st, cmd.name, names, inv.driver_version);
      for (cfg::Resource& res : st.config.resources) VerifyIps(st, res);
      if (!st.config.valid) return ToInt(ExitCode::kConfigInvalid);

      st.dump_all = true;
      cfg::DumpOptions dopts = DumpOptionsFor(st);
      if (is_dump_xml) {
        cfg::DumpXmlHeader(st.config, dopts, *st.out);
      } else if (is_dump) {
        cfg::DumpHeader(st.config, dopts, *st.out);
      }
      if (is_adjust) st.adjust_more_than_one_resource = true;

      for (cfg::Resource& res : st.config.resources) {
        if (!is_dump && res.ignore) continue;
        // a dedicated proxy node runs only adjust and the proxy commands
        if (!is_dump && res.proxy_only && !is_adjust && !cmd.is_proxy_cmd) continue;
        if (!is_dump && st.is_drbd_top != res.stacked) continue;
        ctx.res = &res;
        ctx.vol = nullptr;
        int r = CallCmd(st, cmd, ctx, OnError::kExitOnFail);
        if (r > rv) rv = r;
      }
      if (is_dump_xml) cfg::DumpXmlFooter(*st.out);
    } else {
      for (cfg::Resource& res : st.config.resources) {
        for (cfg::Connection& c : res.connections) c.ignore_tmp = c.ignore;
      }
      for (const std::string& n : names) {
        if (CtxByName(st, &ctx, n, CtxCheck::kWouldEnableDisabled) > 0) {
          *st.err << "USAGE_BUG: Tried to enable disabled connections " << n << "\n";
          return ToInt(ExitCode::kUsage);
        }
      }
      for (cfg::Resource& res : st.config.resources) {
        for (cfg::Connection& c : res.connections) c.ignore_tmp = true;
      }
      for (const std::string& n : names) {
        if (CtxByName(st, &ctx, n, CtxCheck::kWouldEnableMultiTimes) > 0) {
          *st.err << "USAGE_BUG: " << n << " would enable an already enabled connection\n";
          return ToInt(ExitCode::kUsage);
        }
      }
      if (is_adjust && names.size() > 1) st.adjust_more_than_one_resource = true;

      for (const std::string& n : names) {
        int r = CtxByName(st, &ctx, n, CtxCheck::kSetupMulti);
        if (!ctx.res) {
          CtxByMinor(st, &ctx, n);
          r = 0;
        }
        if (!ctx.res) {
          *st.err << "'" << n << "' not defined in your config (for this host).\n";
          return ToInt(ExitCode::kUsage);
        }
        if (r) return ToInt(ExitCode::kUsage);
        if (!cmd.vol_id_required && !cmd.iterate_volumes && ctx.vol && !cmd.vol_id_optional) {
          if (ctx.vol->implicit) {
            ctx.vol = nullptr;
          } else {
            *st.err << cmd.name
                    << " operates on whole resources, but you specified a specific volume!\n";
            return ToInt(ExitCode::kUsage);
          }
        }
        if (cmd.vol_id_required && !ctx.vol && ctx.res->me && !ctx.res->me->volumes.empty() &&
            ctx.res->me->volumes.front().implicit) {
          ctx.vol = &ctx.res->me->volumes.front();
        }
        if (cmd.vol_id_required && !ctx.vol) {
          *st.err << cmd.name << " requires a specific volume id, but none is specified.\n"
                  << "Try '" << cmd.name << " minor-<minor_number>' or '" << cmd.name << " " << n
                  << "/<vnr>'\n";
          return ToInt(ExitCode::kUsage);
        }
        if (ctx.res->ignore && !is_dump) {
          *st.err << "'" << ctx.res->name << "' ignored, since this host (" << st.pp.hostname
                  << ") is not mentioned with an 'on' keyword.\n";
          if (rv < ToInt(ExitCode::kUsage)) rv = ToInt(ExitCode::kUsage);
          continue;
        }
        if (ctx.res->proxy_only && !is_dump && !is_adjust && !cmd.is_proxy_cmd) {
          *st.err << "'" << ctx.res->name << "' ignored, since this host (" << st.pp.hostname
                  << ") is a proxy node, not a DRBD node.\n";
          if (rv < ToInt(ExitCode::kUsage)) rv = ToInt(ExitCode::kUsage);
          continue;
        }
        st.is_drbd_top = ctx.res->stacked;
        VerifyIps(st, *ctx.res);
        if (!is_dump && !st.config.valid) return ToInt(ExitCode::kConfigInvalid);
        int rr = CallCmd(st, cmd, ctx, OnError::kExitOnFail);
        if (rr > rv) rv = rr;
      }
    }
  } else {
    ctx.cmd = &cmd;
    rv = CallCmdFn(st, ctx, OnError::kKeepRunning);
    if (rv >= 10) {
      *st.err << "command " << cmd.name << " exited with code " << rv << "\n";
      return rv;
    }
  }

  int r = RunDeferredCmds(st);
  if (r > rv) rv = r;
  return rv;
}

}  // namespace

int RunDrbdadm(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err,
               bool free_state) {
  // For a process that exits right after, freeing the parsed configuration
  // node by node (tens of MB for 10000 resources) is pure cost: leave the
  // memory to the kernel then.
  // (Kept reachable from a static, so leak checkers do not report it.)
  [[maybe_unused]] static AdmState* volatile kept = nullptr;
  auto* state = new AdmState;
  std::unique_ptr<AdmState> owner(free_state ? state : nullptr);
  if (!free_state) kept = state;
  AdmState& st = *state;
  st.out = &out;
  st.err = &err;
  cfg::DiagSink diag(err, cfg::DiagStyleFromEnv());
  st.diag = &diag;
  int rc;
  try {
    rc = Main(st, argv);
  } catch (const AdmExit& e) {
    rc = e.code;
  } catch (const cfg::FatalConfigError& e) {
    rc = ToInt(e.code);
  }
  out.flush();
  err.flush();
  return rc;
}

}  // namespace drbd::adm
