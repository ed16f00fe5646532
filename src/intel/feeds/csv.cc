// CSV feeds with a configurable value column (abuse.ch Feodo Tracker, URLhaus, SSLBL, MISP CSV).
#include <algorithm>
#include <cctype>

#include "intel/feeds/common.h"
#include "riposte/intel/feed.h"

namespace riposte::intel {
namespace {

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Reads one RFC 4180 record starting at `pos`; quoted fields may hold delimiters, "" and
// newlines. Returns false at the end of the data; `lines` counts the lines the record spans.
bool readRecord(std::string_view data, size_t& pos, char delim, std::vector<std::string>& cells,
                size_t& lines, bool& unterminated) {
  cells.clear();
  lines = 0;
  unterminated = false;
  if (pos >= data.size()) return false;
  std::string cell;
  bool quoted = false;
  bool was_quoted = false;
  size_t i = pos;
  for (; i < data.size(); ++i) {
    const char c = data[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < data.size() && data[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++lines;
        cell += c;
      }
      continue;
    }
    if (c == '"' && !was_quoted &&
        std::all_of(cell.begin(), cell.end(), [](char x) { return x == ' '; })) {
      cell.clear();
      quoted = true;
      was_quoted = true;
    } else if (c == delim) {
      cells.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (quoted) unterminated = true;
  cells.push_back(std::move(cell));
  ++lines;
  pos = i + 1;
  return true;
}

int findColumn(const std::vector<std::string>& header, const std::string& name) {
  if (name.empty()) return -1;
  const std::string want = lowerCopy(name);
  for (size_t i = 0; i < header.size(); ++i) {
    if (lowerCopy(feeds::trimView(header[i])) == want) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

ParseResult parseCsv(std::string_view data, const FeedOptions& o) {
  ParseResult r;
  if (o.column.empty() && o.column_index < 0) {
    r.report.status =
        Status::invalidArgument("csv feed '" + o.source + "': no value column configured");
    return r;
  }
  std::vector<std::string> header;
  bool have_header = false;
  int value_col = o.column_index;
  std::vector<int> tag_cols;
  int first_col = -1;
  int last_col = -1;
  int ref_col = -1;
  auto useHeader = [&](std::vector<std::string> h) {
    header = std::move(h);
    have_header = true;
    if (!o.column.empty()) value_col = findColumn(header, o.column);
    tag_cols.clear();
    for (const auto& t : o.tag_columns) tag_cols.push_back(findColumn(header, t));
    first_col = findColumn(header, o.first_seen_column);
    last_col = findColumn(header, o.last_seen_column);
    ref_col = findColumn(header, o.reference_column);
  };
  if (o.column.empty()) useHeader({});  // index only: header names unused
  have_header = o.column.empty();

  std::vector<std::string> cells;
  std::vector<std::string> last_comment_cells;
  size_t pos = 0;
  size_t line_no = 1;
  size_t lines = 0;
  bool unterminated = false;
  bool seen_data = false;
  while (pos < data.size()) {
    const size_t record_line = line_no;
    // Comment lines: remember the last one, it may be the header (URLhaus).
    {
      size_t p = pos;
      while (p < data.size() && (data[p] == ' ' || data[p] == '\t')) ++p;
      if (p < data.size() && data[p] == '#') {
        size_t end = data.find('\n', p);
        if (end == std::string_view::npos) end = data.size();
        std::string_view text = feeds::trimView(data.substr(p + 1, end - p - 1));
        size_t q = 0;
        std::vector<std::string> c;
        size_t l = 0;
        bool u = false;
        readRecord(text, q, o.delimiter, c, l, u);
        if (!have_header && !o.column.empty() && findColumn(c, o.column) >= 0) {
          last_comment_cells = std::move(c);
        }
        pos = end + 1;
        ++line_no;
        continue;
      }
    }
    if (!readRecord(data, pos, o.delimiter, cells, lines, unterminated)) break;
    line_no += lines;
    if (cells.size() == 1 && feeds::trimView(cells[0]).empty()) continue;  // blank line
    const std::string where = "line " + std::to_string(record_line);
    if (!have_header) {
      if (findColumn(cells, o.column) >= 0) {  // an uncommented header (Feodo Tracker)
        useHeader(cells);
        continue;
      }
      if (!last_comment_cells.empty()) {
        useHeader(std::move(last_comment_cells));
        last_comment_cells.clear();
      } else {
        r.report.status =
            Status::invalidArgument("csv feed '" + o.source + "': column '" + o.column +
                                    "' not found in a header before " + where);
        return r;
      }
    }
    ++r.report.items;
    if (unterminated) {
      r.report.error(where, "unterminated quoted field", "", o.max_error_samples);
      continue;
    }
    if (value_col < 0 || static_cast<size_t>(value_col) >= cells.size()) {
      r.report.error(where, "missing column", "row has " + std::to_string(cells.size()) + " cells",
                     o.max_error_samples);
      continue;
    }
    const std::string_view raw = feeds::trimView(cells[static_cast<size_t>(value_col)]);
    auto v = o.type ? normalise(*o.type, raw) : classify(raw);
    if (!v) {
      if (!seen_data && o.column.empty()) {  // a header row read by index
        --r.report.items;
        seen_data = true;
        continue;
      }
      r.report.error(where, "invalid value", v.status().message(), o.max_error_samples);
      continue;
    }
    seen_data = true;
    Indicator ind = feeds::makeIndicator(std::move(*v), o);
    auto cell = [&](int col) -> std::string_view {
      return col >= 0 && static_cast<size_t>(col) < cells.size()
                 ? feeds::trimView(cells[static_cast<size_t>(col)])
                 : std::string_view{};
    };
    for (int tc : tag_cols) {
      std::string_view t = cell(tc);
      while (!t.empty()) {
        const size_t comma = t.find(',');
        feeds::addTag(ind, feeds::trimView(t.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        t.remove_prefix(comma + 1);
      }
    }
    if (auto ts = parseFeedTime(cell(first_col))) ind.first_seen = *ts;
    if (auto ts = parseFeedTime(cell(last_col))) ind.last_seen = *ts;
    ind.reference = std::string(cell(ref_col));
    r.indicators.push_back(std::move(ind));
    ++r.report.indicators;
  }
  return r;
}

}  // namespace riposte::intel
