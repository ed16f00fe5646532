#include "riposte/ingest/file_source.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "riposte/store/store.h"

namespace riposte {

FileSource::FileSource(Options opts) : opts_(std::move(opts)), buf_(256 * 1024) {}

FileSource::~FileSource() {
  (void)saveOffsets();
  for (auto& [_, t] : tails_) {
    if (t->fd >= 0) close(t->fd);
  }
}

void FileSource::discover() {
  for (const auto& pattern : opts_.patterns) {
    glob_t g{};
    if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string p = g.gl_pathv[i];
        if (tails_.count(p) != 0) continue;
        auto t = std::make_unique<Tail>();
        t->path = p;
        // Files present at start honour start_at; files appearing later are read whole.
        if (openTail(*t, first_discovery_ && !opts_.from_beginning).isOk()) {
          tails_.emplace(p, std::move(t));
        } else {
          ++stats_.errors;
        }
      }
    }
    globfree(&g);
  }
  first_discovery_ = false;
}

Status FileSource::openTail(Tail& t, bool at_end) {
  const int fd = open(t.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::ioError(t.path + ": " + std::strerror(errno));
  struct stat st {};
  fstat(fd, &st);
  t.fd = fd;
  t.inode = st.st_ino;
  uint64_t start = at_end ? static_cast<uint64_t>(st.st_size) : 0;
  if (opts_.offsets != nullptr) {
    auto saved = opts_.offsets->loadOffset(opts_.name, t.path);
    if (saved.isOk() && saved->has_value()) {
      const auto [inode, offset] = **saved;
      // Resume only in the same file, and only if it did not shrink meanwhile.
      if (inode == t.inode && offset <= static_cast<uint64_t>(st.st_size))
        start = offset;
      else if (inode != t.inode)
        start = 0;  // rotated while we were down: read the new file whole
    }
  }
  t.read_pos = start;
  t.splitter.reset(start);
  lseek(fd, static_cast<off_t>(start), SEEK_SET);
  return Status::ok();
}

size_t FileSource::drain(Tail& t, const LineSink& sink, size_t max_lines) {
  size_t delivered = 0;
  const LineSplitter::Sink s = [&](std::string_view line, uint64_t off, bool truncated) {
    sink(SourceLine{line, t.path, off, opts_.name, truncated});
    ++stats_.lines;
    stats_.truncated += truncated ? 1 : 0;
  };
  while (delivered < max_lines) {
    const ssize_t n = read(t.fd, buf_.data(), buf_.size());
    if (n <= 0) break;
    stats_.bytes += static_cast<uint64_t>(n);
    t.read_pos += static_cast<uint64_t>(n);
    delivered += t.splitter.feed(std::string_view(buf_.data(), static_cast<size_t>(n)), s);
    t.dirty = true;
  }
  return delivered;
}

Result<size_t> FileSource::poll(const LineSink& sink, size_t max_lines) {
  discover();
  size_t total = 0;
  for (auto& [path, tp] : tails_) {
    Tail& t = *tp;
    if (t.fd < 0) {
      if (!openTail(t, false).isOk()) continue;
    }
    struct stat fst {};
    fstat(t.fd, &fst);
    if (static_cast<uint64_t>(fst.st_size) < t.read_pos) {
      // copytruncate: the file was emptied in place; start again from its beginning.
      ++stats_.truncations;
      lseek(t.fd, 0, SEEK_SET);
      t.read_pos = 0;
      t.splitter.reset(0);
    }
    total += drain(t, sink, max_lines - std::min(total, max_lines));
    struct stat pst {};
    if (stat(t.path.c_str(), &pst) == 0 && pst.st_ino != t.inode) {
      // Rotated by rename: finish the old file, then switch to the new one from its start.
      total += drain(t, sink, SIZE_MAX);
      t.splitter.finish([&](std::string_view line, uint64_t off, bool) {
        sink(SourceLine{line, t.path, off, opts_.name, false});
        ++stats_.lines;
        ++total;
      });
      close(t.fd);
      t.fd = -1;
      ++stats_.rotations;
      if (openTail(t, false).isOk()) {
        // A fresh file: any saved offset belonged to the old inode.
        t.read_pos = 0;
        t.splitter.reset(0);
        lseek(t.fd, 0, SEEK_SET);
        t.dirty = true;
        total += drain(t, sink, max_lines - std::min(total, max_lines));
      }
    }
  }
  uint64_t lag = 0;
  for (auto& [path, tp] : tails_) {
    struct stat st {};
    if (tp->fd >= 0 && fstat(tp->fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > tp->read_pos)
      lag += static_cast<uint64_t>(st.st_size) - tp->read_pos;
  }
  stats_.lag_bytes = lag;
  if (total > 0) {
    stats_.last_seen = Timestamp::now();
    (void)saveOffsets();
  }
  return total;
}

Status FileSource::saveOffsets() {
  if (opts_.offsets == nullptr) return Status::ok();
  for (auto& [path, t] : tails_) {
    if (!t->dirty) continue;
    RIPOSTE_RETURN_IF_ERROR(
        opts_.offsets->saveOffset(opts_.name, path, t->inode, t->splitter.committedOffset()));
    t->dirty = false;
  }
  return Status::ok();
}

}  // namespace riposte
