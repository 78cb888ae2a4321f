// SPDX-License-Identifier: GPL-2.0-or-later
// The fencing handlers' command runs; see fence_handler.h. Every decision
// is lib/ocf/fence.cc's.
#include "ocf/fence_handler.h"

#include <optional>

#include "lib/ocf/decide.h"
#include "lib/ocf/fence.h"
#include "lib/ocf/snapshot.h"

namespace drbd::ocf {

namespace {

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

class Handler {
 public:
  Handler(FenceMode mode, const EnvLookup& env, Runner& runner, std::ostream& log)
      : mode_(mode), env_(env), runner_(runner), log_(log) {}

  int Run(std::vector<std::string> args) {
    if (auto extra = env_("OCF_RESKEY_unfence_extra_args"))
      for (std::string& w : SplitWords(*extra)) args.push_back(std::move(w));
    std::string error;
    if (!ParseFenceArgs(args, &opts_, &error)) return Fail(error);
    FenceEnv fenv;
    if (!ParseFenceEnv(env_, &fenv, &error)) return Fail(error);
    if (!opts_.resource.empty()) fenv.resource = opts_.resource;
    if (fenv.resource.empty())
      return Fail(
          "Environment variable $DRBD_RESOURCE not found (this is normally passed in by "
          "drbdadm).");
    cibadmin_ = Tool("DRBD_CP_CIBADMIN", "cibadmin");
    drbdsetup_ = Tool("DRBD_CP_DRBDSETUP", "drbdsetup");
    hostname_ = LocalHostname(env_);
    resource_ = fenv.resource;

    std::string cib_xml;
    int rc = runner_.Run({cibadmin_, "--query", "--local"}, &cib_xml);
    if (rc != 0) return Fail("cibadmin --query --local exited " + std::to_string(rc));
    const std::string prefix = FullIdPrefix(opts_.id_prefix, fenv.resource);
    CibFacts cib;
    if (!ParseCib(cib_xml, fenv.resource, opts_.master_id, prefix, &cib, &error))
      return Fail(error);
    if (cib.master_id.empty())
      return Fail("drbd-fencing could not determine the master id of drbd resource " +
                  fenv.resource);

    NodeLists lists;
    const bool need_lists = mode_ == FenceMode::kFence || fenv.up_to_date_nodes.has_value() ||
                            opts_.unfence_only_if_owner_match;
    if (need_lists && !SetupNodeLists(fenv, hostname_, &lists, &error)) return Fail(error);
    const LocationConstraint wanted = NewConstraint(prefix, cib.master_id, opts_.role, lists);
    const StateSummary local = ReadState();
    return mode_ == FenceMode::kFence ? Fence(local, cib, wanted, lists)
                                      : Unfence(local, cib, wanted, lists);
  }

 private:
  int Fence(const StateSummary& local, const CibFacts& cib, const LocationConstraint& wanted,
            const NodeLists& lists) {
    FenceDecision d = DecideFence(local, cib, wanted, lists, hostname_, opts_);
    bool ok = true;
    switch (d.action) {
      case FenceDecision::Action::kNone:
        break;
      case FenceDecision::Action::kCreate:
        ok = Cib({"--create", "--scope", "constraints", "--xml-text", ConstraintXml(wanted)});
        break;
      case FenceDecision::Action::kReplace:
        ok = Cib({"--replace", "--scope", "constraints", "--xml-text", ConstraintXml(wanted)});
        break;
    }
    if (!ok) {
      log_ << "WARNING DATA INTEGRITY at RISK: could not place the fencing constraint!\n";
      return static_cast<int>(FenceExit::kGenericError);
    }
    log_ << d.message << "\n";
    const FenceExit e = d.exit;
    if (e == FenceExit::kPeerOutdated || e == FenceExit::kPeerFenced ||
        e == FenceExit::kPeerStonithed) {
      // The peer may have come back meanwhile: then the constraint would
      // only keep it from being promoted for nothing.
      if (ReadState().pdsk_all_up_to_date) {
        log_ << "WARNING All peer disks are UpToDate (again), trying to remove the constraint "
                "again.\n";
        if (Cib({"--delete", "--xml-text", ConstraintDeleteXml(wanted)}))
          return static_cast<int>(FenceExit::kGenericError);
      }
    }
    return static_cast<int>(e);
  }

  int Unfence(const StateSummary& local, const CibFacts& cib, const LocationConstraint& wanted,
              const NodeLists& lists) {
    UnfenceDecision d = DecideUnfence(local, cib, wanted, lists, hostname_, opts_);
    bool ok = true;
    switch (d.action) {
      case UnfenceDecision::Action::kNone:
        break;
      case UnfenceDecision::Action::kRemove:
        ok = Cib({"--delete", "--xml-text", ConstraintDeleteXml(*cib.constraint)});
        break;
      case UnfenceDecision::Action::kReplace:
        ok = Cib({"--replace", "--scope", "constraints", "--xml-text", ConstraintXml(wanted)});
        if (!ok) log_ << "WARNING could not modify, leaving constraint in place.\n";
        break;
    }
    if (!ok) return 1;
    if (!d.message.empty()) log_ << d.message << "\n";
    return 0;
  }

  bool Cib(std::vector<std::string> args) {
    args.insert(args.begin(), cibadmin_);
    int rc = runner_.Run(args, nullptr);
    if (rc != 0) log_ << "WARNING cibadmin " << args[1] << " exited " << rc << "\n";
    return rc == 0;
  }

  StateSummary ReadState() {
    std::string text;
    int rc = runner_.Run({drbdsetup_, "events2", "--now", resource_}, &text);
    if (rc != 0) return Summarize(nullptr);
    std::optional<events::ResourceSnapshot> snap;
    std::string error;
    if (!SnapshotFromEvents2Now(text, resource_, &snap, &error)) return Summarize(nullptr);
    return Summarize(snap ? &*snap : nullptr);
  }

  std::string Tool(const std::string& key, const char* fallback) {
    std::optional<std::string> v = env_(key);
    return v && !v->empty() ? *v : std::string(fallback);
  }

  int Fail(const std::string& why) {
    log_ << "WARNING " << why << "\n";
    return 1;
  }

  FenceMode mode_;
  const EnvLookup& env_;
  Runner& runner_;
  std::ostream& log_;
  FenceOptions opts_;
  std::string cibadmin_, drbdsetup_, hostname_, resource_;
};

}  // namespace

FenceMode FenceModeFromProgramName(const std::string& argv0) {
  const size_t slash = argv0.rfind('/');
  const std::string base = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
  return base.find("unfence") != std::string::npos ? FenceMode::kUnfence : FenceMode::kFence;
}

int RunFenceHandler(FenceMode mode, const std::vector<std::string>& args, const EnvLookup& env,
                    Runner& runner, std::ostream& log) {
  return Handler(mode, env, runner, log).Run(args);
}

}  // namespace drbd::ocf
