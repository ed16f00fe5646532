#include "riposte/ml/model_file.h"
#include "riposte/core/digest.h"

#include <openssl/evp.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace riposte::ml {

namespace {

constexpr char kMagic[8] = {'R', 'I', 'P', 'O', 'S', 'T', 'E', 'M'};
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 32;
// Refuse absurd sizes before allocating (a forest of 100k trees of height 16 is far below).
constexpr uint64_t kMaxPayload = uint64_t{4} << 30;


template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

template <typename T>
void putArray(std::string& out, const std::vector<T>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Reads from a byte range, failing cleanly past its end.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), n_(n) {}
  template <typename T>
  bool get(T& v) {
    if (n_ - pos_ < sizeof(T)) return false;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  template <typename T>
  bool getArray(std::vector<T>& v, size_t count) {
    if (count > (n_ - pos_) / sizeof(T)) return false;
    v.resize(count);
    std::memcpy(v.data(), p_ + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return true;
  }
  bool getString(std::string& s, size_t len) {
    if (n_ - pos_ < len) return false;
    s.assign(p_ + pos_, len);
    pos_ += len;
    return true;
  }
  size_t remaining() const { return n_ - pos_; }

 private:
  const char* p_;
  size_t n_;
  size_t pos_ = 0;
};


}  // namespace

std::string serializeModel(const Model& m) {
  const IsolationForest& f = m.forest;
  nlohmann::json meta;
  meta["schema"] = nlohmann::json::parse(m.schema.toJson());
  const TrainingInfo& t = m.training;
  meta["training"] = {{"rows", t.rows},
                      {"source", t.source},
                      {"trained_at", formatRfc3339Utc(t.trained_at)},
                      {"train_seconds", t.train_seconds},
                      {"trees", t.params.trees},
                      {"sample", t.params.sample},
                      {"max_features", t.params.max_features},
                      {"seed", t.params.seed},
                      {"label_column", t.label_column},
                      {"normal_value", t.normal_value}};
  meta["forest"] = {{"dim", f.dim()},
                    {"trees", f.trees()},
                    {"height", f.height()},
                    {"sample_used", f.sampleUsed()}};
  const std::string json = meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string payload;
  put<uint32_t>(payload, static_cast<uint32_t>(json.size()));
  payload += json;
  put<uint32_t>(payload, f.dim());
  put<uint32_t>(payload, f.trees());
  put<uint32_t>(payload, f.height());
  put<uint32_t>(payload, f.sampleUsed());
  putArray(payload, f.features());
  putArray(payload, f.thresholds());
  putArray(payload, f.leaves());

  std::string out(kMagic, sizeof(kMagic));
  put<uint32_t>(out, kModelFormatVersion);
  put<uint32_t>(out, 0);
  put<uint64_t>(out, payload.size());
  unsigned char digest[32];
  sha256(payload, digest);
  out.append(reinterpret_cast<const char*>(digest), 32);
  out += payload;
  return out;
}

Result<Model> parseModel(const std::string& bytes, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Status::parseError("model " + name + ": " + why + "; the model is not used");
  };
  if (bytes.size() < kHeaderSize) {
    return bad("truncated (" + std::to_string(bytes.size()) + " bytes, the header alone is " +
               std::to_string(kHeaderSize) + ")");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return bad("not a Riposte model file (bad magic)");
  }
  Reader h(bytes.data() + 8, kHeaderSize - 8);
  uint32_t version = 0, reserved = 0;
  uint64_t size = 0;
  (void)h.get(version);
  (void)h.get(reserved);
  (void)h.get(size);
  if (version != kModelFormatVersion) {
    return bad("format version " + std::to_string(version) + ", this build reads version " +
               std::to_string(kModelFormatVersion));
  }
  if (size > kMaxPayload) return bad("payload size " + std::to_string(size) + " is implausible");
  if (bytes.size() - kHeaderSize != size) {
    return bad(bytes.size() - kHeaderSize < size
                   ? "truncated (payload has " + std::to_string(bytes.size() - kHeaderSize) +
                         " of " + std::to_string(size) + " bytes)"
                   : "trailing bytes after the payload");
  }
  const std::string payload = bytes.substr(kHeaderSize);
  unsigned char digest[32];
  sha256(payload, digest);
  const auto* stored = reinterpret_cast<const unsigned char*>(bytes.data() + kHeaderSize - 32);
  if (std::memcmp(digest, stored, 32) != 0) {
    return bad("checksum mismatch (SHA-256 of the payload is " + hexEncode(digest, 32) +
               ", the header says " + hexEncode(stored, 32) + "): the file is corrupt");
  }
  Reader r(payload.data(), payload.size());
  uint32_t json_len = 0;
  std::string json;
  if (!r.get(json_len) || !r.getString(json, json_len)) return bad("metadata truncated");
  auto meta = nlohmann::json::parse(json, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) return bad("metadata is not JSON");
  Model m;
  try {
    auto schema = FeatureSchema::fromJson(meta.at("schema").dump());
    if (!schema) return bad(schema.status().message());
    m.schema = std::move(*schema);
    const auto& t = meta.at("training");
    m.training.rows = t.at("rows").get<uint64_t>();
    m.training.source = t.at("source").get<std::string>();
    if (auto ts = parseRfc3339(t.at("trained_at").get<std::string>())) m.training.trained_at = *ts;
    m.training.train_seconds = t.at("train_seconds").get<double>();
    m.training.params.trees = t.at("trees").get<uint32_t>();
    m.training.params.sample = t.at("sample").get<uint32_t>();
    m.training.params.max_features = t.at("max_features").get<uint32_t>();
    m.training.params.seed = t.at("seed").get<uint64_t>();
    m.training.label_column = t.value("label_column", std::string());
    m.training.normal_value = t.value("normal_value", std::string());
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("metadata: ") + e.what());
  }
  uint32_t dim = 0, trees = 0, height = 0, sample_used = 0;
  if (!r.get(dim) || !r.get(trees) || !r.get(height) || !r.get(sample_used)) {
    return bad("forest header truncated");
  }
  if (height == 0 || height > 16 || trees == 0 || trees > 100'000) {
    return bad("forest shape out of range (trees " + std::to_string(trees) + ", height " +
               std::to_string(height) + ")");
  }
  if (dim != m.schema.dim()) {
    return bad("forest has " + std::to_string(dim) + " features, its schema names " +
               std::to_string(m.schema.dim()));
  }
  const size_t inner = ((size_t{1} << height) - 1) * trees;
  const size_t slots = (size_t{1} << height) * trees;
  std::vector<uint16_t> features;
  std::vector<float> thresholds, leaves;
  if (!r.getArray(features, inner) || !r.getArray(thresholds, inner) ||
      !r.getArray(leaves, slots)) {
    return bad("forest arrays truncated");
  }
  if (r.remaining() != 0) return bad("unexpected bytes after the forest");
  auto forest = IsolationForest::fromArrays(dim, trees, height, sample_used, std::move(features),
                                            std::move(thresholds), std::move(leaves));
  if (!forest) return bad(forest.status().message());
  m.forest = std::move(*forest);
  return m;
}

