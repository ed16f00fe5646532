// FileSource: tails files (paths or glob patterns), following rotation by rename (a new inode
// at the path: the old file is read to its end, then the new one from its start) and by
// copytruncate (the file shrinks: reading restarts at 0). Offsets can be persisted through an
// OffsetStore so a restart neither skips nor repeats lines.
//
// Configuration: { name, type: file, path|paths, parser, start_at: beginning|end, year }
//
// Thread safety: polled by one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "riposte/ingest/line_splitter.h"
#include "riposte/ingest/source.h"

namespace riposte {

class Store;

class FileSource : public Source {
 public:
  struct Options {
    std::string name;
    std::vector<std::string> patterns;
    bool from_beginning = false;
    Store* offsets = nullptr;  // optional: persist and resume read offsets
  };

  explicit FileSource(Options opts);
  ~FileSource() override;

  std::string_view name() const override { return opts_.name; }
  Result<size_t> poll(const LineSink& sink, size_t max_lines) override;
  const SourceStats& stats() const override { return stats_; }

  // Writes the current offsets to the OffsetStore (also done by poll when lines were read).
  Status saveOffsets();

 private:
  struct Tail {
    std::string path;
    int fd = -1;
    uint64_t inode = 0;
    uint64_t read_pos = 0;
    LineSplitter splitter;
    bool dirty = false;
  };

  void discover();
  Status openTail(Tail& t, bool at_end);
  size_t drain(Tail& t, const LineSink& sink, size_t max_lines);

  Options opts_;
  SourceStats stats_;
  std::map<std::string, std::unique_ptr<Tail>> tails_;
  bool first_discovery_ = true;
  std::vector<char> buf_;
};

}  // namespace riposte
