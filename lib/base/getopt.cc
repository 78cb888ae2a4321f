// SPDX-License-Identifier: GPL-2.0-or-later
// GNU getopt_long semantics for drbdadm (see getopt.h and docs/design/drbdadm-cli.md).
#include "lib/base/getopt.h"

#include <cstdlib>

namespace drbd {

namespace {

// Handles "--name[=value]" (body = text after "--"). *i is the index of the
// current argument and is advanced past a separate required argument.
bool LongOption(const std::vector<std::string>& args, size_t* i, std::string_view body,
                std::string_view progname, const std::vector<LongOpt>& longopts,
                const std::function<bool(const GetoptEvent&)>& on_option, std::ostream& err) {
  size_t eq = body.find('=');
  std::string_view name = body.substr(0, eq);
  int found = -1;
  bool exact = false;
  std::vector<bool> ambig;  // glibc's ambig_set
  for (size_t n = 0; n < longopts.size(); ++n) {
    const LongOpt& p = longopts[n];
    if (p.name.compare(0, name.size(), name) != 0 || p.name.size() < name.size()) continue;
    if (p.name.size() == name.size()) {
      found = static_cast<int>(n);
      exact = true;
      break;
    }
    if (found < 0) {
      found = static_cast<int>(n);
    } else {
      const LongOpt& f = longopts[static_cast<size_t>(found)];
      if (f.arg != p.arg || f.val != p.val) {
        if (ambig.empty()) {
          ambig.assign(longopts.size(), false);
          ambig[static_cast<size_t>(found)] = true;
        }
        ambig[n] = true;
      }
    }
  }
  if (!exact && !ambig.empty()) {
    err << progname << ": option '--" << body << "' is ambiguous; possibilities:";
    for (size_t n = 0; n < longopts.size(); ++n) {
      if (ambig[n]) err << " '--" << longopts[n].name << "'";
    }
    err << '\n';
    return false;
  }
  if (found < 0) {
    err << progname << ": unrecognized option '--" << body << "'\n";
    return false;
  }
  const LongOpt& opt = longopts[static_cast<size_t>(found)];
  GetoptEvent ev;
  ev.val = opt.val;
  ev.long_index = found;
  if (eq != std::string_view::npos) {
    if (opt.arg == ArgKind::kNone) {
      err << progname << ": option '--" << opt.name << "' doesn't allow an argument\n";
      return false;
    }
    ev.has_arg = true;
    ev.arg = std::string(body.substr(eq + 1));
  } else if (opt.arg == ArgKind::kRequired) {
    if (*i + 1 >= args.size()) {
      err << progname << ": option '--" << opt.name << "' requires an argument\n";
      return false;
    }
    ++*i;
    ev.has_arg = true;
    ev.arg = args[*i];
  }
  return on_option(ev);
}

bool ShortOptions(const std::vector<std::string>& args, size_t* i, std::string_view progname,
                  const std::vector<ShortOpt>& shortopts,
                  const std::function<bool(const GetoptEvent&)>& on_option, std::ostream& err) {
  const std::string& a = args[*i];
  for (size_t k = 1; k < a.size(); ++k) {
    char c = a[k];
    const ShortOpt* so = nullptr;
    for (const ShortOpt& s : shortopts) {
      if (s.c == c && c != ':') so = &s;
    }
    if (so == nullptr) {
      err << progname << ": invalid option -- '" << c << "'\n";
      return false;
    }
    GetoptEvent ev;
    ev.val = static_cast<unsigned char>(c);
    if (so->arg == ArgKind::kNone) {
      if (!on_option(ev)) return false;
      continue;
    }
    if (k + 1 < a.size()) {
      ev.has_arg = true;
      ev.arg = a.substr(k + 1);
    } else if (so->arg == ArgKind::kRequired) {
      if (*i + 1 >= args.size()) {
        err << progname << ": option requires an argument -- '" << c << "'\n";
        return false;
      }
      ++*i;
      ev.has_arg = true;
      ev.arg = args[*i];
    }
    return on_option(ev);
  }
  return true;
}

}  // namespace

bool GnuGetoptLong(const std::vector<std::string>& args, std::string_view progname,
                   const std::vector<ShortOpt>& shortopts, const std::vector<LongOpt>& longopts,
                   const std::function<bool(const GetoptEvent&)>& on_option,
                   std::vector<std::string>* non_options, std::ostream& err) {
  const bool require_order = std::getenv("POSIXLY_CORRECT") != nullptr;
  std::vector<std::string> operands;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (require_order) break;
      operands.push_back(a);
      continue;
    }
    bool ok = a[1] == '-' ? LongOption(args, &i, std::string_view(a).substr(2), progname, longopts,
                                       on_option, err)
                          : ShortOptions(args, &i, progname, shortopts, on_option, err);
    if (!ok) return false;
  }
  for (; i < args.size(); ++i) operands.push_back(args[i]);
  *non_options = std::move(operands);
  return true;
}

}  // namespace drbd
