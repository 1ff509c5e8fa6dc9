#include "core/prompt_words.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace flywheel {

std::vector<std::string> promptWords(const std::string& prompt) {
  std::vector<std::string> words;
  std::string word;
  for (char c : prompt) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

PromptVocabulary PromptVocabulary::fromPrompts(const std::vector<std::string>& prompts) {
  std::set<std::string> words;
  for (const std::string& prompt : prompts)
    for (std::string& word : promptWords(prompt))
      words.insert(std::move(word));
  PromptVocabulary vocabulary;
  vocabulary.list_.insert(vocabulary.list_.end(), words.begin(), words.end());
  return vocabulary;
}

PromptVocabulary PromptVocabulary::fromList(const std::vector<std::string>& list) {
  if (list.size() < 2 || list[0] != "<pad>" || list[1] != "<unk>")
    throw std::invalid_argument("a vocabulary starts with \"<pad>\", \"<unk>\"");
  std::set<std::string> seen;
  for (std::size_t i = 2; i < list.size(); ++i) {
    const std::string& word = list[i];
    if (promptWords(word) != std::vector<std::string>{word})
      throw std::invalid_argument("vocabulary entry " + std::to_string(i) +
                                  " is not one lowercase word of letters a-z");
    if (!seen.insert(word).second)
      throw std::invalid_argument("vocabulary word '" + word + "' is listed twice");
  }
  PromptVocabulary vocabulary;
  vocabulary.list_ = list;
  return vocabulary;
}

std::vector<std::int64_t> PromptVocabulary::ids(const std::string& prompt) const {
  std::vector<std::int64_t> result;
  for (const std::string& word : promptWords(prompt)) {
    auto found = std::find(list_.begin() + 2, list_.end(), word);
    result.push_back(found == list_.end() ? kUnknown : static_cast<std::int64_t>(found - list_.begin()));
  }
  return result;
}

}  // namespace flywheel
