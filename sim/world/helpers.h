// SPDX-License-Identifier: GPL-2.0-or-later
// A scripted usermode-helper runner for the deterministic world: every call
// is recorded (name, resource, environment) and answered in virtual time
// with the exit code the test scripted for its handler name, or held until
// the test answers it. No process is started.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/env/env.h"
#include "sim/world/world.h"

namespace drbd::sim {

class ScriptedHelpers : public HelperRunner {
 public:
  struct Call {
    HelperCall call;
    std::function<void(int wait_status)> done;  // empty once answered
    // The value of `key` in the call's environment; nullopt if unset.
    std::optional<std::string> Env(const std::string& key) const {
      for (const std::string& kv : call.env) {
        if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
          return kv.substr(key.size() + 1);
      }
      return std::nullopt;
    }
  };

  explicit ScriptedHelpers(World& w) : world_(w) {}

  // Handler `name` exits with `code` after `delay_ns` of virtual time.
  void Script(const std::string& name, int code, uint64_t delay_ns = 1000000) {
    script_[name] = {code, delay_ns, false};
  }
  // Calls of handler `name` wait for Answer().
  void Hold(const std::string& name) { script_[name] = {0, 0, true}; }

  // Answers held call `index` (into calls()) with exit code `code`.
  void Answer(size_t index, int code) {
    Call& c = calls_.at(index);
    if (!c.done) return;
    auto done = std::move(c.done);
    c.done = nullptr;
    world_.Post(0, [done, code] { done(code << 8); });
  }

  void Run(const HelperCall& call, std::function<void(int)> done) override {
    Rule rule;
    if (auto it = script_.find(call.name); it != script_.end()) rule = it->second;
    calls_.push_back(Call{call, rule.hold ? done : nullptr});
    if (rule.hold) return;
    int code = rule.code;
    world_.Post(rule.delay_ns, [done, code] { done(code << 8); });
  }
  std::string Program() const override { return "/sbin/drbdadm"; }

  const std::vector<Call>& calls() const { return calls_; }
  // Names of the calls so far, in order.
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const Call& c : calls_) out.push_back(c.call.name);
    return out;
  }
  // Index of the last call of `name`, or nullopt.
  std::optional<size_t> Last(const std::string& name) const {
    for (size_t i = calls_.size(); i-- > 0;) {
      if (calls_[i].call.name == name) return i;
    }
    return std::nullopt;
  }

 private:
  struct Rule {
    int code = 0;
    uint64_t delay_ns = 1000000;
    bool hold = false;
  };
  World& world_;
  std::map<std::string, Rule> script_;
  std::vector<Call> calls_;
};

}  // namespace drbd::sim
