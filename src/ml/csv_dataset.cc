#include "riposte/ml/csv_dataset.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace riposte::ml {

namespace {

// Splits one CSV record (no embedded newlines) into fields; double quotes may enclose a field
// and "" inside them is a quote. Returns false on an unterminated quote.
bool splitRecord(std::string_view line, char delim, std::vector<std::string>& out) {
  out.clear();
  std::string cur;
  bool quoted = false;
  bool was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == delim) {
      out.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) return false;
  out.push_back(std::move(cur));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// A finite number, or nullopt.
std::optional<double> number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Resolves a column given by name or 0-based index.
std::optional<size_t> columnIndex(const std::string& spec, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == spec) return i;
  }
  if (auto n = number(spec);
      n && *n >= 0 && *n == std::floor(*n) && static_cast<size_t>(*n) < names.size()) {
    return static_cast<size_t>(*n);
  }
  return std::nullopt;
}

}  // namespace

bool inHeldOut(uint64_t line, double holdout, uint64_t split_seed) {
  if (holdout <= 0) return false;
  const double u = static_cast<double>(splitmix64(line ^ splitmix64(split_seed)) >> 11) * 0x1.0p-53;
  return u < holdout;
}

Result<Dataset> loadCsv(const std::string& path, const CsvOptions& opts,
                        const FeatureSchema* schema) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseCsv(ss.str(), path, opts, schema);
}

