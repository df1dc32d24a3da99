// What a controller watches in the store, and why it was woken. The reconcile scheduler
// (reconcile_scheduler.h) wakes a controller only for changes of the kinds it watches, and tells
// it which keys are dirty, so that a pass can look at those keys only; a timer, a retry or a
// signal wakes it for everything. Type-only: anything may include it.
#pragma once

#include "store/change_set.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tide::control {

// The row kinds whose changes concern a controller.
struct Watch {
  std::vector<store::Kind> keys;       // a change of these kinds wakes it for the change's key
                                       // and parent (an instance: its id and its group's name)
  std::vector<store::Kind> everything; // a change of these kinds wakes it for every key (what
                                       // it cannot map to its own keys, e.g. a listener for the
                                       // target controller)
};

// Why a controller runs: every key, or the keys (and parents) of the rows that changed.
struct Wake {
  bool everything = false;    // a timer, a retry, a signal, the first pass: look at everything
  std::set<std::string> keys; // the dirty keys when not everything

  static Wake all() { return Wake{true, {}}; }
  // Whether a pass woken like this should look at `key`.
  bool dirty(const std::string& key) const { return everything || keys.count(key) > 0; }
  // Adds another reason to run.
  void merge(const Wake& other) {
    everything = everything || other.everything;
    keys.insert(other.keys.begin(), other.keys.end());
  }
  // What `changes` wakes a controller with this watch for; nullopt when it watches none of
  // the rows.
  static std::optional<Wake> of(const Watch& watch, const store::ChangeSet& changes) {
    Wake w;
    bool wakes = false;
    for (const store::Change& c : changes.changes()) {
      for (store::Kind k : watch.everything) {
        if (k == c.kind) {
          w.everything = true;
          wakes = true;
        }
      }
      for (store::Kind k : watch.keys) {
        if (k == c.kind) {
          wakes = true;
          if (!c.key.empty()) {
            w.keys.insert(c.key);
          }
          if (!c.parent.empty()) {
            w.keys.insert(c.parent);
          }
        }
      }
    }
    return wakes ? std::optional<Wake>(std::move(w)) : std::nullopt;
  }
};

} // namespace tide::control
