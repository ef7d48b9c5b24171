// EmbeddingGemma's task prompts: the plain-text prefixes its model card prescribes.
#ifndef GGUFEMBED_TEXT_PROMPTS_H_
#define GGUFEMBED_TEXT_PROMPTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "ggufembed/status.h"

namespace ggufembed {

// The prompt names: query, document, question-answering, fact-checking, classification,
// clustering, sentence-similarity, code-retrieval.
const std::vector<std::string>& PromptNames();

// The prefix for prompt `name`: "task: search result | query: " for query, "title: {title} |
// text: " for document ("none" when `title` is empty), "task: {task} | query: " for the others.
// An unknown name, or a title with a prompt other than document, is kInvalidArgument.
Result<std::string> PromptPrefix(std::string_view name, std::string_view title);
// The same, appended to `out` (no allocation when it has room).
Status AppendPromptPrefix(std::string_view name, std::string_view title, std::string* out);

}  // namespace ggufembed

#endif  // GGUFEMBED_TEXT_PROMPTS_H_
