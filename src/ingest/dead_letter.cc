#include "riposte/ingest/dead_letter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace riposte {

Result<std::unique_ptr<DeadLetter>> DeadLetter::open(DeadLetterOptions options) {
  if (options.path.empty()) return Status::invalidArgument("dead letter: empty path");
  if (options.max_bytes < 4096) options.max_bytes = 4096;
  std::unique_ptr<DeadLetter> d(new DeadLetter(std::move(options)));
  RIPOSTE_RETURN_IF_ERROR(d->openFile());
  return d;
}

DeadLetter::~DeadLetter() {
  if (fd_ >= 0) close(fd_);
}

Status DeadLetter::openFile() {
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    return Status::ioError("dead letter " + options_.path + ": " + std::strerror(errno));
  }
  struct stat st {};
  size_ = fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return Status::ok();
}

void DeadLetter::rotate() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  const std::string& p = options_.path;
  if (options_.keep == 0) {
    std::remove(p.c_str());
  } else {
    std::remove((p + "." + std::to_string(options_.keep)).c_str());
    for (uint32_t i = options_.keep; i > 1; --i) {
      std::rename((p + "." + std::to_string(i - 1)).c_str(), (p + "." + std::to_string(i)).c_str());
    }
    std::rename(p.c_str(), (p + ".1").c_str());
  }
  ++stats_.rotations;
  if (!openFile().isOk()) ++stats_.errors;
}

void DeadLetter::append(const std::string& entry) {
  if (size_ > 0 && size_ + entry.size() > options_.max_bytes) rotate();
  if (fd_ < 0) {
    ++stats_.errors;
    return;
  }
  size_t done = 0;
  while (done < entry.size()) {
    const ssize_t n = ::write(fd_, entry.data() + done, entry.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++stats_.errors;
      return;
    }
    done += static_cast<size_t>(n);
  }
  size_ += entry.size();
  ++stats_.written;
}

bool DeadLetter::write(std::string_view source, std::string_view origin, uint64_t offset,
                       std::string_view reason, std::string_view line, Timestamp now) {
  std::lock_guard<std::mutex> l(mu_);
  const int64_t second = now.micros / 1'000'000;
  if (second != window_second_) {
    window_second_ = second;
    window_count_ = 0;
  }
  if (options_.per_second > 0 && window_count_ >= options_.per_second) {
    ++stats_.suppressed;
    ++window_suppressed_;
    return false;
  }
  ++window_count_;
  if (window_suppressed_ > 0) {
    nlohmann::json note = {
        {"time", formatRfc3339Utc(now)},
        {"reason", "rate limit"},
        {"suppressed", window_suppressed_},
        {"line", std::to_string(window_suppressed_) + " line(s) were not written here (over " +
                     std::to_string(options_.per_second) + " per second)"}};
    append(note.dump() + "\n");
    window_suppressed_ = 0;
  }
  nlohmann::json j = {{"time", formatRfc3339Utc(now)},
                      {"source", std::string(source)},
                      {"origin", std::string(origin)},
                      {"offset", offset},
                      {"reason", std::string(reason)},
                      {"bytes", line.size()},
                      {"line", std::string(line.substr(0, options_.max_entry_line))}};
  append(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return true;
}

DeadLetterStats DeadLetter::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace riposte
