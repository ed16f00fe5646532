// SourceMetrics: the per-source stats of a running pipeline, published for other threads.
//
// The thread that polls the sources publishes a copy of every source's SourceStats now and
// then (serve: once a second and when stopping), with the parse counters it keeps per source
// filled in; anyone (the HTTP API, tests) reads a consistent snapshot. See SourceStats in
// source.h for what each counter means.
//
// Thread safety: publish() and snapshot() may be called from any thread.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "riposte/ingest/source.h"

namespace riposte {

class SourceMetrics {
 public:
  struct Entry {
    std::string name;    // configured source name
    std::string type;    // file, syslog...
    std::string parser;  // parser name
    SourceStats stats;
  };

  void publish(std::vector<Entry> entries) {
    std::lock_guard<std::mutex> l(mu_);
    entries_ = std::move(entries);
  }
  std::vector<Entry> snapshot() const {
    std::lock_guard<std::mutex> l(mu_);
    return entries_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

// One line for logs: "auth (file, sshd): 10 lines, 9 parsed, 1 unparsed, ...".
std::string formatSourceStats(const SourceMetrics::Entry& e);

}  // namespace riposte
