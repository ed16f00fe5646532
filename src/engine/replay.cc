#include "riposte/engine/replay.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "riposte/ingest/line_splitter.h"

namespace riposte {

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kSampleLines = 64;

gzFile openInput(const std::string& path) {
  if (path == "-") return gzdopen(dup(0), "rb");
  return gzopen(path.c_str(), "rb");
}

// Reads the first non-empty lines of a file for parser detection.
Result<std::vector<std::string>> sampleLines(const std::string& path) {
  if (path == "-") return std::vector<std::string>{};  // stdin cannot be rewound
  gzFile f = openInput(path);
  if (f == nullptr) return Status::ioError(path + ": " + std::strerror(errno));
  std::vector<std::string> out;
  std::string buf(kChunk, '\0');
  LineSplitter split;
  const int n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
  if (n > 0) {
    split.feed(std::string_view(buf.data(), static_cast<size_t>(n)),
               [&](std::string_view line, uint64_t, bool) {
                 if (!line.empty() && out.size() < kSampleLines) out.emplace_back(line);
               });
  }
  split.finish([&](std::string_view line, uint64_t, bool) {
    if (!line.empty() && out.size() < kSampleLines) out.emplace_back(line);
  });
  gzclose(f);
  return out;
}

// A plain regular file mapped into memory: its lines are read in place, without the copy into
// a read buffer. Null for standard input, gzip files and anything that cannot be mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    if (path == "-") return;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    unsigned char magic[2] = {0, 0};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        ::pread(fd, magic, 2, 0) == 2 && !(magic[0] == 0x1f && magic[1] == 0x8b)) {
      // Pages are mapped up front (one pass instead of a fault per page) up to 1 GiB.
      const int populate = st.st_size <= (off_t{1} << 30) ? MAP_POPULATE : 0;
      void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | populate,
                       fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p);
        size_ = static_cast<size_t>(st.st_size);
        ::madvise(p, size_, MADV_SEQUENTIAL);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool ok() const { return data_ != nullptr; }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

Result<std::string> detectParser(const Registries& registries,
                                 const std::vector<std::string>& sample, const ParseContext& ctx) {
  std::string best;
  size_t best_parsed = 0;
  Event ev;
  FactoryContext fctx;
  for (const auto& name : registries.parsers.names()) {
    ComponentConfig cc;
    cc.name = name;
    cc.type = name;
    auto p = registries.parsers.create(cc, fctx);
    if (!p) continue;
    size_t parsed = 0;
    for (const auto& line : sample) {
      ev.clear();
      ev.setRaw(line);
      if ((*p)->parse(line, ctx, ev) == ParseResult::kParsed) ++parsed;
    }
    if (parsed > best_parsed) {
      best_parsed = parsed;
      best = name;
    }
  }
  if (best.empty()) {
    return Status::notFound("no parser recognises these lines (known: " +
                            registries.parsers.namesJoined() + "); use --type");
  }
  return best;
}

Result<ReplaySummary> replay(Engine& engine, const Registries& registries,
                             const ReplayOptions& options) {
  ReplaySummary summary;
  const auto start = std::chrono::steady_clock::now();
  ParseContext ctx;
  ctx.year = options.year;
  ctx.reference = Timestamp::now();
  std::string buf(kChunk, '\0');
  for (const auto& path : options.files) {
    std::string type = options.type;
    if (type.empty()) {
      auto sample = sampleLines(path);
      if (!sample) return sample.status();
      if (sample->empty()) {
        type = "sshd";  // stdin or an empty file: the historical default
      } else {
        auto detected = detectParser(registries, *sample, ctx);
        if (!detected) return detected.status().withContext(path);
        type = *detected;
      }
    }
    summary.parser_per_file.emplace_back(path, type);
    auto parser = engine.parser(type);
    if (!parser) return parser.status();
    LineSplitter split;
    const std::string_view file_name = path;
    const LineSplitter::Sink sink = [&](std::string_view line, uint64_t off, bool) {
      engine.process(**parser, ctx, SourceLine{line, file_name, off, {}, false});
    };
    if (MappedFile m(path); m.ok()) {
      summary.bytes += m.view().size();
      split.feed(m.view(), sink);
      split.finish(sink);
      summary.truncated_lines += split.truncatedLines();
      continue;
    }
    gzFile f = openInput(path);
    if (f == nullptr) return Status::ioError(path + ": " + std::strerror(errno));
    int n = 0;
    while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) {
      summary.bytes += static_cast<uint64_t>(n);
      split.feed(std::string_view(buf.data(), static_cast<size_t>(n)), sink);
    }
    int errnum = 0;
    const char* msg = gzerror(f, &errnum);
    const bool failed = n < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR);
    const std::string err = failed ? std::string(msg) : std::string();
    split.finish(sink);
    summary.truncated_lines += split.truncatedLines();
    gzclose(f);
    if (failed) return Status::ioError(path + ": read error: " + err);
  }
  engine.drain();
  summary.stats = engine.stats();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace riposte
