#include "core/config_field.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/config.hpp"
#include "core/utf8.hpp"

namespace flywheel {
namespace {

// Whole numbers print as written (4500000, not 4.5e+06); the rest with 4 significant digits (6.283).
std::string formatLimit(double value) {
  char buffer[32];
  if (value == std::floor(value) && std::abs(value) < 1e15)
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  else
    std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string Range::describe() const {
  std::string text = formatLimit(min) + (minExclusive ? " < " : " <= ") + "value <= " + formatLimit(max);
  if (unit && *unit) text += std::string(" ") + unit;
  return text;
}

std::string closestKey(std::string_view key, KnownKeys known) {
  std::string best;
  std::size_t bestDistance = std::max<std::size_t>(1, std::min<std::size_t>(3, key.size() / 3)) + 1;
  for (std::string_view candidate : known) {
    std::string lowered(key);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
    const std::size_t distance = std::min(editDistance(key, candidate), editDistance(lowered, candidate));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

void Field::fail(const std::string& problem) const {
  std::ostringstream out;
  out << file_;
  if (node_.IsDefined() && node_.Mark().line >= 0) out << ":" << node_.Mark().line + 1;
  out << ": " << (path_.empty() ? "(top level)" : path_) << ": " << problem;
  throw ConfigError(out.str());
}

void Field::allowOnly(KnownKeys known) const {
  if (!node_.IsMap()) fail("must be a mapping of fields");
  // yaml-cpp keeps every entry of a mapping, duplicates included, in the order written; a lookup
  // returns the first, so a second value would be silently ignored.
  std::map<std::string, int> lineOf;
  for (auto entry = node_.begin(); entry != node_.end(); ++entry) {
    const YAML::Node& keyNode = entry->first;
    if (!keyNode.IsScalar()) Field(keyNode, path_, file_).fail("a key must be a plain word");
    const std::string key = keyNode.Scalar();
    const Field keyField(keyNode, childPathOf(key), file_);
    const int line = keyNode.Mark().line + 1;
    if (auto [first, inserted] = lineOf.emplace(key, line); !inserted)
      keyField.fail("duplicate key (first on line " + std::to_string(first->second) + ", again on line " +
                    std::to_string(line) + ")");
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (std::string problem = utf8Problem(key); !problem.empty())
      Field(keyNode, path_, file_).fail("a key is not valid UTF-8: " + problem);
    if (std::string guess = closestKey(key, known); !guess.empty())
      keyField.fail("unknown key (did you mean " + guess + "?)");
    std::string list;
    for (std::string_view k : known)
      list += (list.empty() ? "" : ", ") + std::string(k);
    keyField.fail("unknown key (known here: " + list + ")");
  }
}

Field Field::child(const std::string& key) const {
  if (!node_.IsMap()) fail("must be a mapping of fields");
  YAML::Node value = node_[key];
  if (!value.IsDefined() || value.IsNull()) absent(key).fail("is required but missing");
  return Field(value, childPathOf(key), file_);
}

std::vector<Field> Field::items() const {
  if (!node_.IsSequence()) fail("must be a list");
  std::vector<Field> result;
  for (std::size_t i = 0; i < node_.size(); ++i)
    result.emplace_back(node_[i], path_ + "[" + std::to_string(i) + "]", file_);
  return result;
}

std::string Field::scalar(const char* expected) const {
  if (!node_.IsScalar()) fail(std::string("must be ") + expected);
  return node_.Scalar();
}

std::string Field::text() const {
  std::string value = scalar("text");
  if (std::string problem = utf8Problem(value); !problem.empty()) fail(problem + "; text must be UTF-8");
  return value;
}

std::string Field::name() const {
  std::string value = text();
  if (value.empty() || value.size() > 64) fail("a name must be 1 to 64 bytes long");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f || c == '/')
      fail("'" + value + "': a name may not hold '/' or control characters");
  return value;
}

double Field::parseNumber(const std::string& written) const {
  try {
    return node_.as<double>();
  } catch (const YAML::Exception&) {
    fail("must be a number, got '" + written + "'");
  }
}

double Field::number() const {
  const std::string written = scalar("a number");
  const double value = parseNumber(written);
  if (!std::isfinite(value)) fail("must be a finite number, got '" + written + "'");
  return value;
}

double Field::number(const Range& range) const {
  const std::string written = scalar("a number");
  const double value = parseNumber(written);
  const bool aboveMin = range.minExclusive ? value > range.min : value >= range.min;
  if (!std::isfinite(value) || !aboveMin || value > range.max)
    fail(written + " is out of range (" + range.describe() + ")");
  return value;
}

long long Field::integer(const Range& range) const {
  const std::string written = scalar("an integer");
  long long value = 0;
  try {
    value = node_.as<long long>();
  } catch (const YAML::Exception&) {
    fail("must be an integer, got '" + written + "'");
  }
  const auto asDouble = static_cast<double>(value);
  const bool aboveMin = range.minExclusive ? asDouble > range.min : asDouble >= range.min;
  if (!aboveMin || asDouble > range.max) fail(written + " is out of range (" + range.describe() + ")");
  return value;
}

bool Field::boolean() const {
  const std::string written = scalar("true or false");
  try {
    return node_.as<bool>();
  } catch (const YAML::Exception&) {
    fail("must be true or false, got '" + written + "'");
  }
}

void requireUtf8Text(const std::string& text, const std::string& file) {
  std::size_t lineStart = 0;
  for (int line = 1; lineStart <= text.size(); ++line) {
    std::size_t lineEnd = text.find('\n', lineStart);
    if (lineEnd == std::string::npos) lineEnd = text.size();
    const std::string problem = utf8Problem(std::string_view(text).substr(lineStart, lineEnd - lineStart));
    if (!problem.empty())
      throw ConfigError(file + ":" + std::to_string(line) + ": in this line, " + problem +
                        "; a rig file must be UTF-8 text");
    lineStart = lineEnd + 1;
  }
}

}  // namespace flywheel
