#include "recorder/export_selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace flywheel {

namespace {

template <typename T>
bool anyOf(const std::vector<T>& wanted, const T& value) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), value) != wanted.end();
}

Outcome outcomeOf(const EpisodeEntry& entry) {
  if (!entry.success) return Outcome::Unknown;
  return *entry.success ? Outcome::Success : Outcome::Failure;
}

}  // namespace

std::optional<Outcome> parseOutcome(const std::string& text) {
  if (text == "success") return Outcome::Success;
  if (text == "failure") return Outcome::Failure;
  if (text == "unknown") return Outcome::Unknown;
  return std::nullopt;
}

std::optional<EpisodeKind> parseEpisodeKind(const std::string& text) {
  if (text == "any") return EpisodeKind::Any;
  if (text == "demonstration") return EpisodeKind::Demonstration;
  if (text == "policy-run") return EpisodeKind::PolicyRun;
  return std::nullopt;
}

bool matches(const ExportFilter& filter, const EpisodeEntry& entry, bool policyRun) {
  if (filter.labelledOnly && !entry.labelled()) return false;
  if (!anyOf(filter.tasks, entry.task) || !anyOf(filter.operators, entry.operatorName)) return false;
  if (!anyOf(filter.outcomes, outcomeOf(entry)) || !anyOf(filter.verdicts, entry.verdict)) return false;
  for (const std::string& tag : filter.tags)
    if (std::find(entry.tags.begin(), entry.tags.end(), tag) == entry.tags.end()) return false;
  if (filter.kind == EpisodeKind::Demonstration && policyRun) return false;
  if (filter.kind == EpisodeKind::PolicyRun && !policyRun) return false;
  return true;
}

std::vector<bool> validationSplit(std::size_t n, double fraction, unsigned seed) {
  std::vector<bool> held(n, false);
  if (n < 2 || !(fraction > 0.0)) return held;
  const auto wanted =
      static_cast<std::size_t>(std::llround(static_cast<double>(n) * std::min(fraction, 1.0)));
  const std::size_t count = std::min(wanted, n - 1);
  // Our own Fisher-Yates: std::shuffle's order differs between standard libraries, mt19937's does not.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 random(seed);
  for (std::size_t i = n - 1; i > 0; --i)
    std::swap(order[i], order[random() % (i + 1)]);
  for (std::size_t i = 0; i < count; ++i)
    held[order[i]] = true;
  return held;
}

}  // namespace flywheel
