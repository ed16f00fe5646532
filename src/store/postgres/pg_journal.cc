#include "store/postgres/pg_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace riposte::pg {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string encodeOp(const Op& op) {
  json j;
  switch (op.kind) {
    case Op::Kind::kSql: {
      j["k"] = "sql";
      json calls = json::array();
      for (const auto& c : op.calls) calls.push_back(json::array({c.name, c.params}));
      j["c"] = std::move(calls);
      break;
    }
    case Op::Kind::kAudit:
      j["k"] = "audit";
      j["t"] = op.audit.time.micros;
      j["a"] = op.audit.actor;
      j["kind"] = op.audit.kind;
      j["tg"] = op.audit.target;
      j["r"] = op.audit.reason;
      j["d"] = op.audit.details_json;
      if (!op.calls.empty()) {
        json calls = json::array();
        for (const auto& c : op.calls) calls.push_back(json::array({c.name, c.params}));
        j["c"] = std::move(calls);
      }
      break;
    case Op::Kind::kEvents: {
      j["k"] = "events";
      json rows = json::array();
      for (const auto& e : op.events) {
        rows.push_back(json::array({e.ts, e.tz, e.source, e.offset, e.raw, e.fields}));
      }
      j["e"] = std::move(rows);
      break;
    }
  }
  return dump(j);
}

Result<Op> decodeOp(const std::string& line) {
  try {
    const json j = json::parse(line);
    Op op;
    const std::string k = j.at("k").get<std::string>();
    if (k == "sql") {
      op.kind = Op::Kind::kSql;
      for (const auto& c : j.at("c")) {
        op.calls.push_back({c.at(0).get<std::string>(), c.at(1).get<std::vector<std::string>>()});
      }
    } else if (k == "audit") {
      op.kind = Op::Kind::kAudit;
      op.audit.time = {j.at("t").get<int64_t>(), 0};
      op.audit.actor = j.at("a").get<std::string>();
      op.audit.kind = j.at("kind").get<std::string>();
      op.audit.target = j.at("tg").get<std::string>();
      op.audit.reason = j.at("r").get<std::string>();
      op.audit.details_json = j.at("d").get<std::string>();
      if (j.contains("c")) {
        for (const auto& c : j.at("c")) {
          op.calls.push_back({c.at(0).get<std::string>(), c.at(1).get<std::vector<std::string>>()});
        }
      }
    } else if (k == "events") {
      op.kind = Op::Kind::kEvents;
      for (const auto& e : j.at("e")) {
        op.events.push_back({e.at(0).get<int64_t>(), e.at(1).get<int>(), e.at(2).get<std::string>(),
                             e.at(3).get<int64_t>(), e.at(4).get<std::string>(),
                             e.at(5).get<std::string>()});
      }
    } else {
      return Status::parseError("unknown entry kind '" + k + "'");
    }
    return op;
  } catch (const std::exception& e) {
    return Status::parseError(std::string("unreadable entry: ") + e.what());
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::open(const std::string& path, uint64_t max_bytes) {
  path_ = path;
  max_bytes_ = max_bytes;
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return Status::ioError("spill journal " + path + ": " + std::strerror(errno));
  }
  size_ = static_cast<uint64_t>(::lseek(fd_, 0, SEEK_END));
  {
    std::ifstream pos(path_ + ".pos");
    uint64_t p = 0;
    if (pos >> p && p <= size_) read_ = p;
  }
  in_.open(path_, std::ios::binary);
  // Count whole entries still to replay; a torn last line (crash mid-append) is cut off.
  in_.seekg(static_cast<std::streamoff>(read_));
  std::string line;
  uint64_t at = read_;
  while (std::getline(in_, line)) {
    if (in_.eof()) break;  // no newline: torn
    at += line.size() + 1;
    ++pending_;
  }
  in_.clear();
  if (at < size_) {
    if (::ftruncate(fd_, static_cast<off_t>(at)) == 0) size_ = at;
  }
  return Status::ok();
}

Status Journal::append(const Op& op) {
  std::string line = encodeOp(op);
  line += '\n';
  if (size_ + line.size() > max_bytes_) {
    return Status::resourceExhausted("postgres unreachable and the spill journal " + path_ +
                                     " is full (" + std::to_string(size_) + " of " +
                                     std::to_string(max_bytes_) + " bytes)");
  }
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      // Cut a partial entry so the journal stays line-aligned.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        return Status::ioError("spill journal " + path_ + ": " + err + " (and cannot truncate)");
      }
      return Status::ioError("spill journal " + path_ + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (op.sync) ::fdatasync(fd_);
  size_ += line.size();
  ++pending_;
  return Status::ok();
}

Result<std::optional<Op>> Journal::peek() {
  if (pending_ == 0 || read_ >= size_) return std::optional<Op>{};
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(read_));
  std::string line;
  if (!std::getline(in_, line)) {
    in_.clear();
    return Status::ioError("spill journal " + path_ + ": cannot read at byte " +
                           std::to_string(read_));
  }
  next_ = read_ + line.size() + 1;
  auto op = decodeOp(line);
  if (!op)
    return op.status().withContext("spill journal " + path_ + " byte " + std::to_string(read_));
  return std::optional<Op>(std::move(*op));
}

void Journal::skip() {
  if (next_ > read_) {
    read_ = next_;
  } else {
    // Unreadable line: find its end.
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(read_));
    std::string line;
    std::getline(in_, line);
    read_ += line.size() + 1;
    in_.clear();
  }
  if (read_ > size_) read_ = size_;
  if (pending_ > 0) --pending_;
}

void Journal::savePosition() {
  const std::string tmp = path_ + ".pos.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << read_ << '\n';
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_ + ".pos", ec);
}

void Journal::reset() {
  if (::ftruncate(fd_, 0) == 0) {
    size_ = 0;
    read_ = 0;
    next_ = 0;
    pending_ = 0;
  }
  std::error_code ec;
  std::filesystem::remove(path_ + ".pos", ec);
}

}  // namespace riposte::pg