Status saveModel(const Model& m, const std::string& path) {
  const std::string bytes = serializeModel(m);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::ioError("cannot write " + tmp + ": " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::ioError("writing " + tmp + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::ioError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::ok();
}

Result<Model> loadModel(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("model " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseModel(ss.str(), path);
}

std::string describeModel(const Model& m) {
  std::ostringstream o;
  const auto& t = m.training;
  o << "format:        riposte model v" << kModelFormatVersion << "\n";
  o << "schema:        " << m.schema.name << " v" << m.schema.version;
  if (!m.schema.entity.empty()) o << " (entity " << m.schema.entity << ")";
  o << "\n";
  o << "features:      " << m.schema.dim() << "\n";
  const size_t show = std::min<size_t>(m.schema.dim(), 40);
  for (size_t i = 0; i < show; ++i) o << "  " << i << "  " << m.schema.features[i] << "\n";
  if (show < m.schema.dim()) o << "  ... " << (m.schema.dim() - show) << " more\n";
  o << "trained:       " << formatRfc3339Utc(t.trained_at) << " on " << t.rows << " rows from "
    << t.source << " in " << t.train_seconds << " s\n";
  if (!t.label_column.empty()) {
    o << "normal rows:   label column " << t.label_column << " = " << t.normal_value << "\n";
  }
  o << "parameters:    trees " << t.params.trees << ", sample " << t.params.sample
    << ", max features "
    << (t.params.max_features == 0 ? std::string("all") : std::to_string(t.params.max_features))
    << ", seed " << t.params.seed << "\n";
  o << "forest:        " << m.forest.trees() << " trees of height " << m.forest.height() << ", "
    << m.forest.sampleUsed()
    << " rows per tree, c(n) = " << averagePathLength(m.forest.sampleUsed()) << "\n";
  return o.str();
}

}  // namespace riposte::ml
