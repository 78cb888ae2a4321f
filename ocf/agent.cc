// SPDX-License-Identifier: GPL-2.0-or-later
// The agent's actions; see agent.h. Every decision is lib/ocf's: this file
// only runs commands and maps their results.
#include "ocf/agent.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include "lib/ocf/clone_check.h"
#include "lib/ocf/decide.h"
#include "lib/ocf/metadata.h"
#include "lib/ocf/notify_action.h"
#include "lib/ocf/snapshot.h"

extern char** environ;

namespace drbd::ocf {

int ProcessRunner::Run(const std::vector<std::string>& argv, std::string* stdout_text) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return -1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && stdout_text != nullptr) stdout_text->append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::chrono::milliseconds ProcessRunner::Now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

void ProcessRunner::Sleep(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

std::string LocalHostname(const EnvLookup& env) {
  if (std::optional<std::string> h = env("DRBD_CP_HOSTNAME"); h && !h->empty()) return *h;
  struct utsname u {};
  if (uname(&u) != 0) return "";
  return u.nodename;
}

namespace {

class Agent {
 public:
  Agent(const EnvLookup& env, Runner& runner, std::ostream& log)
      : env_(env), runner_(runner), log_(log) {}

  Exit Run(std::string_view action) {
    ParamError perr;
    if (!ParseParams(env_, &p_, &perr)) return Fail(perr.code, perr.message);
    drbdadm_ = Tool("DRBD_CP_DRBDADM", "drbdadm");
    drbdsetup_ = Tool("DRBD_CP_DRBDSETUP", "drbdsetup");
    crm_attribute_ = Tool("DRBD_CP_CRM_ATTRIBUTE", "crm_attribute");
    view_.promoted_max = PromotedMax();
    action_ = action;
    if (action == "validate-all") return Validate();
    if (action == "monitor") return Monitor();
    if (action == "start") return Start();
    if (action == "stop") return Stop();
    if (action == "promote" || action == "demote" || action == "notify") {
      if (Exit v = CheckCloneConfig(); v != Exit::kSuccess) return v;
      if (action == "promote") return Promote();
      if (action == "demote") return Demote();
      return Notify();
    }
    if (action == "reload-agent") return ReloadAgent();
    return Fail(Exit::kErrUnimplemented, "unknown action '" + std::string(action) + "'");
  }

 private:
  std::string Tool(const std::string& key, std::string_view fallback) {
    std::optional<std::string> v = env_(key);
    return v && !v->empty() ? *v : std::string(fallback);
  }

  int PromotedMax() {
    for (const char* key : {"OCF_RESKEY_CRM_meta_promoted_max", "OCF_RESKEY_CRM_meta_master_max"}) {
      std::optional<std::string> v = env_(key);
      if (!v) continue;
      const std::string text = std::move(*v);
      int n = 0;
      if (std::from_chars(text.data(), text.data() + text.size(), n).ec == std::errc()) return n;
    }
    return 1;
  }

  Exit Fail(Exit code, const std::string& why) {
    log_ << "ocf-exit-reason:" << why << "\n";
    return code;
  }

  void Log(const std::string& line) {
    log_ << "drbd(" << p_.drbd_resource << "): " << line << "\n";
  }

  int Adm(std::initializer_list<std::string_view> args) {
    std::vector<std::string> argv = {drbdadm_, "-c", p_.drbdconf};
    for (std::string_view a : args) argv.emplace_back(a);
    argv.push_back(p_.drbd_resource);
    int rc = runner_.Run(argv, nullptr);
    if (rc != 0) Log("drbdadm " + argv[3] + " exited " + std::to_string(rc));
    return rc;
  }

  // The current state; nullopt summary fields when drbdsetup fails (no
  // module, no such resource) mean not running.
  StateSummary ReadState() {
    std::string text;
    int rc = runner_.Run({drbdsetup_, "events2", "--now", p_.drbd_resource}, &text);
    if (rc != 0) {
      Log("drbdsetup events2 --now exited " + std::to_string(rc) + "; treating as not running");
      return Summarize(nullptr);
    }
    std::optional<events::ResourceSnapshot> snap;
    std::string error;
    if (!SnapshotFromEvents2Now(text, p_.drbd_resource, &snap, &error)) {
      Log("cannot parse drbdsetup events2 output: " + error);
      return Summarize(nullptr);
    }
    return Summarize(snap ? &*snap : nullptr);
  }

  void ApplyScore(const StateSummary& s) {
    ScoreDecision d = PromotionScore(s, p_, view_);
    switch (d.kind) {
      case ScoreDecision::Kind::kSet:
        Attr({"--promotion", "-v", std::to_string(d.score)});
        break;
      case ScoreDecision::Kind::kRemove:
        Attr({"--promotion", "-D"});
        break;
      case ScoreDecision::Kind::kLeave:
        break;
    }
    if (d.unfence) Adm({"unfence-peer"});
  }

  // Sets or deletes the promotion score. Outside a Pacemaker cluster
  // (ocf-tester, a manual run) crm_attribute is missing or finds no CIB:
  // that is logged and never changes the action's result, since DRBD's state
  // is what the action reports.
  void Attr(std::initializer_list<std::string> args) {
    std::vector<std::string> argv = {crm_attribute_};
    argv.insert(argv.end(), args);
    int rc = runner_.Run(argv, nullptr);
    if (rc == 0) return;
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    Log(cmd + (rc < 0 ? " could not be run" : " exited " + std::to_string(rc)) +
        "; promotion score not recorded (no Pacemaker cluster?)");
  }

  Exit Validate() {
    if (runner_.Run({drbdadm_, "-c", p_.drbdconf, "dump", p_.drbd_resource}, nullptr) != 0)
      return Fail(Exit::kErrConfigured,
                  "drbdadm cannot read resource '" + p_.drbd_resource + "' from " + p_.drbdconf);
    return CheckCloneConfig();
  }

  // The clone's meta attributes against the DRBD configuration (dual
  // primary, one instance per node, notify=true); see lib/ocf/clone_check.h.
  // drbdadm dump-xml runs only when the checks need the configuration.
  Exit CheckCloneConfig() {
    CloneMeta meta = ReadCloneMeta(env_);
    DrbdConfFacts facts;
    const DrbdConfFacts* conf = nullptr;
    if (NeedsDrbdConfFacts(meta)) {
      std::string xml, error;
      int rc = runner_.Run({drbdadm_, "-c", p_.drbdconf, "dump-xml"}, &xml);
      if (rc != 0)
        return Fail(Exit::kErrConfigured, "drbdadm dump-xml exited " + std::to_string(rc));
      if (!ParseDumpXml(xml, p_.drbd_resource, &facts, &error))
        return Fail(Exit::kErrConfigured, error);
      conf = &facts;
    }
    CloneCheck c = CheckClone(action_, meta, p_, conf);
    for (const std::string& w : c.warnings) Log("WARNING: " + w);
    if (c.code != Exit::kSuccess) return Fail(c.code, c.message);
    return Exit::kSuccess;
  }

  // Pre/post notifications (lib/ocf/notify_action.h). Always succeeds once
  // the configuration checks pass: a failed adjust or outdate is logged.
  Exit Notify() {
    const NotifyInfo n = ReadNotify(env_);
    const std::string hostname = LocalHostname(env_);
    view_ = ViewFromNotify(n, hostname, view_.promoted_max);
    const NotifyPlan plan = DecideNotify(n, ReadState(), p_, hostname);
    if (!plan.log.empty()) Log(plan.log);
    if (plan.adjust) Adm({"adjust"});
    if (plan.outdate_self) Adm({"outdate"});
    if (plan.rescore) ApplyScore(ReadState());
    return Exit::kSuccess;
  }

  Exit Monitor() {
    StateSummary s = ReadState();
    Exit rc = MonitorResult(s);
    bool probe = false;
    if (std::optional<std::string> iv = env_("OCF_RESKEY_CRM_meta_interval")) probe = *iv == "0";
    if (!(rc == Exit::kNotRunning && probe)) ApplyScore(s);
    return rc;
  }

  Exit Start() {
    if (Exit v = Validate(); v != Exit::kSuccess) return v;
    StateSummary s = ReadState();
    int rc = s.configured ? Adm({"adjust"}) : Adm({"up"});
    if (rc != 0) return Fail(Exit::kErrGeneric, "drbdadm could not bring the resource up");
    if (p_.wfc_timeout > 0 && !p_.connect_only_after_promote) WaitForPeers();
    s = ReadState();
    if (!s.configured) return Fail(Exit::kErrGeneric, "the resource is not up after start");
    ApplyScore(s);
    return Exit::kSuccess;
  }

  // Gives the peers wfc_timeout seconds to connect, so the first score (and
  // a promote right after start) sees the handshake's disk states. Peers that
  // stay away do not fail the start.
  void WaitForPeers() {
    std::string t = std::to_string(p_.wfc_timeout);
    int rc =
        runner_.Run({drbdsetup_, "wait-connect-resource", p_.drbd_resource, "--wfc-timeout=" + t,
                     "--degr-wfc-timeout=" + t, "--outdated-wfc-timeout=" + t},
                    nullptr);
    if (rc != 0)
      Log("not every peer connected within " + t + "s (drbdsetup wait-connect-resource exited " +
          std::to_string(rc) + "); continuing");
  }

  // The parameters were parsed anew; a running resource gets its score
  // recomputed with them (adjust_master_score may have changed).
  Exit ReloadAgent() {
    StateSummary s = ReadState();
    if (s.configured) ApplyScore(s);
    return Exit::kSuccess;
  }

  Exit Stop() {
    StateSummary s = ReadState();
    if (s.configured) {
      if (s.primary) Adm({"secondary"});
      if (Adm({"down"}) != 0) return Fail(Exit::kErrGeneric, "drbdadm down failed");
      if (ReadState().configured)
        return Fail(Exit::kErrGeneric, "the resource is still up after stop");
    }
    Attr({"--promotion", "-D"});
    return Exit::kSuccess;
  }

  // Pacemaker's timeout of this operation (OCF_RESKEY_CRM_meta_timeout, in
  // ms); 20 s, Pacemaker's default, when run by hand.
  std::chrono::milliseconds OpTimeout() {
    const std::string text = env_("OCF_RESKEY_CRM_meta_timeout").value_or("");
    int64_t ms = 0;
    if (std::from_chars(text.data(), text.data() + text.size(), ms).ec == std::errc() && ms > 0)
      return std::chrono::milliseconds(ms);
    return std::chrono::milliseconds(20000);
  }

  // Retries `drbdadm primary` once a second until it works or the operation
  // timeout is near, as drbd.ocf does: right after a failover DRBD may still
  // see the lost Primary connected until its ping timeout, and refuses a
  // second Primary meanwhile. Refusals that waiting cannot cure (no UpToDate
  // data, exit 17; fail_promote_early_if_peer_primary) end the loop at once.
  // The loop stops a margin (a tenth of the timeout, at least 2 s) before
  // Pacemaker would kill it, so the failure carries a reason.
  Exit Promote() {
    using std::chrono::milliseconds;
    const milliseconds start = runner_.Now();
    const milliseconds budget = OpTimeout();
    const milliseconds margin = std::max(milliseconds(2000), budget / 10);
    const milliseconds pause(1000);
    int rc = 0;
    for (int attempt = 1;; ++attempt) {
      StateSummary s = ReadState();
      PromoteDecision d = DecidePromote(s, p_, view_, /*retry=*/attempt > 1);
      if (d.kind == PromoteDecision::Kind::kAlreadyPromoted) {
        if (attempt > 1) ApplyScore(s);
        return Exit::kSuccess;
      }
      if (d.kind == PromoteDecision::Kind::kRefuse) return Fail(d.code, std::string(d.reason));
      if (d.warn_peer_primary)
        Log("WARNING: a peer is Primary but Pacemaker knows of no Promoted peer; promoting anyway");
      rc = Adm({"primary"});
      if (rc == 17)
        return Fail(Exit::kErrGeneric, "DRBD refuses to promote without access to UpToDate data");
      s = ReadState();
      if (MonitorResult(s) == Exit::kRunningPromoted) {
        ApplyScore(s);
        return Exit::kSuccess;
      }
      const milliseconds spent = runner_.Now() - start;
      if (spent + pause + margin > budget)
        return Fail(Exit::kErrGeneric,
                    "drbdadm primary did not make the resource Primary (" +
                        std::to_string(attempt) + " attempts in " +
                        std::to_string(spent.count() / 1000) + " s, last exit code " +
                        std::to_string(rc) + ")");
      runner_.Sleep(pause);
    }
  }

  Exit Demote() {
    StateSummary s = ReadState();
    switch (DecideDemote(s)) {
      case DemoteDecision::kNotRunning:
        return Fail(Exit::kErrGeneric, "demote: the resource is not started");
      case DemoteDecision::kAlreadyUnpromoted:
        return Exit::kSuccess;
      case DemoteDecision::kProceed:
        break;
    }
    Adm({"secondary"});
    s = ReadState();
    if (DecideDemote(s) == DemoteDecision::kAlreadyUnpromoted) {
      ApplyScore(s);
      return Exit::kSuccess;
    }
    return Fail(Exit::kErrGeneric, "drbdadm secondary did not make the resource Secondary");
  }

  const EnvLookup& env_;
  Runner& runner_;
  std::ostream& log_;
  Params p_;
  ClusterView view_;
  std::string_view action_;
  std::string drbdadm_, drbdsetup_, crm_attribute_;
};

}  // namespace

Exit RunAgent(std::string_view action, const EnvLookup& env, Runner& runner, std::ostream& out,
              std::ostream& log) {
  if (action == "meta-data") {
    out << MetaDataXml();
    return Exit::kSuccess;
  }
  if (action.empty() || action == "usage" || action == "help") {
    log << "usage: drbd {start|stop|promote|demote|notify|monitor|validate-all|reload-agent|"
           "meta-data}\n";
    return Exit::kErrArgs;
  }
  return Agent(env, runner, log).Run(action);
}

}  // namespace drbd::ocf
