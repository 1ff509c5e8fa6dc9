// Walks a rig file's YAML tree remembering the dotted path, so that every error names the file, the line
// and the field. Strict: a mapping may hold only the keys its section knows (a typo is an error with the
// closest known key, never a silently kept default), no key twice, and numbers within physical sense.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace flywheel {

// The allowed values of a number, stated in its error: "(0 < value <= 50 rad/s)".
struct Range {
  double min;
  double max;
  const char* unit = "";
  bool minExclusive = false;
  std::string describe() const;
};

using KnownKeys = std::initializer_list<std::string_view>;

// The known key closest to `key` by edit distance, or "" when none is close enough to be a typo.
std::string closestKey(std::string_view key, KnownKeys known);

class Field {
 public:
  Field(const YAML::Node& node, std::string path, const std::string& file)
      : node_(node), path_(std::move(path)), file_(file) {}

  [[noreturn]] void fail(const std::string& problem) const;

  // A mapping whose keys are all in `known`, each once; otherwise fails at the offending key's line.
  void allowOnly(KnownKeys known) const;

  bool has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }
  Field child(const std::string& key) const;
  // A field that is not there, reported at its parent's line.
  Field absent(const std::string& key) const { return Field(node_, childPathOf(key), file_); }
  std::vector<Field> items() const;

  std::string text() const;
  // A name (of the rig, an arm, a joint, a camera): 1..64 bytes of UTF-8, no '/' nor control characters.
  std::string name() const;
  double number() const;  // any finite number
  double number(const Range& range) const;
  long long integer(const Range& range) const;
  bool boolean() const;

  double numberOr(const std::string& key, double fallback, const Range& range) const {
    return has(key) ? child(key).number(range) : fallback;
  }
  std::string textOr(const std::string& key, const std::string& fallback) const {
    return has(key) ? child(key).text() : fallback;
  }
  template <std::size_t N>
  std::array<double, N> vector(const Range& range) const {
    auto list = items();
    if (list.size() != N) fail("must be a list of " + std::to_string(N) + " numbers");
    std::array<double, N> result{};
    for (std::size_t i = 0; i < N; ++i)
      result[i] = list[i].number(range);
    return result;
  }

  const std::string& path() const { return path_; }

 private:
  std::string childPathOf(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string scalar(const char* expected) const;
  double parseNumber(const std::string& written) const;  // YAML's reading of it, or a clear error

  YAML::Node node_;
  std::string path_;
  const std::string& file_;
};

// Fails with the line and byte of the first byte that is not UTF-8.
void requireUtf8Text(const std::string& text, const std::string& file);

}  // namespace flywheel
