// Which episodes a curated export takes (filters over the dataset index, all of them combined) and how
// they are split into train and validation: by whole episode, with a seed, the same on every machine.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "recorder/dataset_index.hpp"

namespace flywheel {

enum class Outcome { Success, Failure, Unknown };
std::optional<Outcome> parseOutcome(const std::string& text);  // "success", "failure", "unknown"

enum class EpisodeKind { Any, Demonstration, PolicyRun };
std::optional<EpisodeKind> parseEpisodeKind(const std::string& text);  // "any", "demonstration", "policy-run"

// Empty lists match everything; a non-empty list matches any of its values, except tags: every tag asked
// for must be on the episode.
struct ExportFilter {
  std::vector<std::string> tasks;
  bool labelledOnly = false;
  std::vector<Outcome> outcomes;
  std::vector<Verdict> verdicts;
  std::vector<std::string> tags;
  std::vector<std::string> operators;
  EpisodeKind kind = EpisodeKind::Any;
};

// `policyRun`: the file names the policy that drove it (root attribute `policy`).
bool matches(const ExportFilter& filter, const EpisodeEntry& entry, bool policyRun);

// For n episodes in a fixed order: true for those held out for validation. round(n * fraction) of them,
// but never all of them (one episode stays in train), chosen by a Fisher-Yates shuffle on mt19937(seed).
std::vector<bool> validationSplit(std::size_t n, double fraction, unsigned seed);

}  // namespace flywheel
