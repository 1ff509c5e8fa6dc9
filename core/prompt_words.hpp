// The words of a language prompt, as the simulated world reads an instruction and as a prompt-conditioned
// model sees it: lowercased ASCII letters, split on everything else ("Put the cube in the LEFT bin!" →
// put, the, cube, in, the, left, bin). A vocabulary maps words to the ids a model's embedding is indexed
// by: 0 is padding (no word), 1 is <unk> (a word not seen in training), then the training words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace flywheel {

std::vector<std::string> promptWords(const std::string& prompt);

class PromptVocabulary {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kUnknown = 1;

  PromptVocabulary() = default;
  // Every word of `prompts`, sorted (a stable order, whatever the order of the episodes).
  static PromptVocabulary fromPrompts(const std::vector<std::string>& prompts);
  // As stored in flywheel.json: "<pad>", "<unk>", then the words. Throws std::invalid_argument when the
  // list does not start so, holds a duplicate or a word the tokeniser could not produce.
  static PromptVocabulary fromList(const std::vector<std::string>& list);

  const std::vector<std::string>& list() const { return list_; }
  std::size_t size() const { return list_.size(); }
  // One id per word (unknown words: kUnknown); an empty prompt gives no ids.
  std::vector<std::int64_t> ids(const std::string& prompt) const;

 private:
  std::vector<std::string> list_{"<pad>", "<unk>"};
};

}  // namespace flywheel