Result<Dataset> parseCsv(const std::string& text, const std::string& name, const CsvOptions& opts,
                         const FeatureSchema* schema) {
  auto at = [&](uint64_t line, const std::string& msg) {
    return Status::parseError(name + ":" + std::to_string(line) + ": " + msg);
  };
  if (opts.holdout < 0 || opts.holdout >= 1) {
    return Status::invalidArgument("held-out fraction must be in [0, 1)");
  }
  if (opts.normal_only && opts.label_column.empty()) {
    return Status::invalidArgument("selecting normal rows needs a label column");
  }
  // Records: (line number, fields).
  std::vector<std::pair<uint64_t, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  uint64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    if (!splitRecord(line, opts.delimiter, fields)) return at(line_no, "unterminated quote");
    records.emplace_back(line_no, fields);
  }
  if (records.empty()) return Status::invalidArgument(name + ": no rows");

  // Header.
  const size_t width = records.front().second.size();
  bool header = false;
  if (opts.header) {
    header = *opts.header;
  } else {
    header = true;
    for (const auto& f : records.front().second) {
      if (number(f)) header = false;
    }
  }
  std::vector<std::string> names;
  if (header) {
    for (const auto& f : records.front().second) names.emplace_back(trim(f));
  } else {
    for (size_t i = 0; i < width; ++i) names.push_back("c" + std::to_string(i));
  }
  const size_t first = header ? 1 : 0;
  for (size_t r = first; r < records.size(); ++r) {
    if (records[r].second.size() != width) {
      return at(records[r].first, "expected " + std::to_string(width) + " fields, found " +
                                      std::to_string(records[r].second.size()));
    }
  }
  if (records.size() == first) return Status::invalidArgument(name + ": no data rows");

  // Label and dropped columns.
  std::optional<size_t> label;
  if (!opts.label_column.empty()) {
    label = columnIndex(opts.label_column, names);
    if (!label) {
      return Status::invalidArgument(name + ": no label column '" + opts.label_column + "' (" +
                                     std::to_string(width) + " columns" +
                                     (header ? "" : ", give a 0-based index") + ")");
    }
  }
  std::vector<bool> skip(width, false);
  if (label) skip[*label] = true;
  for (const auto& d : opts.drop) {
    auto i = columnIndex(d, names);
    if (!i) return Status::invalidArgument(name + ": no column '" + d + "' to drop");
    skip[*i] = true;
  }

  Dataset ds;
  // Feature columns, in file order, and how each maps to features.
  struct Col {
    size_t index;
    bool categorical;
    size_t offset;                      // first feature
    std::map<std::string, size_t> cat;  // category → feature offset within the column
  };
  std::vector<Col> cols;
  if (schema != nullptr) {
    ds.schema = *schema;
    if (schema->columns.empty()) {
      return Status::invalidArgument("model schema " + schema->name +
                                     " does not describe CSV columns");
    }
    size_t offset = 0;
    for (const auto& sc : schema->columns) {
      const std::optional<size_t> idx = columnIndex(sc.name, names);
      if (!idx || skip[*idx]) {
        return Status::failedPrecondition(name + ": the model's column '" + sc.name +
                                          "' is not in the file");
      }
      Col c{*idx, sc.categorical, offset, {}};
      for (size_t k = 0; k < sc.categories.size(); ++k) c.cat.emplace(sc.categories[k], k);
      offset += sc.categorical ? sc.categories.size() : 1;
      cols.push_back(std::move(c));
    }
  } else {
    ds.schema.name = "csv";
    ds.schema.version = 1;
    const auto& row0 = records[first].second;
    for (size_t i = 0; i < width; ++i) {
      if (skip[i]) continue;
      cols.push_back(Col{i, !number(row0[i]).has_value(), 0, {}});
    }
    // Categories in order of first appearance.
    for (auto& c : cols) {
      if (!c.categorical) continue;
      for (size_t r = first; r < records.size(); ++r) {
        std::string v(trim(records[r].second[c.index]));
        c.cat.emplace(v, c.cat.size());
      }
    }
    size_t offset = 0;
    for (auto& c : cols) {
      CsvColumn sc;
      sc.name = names[c.index];
      sc.categorical = c.categorical;
      c.offset = offset;
      if (c.categorical) {
        sc.categories.resize(c.cat.size());
        for (const auto& [v, k] : c.cat) sc.categories[k] = v;
        for (const auto& v : sc.categories) ds.schema.features.push_back(sc.name + "=" + v);
        offset += sc.categories.size();
      } else {
        ds.schema.features.push_back(sc.name);
        offset += 1;
      }
      ds.schema.columns.push_back(std::move(sc));
    }
  }
  const size_t dim = ds.schema.dim();
  if (dim == 0) return Status::invalidArgument(name + ": no feature columns");

  std::vector<float> row(dim);
  for (size_t r = first; r < records.size(); ++r) {
    const uint64_t ln = records[r].first;
    const auto& f = records[r].second;
    if (opts.part != CsvOptions::Part::kAll) {
      const bool held = inHeldOut(ln, opts.holdout, opts.split_seed);
      if (held != (opts.part == CsvOptions::Part::kHeldOut)) {
        ++ds.rows_skipped;
        continue;
      }
    }
    int8_t y = 0;
    if (label) {
      const std::string_view v = trim(f[*label]);
      if (v.empty()) return at(ln, "empty label in column '" + names[*label] + "'");
      auto n = number(v);
      y = (v == opts.normal_value || (n && *n == 0 && !number(opts.normal_value))) ? 0 : 1;
      if (opts.normal_only && y != 0) {
        ++ds.rows_skipped;
        continue;
      }
    }
    std::fill(row.begin(), row.end(), 0.0f);
    for (const auto& c : cols) {
      const std::string_view v = trim(f[c.index]);
      if (c.categorical) {
        auto it = c.cat.find(std::string(v));
        if (it == c.cat.end()) {
          ++ds.unknown_categories;
        } else {
          row[c.offset + it->second] = 1.0f;
        }
        continue;
      }
      auto n = number(v);
      if (!n) {
        return at(ln, "column '" + names[c.index] + "': " +
                          (v.empty() ? std::string("empty value")
                                     : "'" + std::string(v) + "' is not a finite number") +
                          " in a numeric column");
      }
      const auto fv = static_cast<float>(*n);
      if (!std::isfinite(fv)) {
        return at(ln, "column '" + names[c.index] + "': " + std::string(v) + " is out of range");
      }
      row[c.offset] = fv;
    }
    ds.x.insert(ds.x.end(), row.begin(), row.end());
    if (label) ds.labels.push_back(y);
    ds.lines.push_back(ln);
  }
  return ds;
}

}  // namespace riposte::ml
