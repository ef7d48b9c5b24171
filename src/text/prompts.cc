// EmbeddingGemma task prompts (model card and config_sentence_transformers.json).
#include "text/prompts.h"

#include <utility>

#include "util/error.h"
#include "util/json.h"

namespace ggufembed {
namespace {

// Name and prefix; the document prefix takes a title.
const std::vector<std::pair<std::string, std::string>>& Prompts() {
  static const auto* prompts = new std::vector<std::pair<std::string, std::string>>{
      {"query", "task: search result | query: "},
      {"document", "title: {title} | text: "},
      {"question-answering", "task: question answering | query: "},
      {"fact-checking", "task: fact checking | query: "},
      {"classification", "task: classification | query: "},
      {"clustering", "task: clustering | query: "},
      {"sentence-similarity", "task: sentence similarity | query: "},
      {"code-retrieval", "task: code retrieval | query: "},
  };
  return *prompts;
}

}  // namespace

const std::vector<std::string>& PromptNames() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>;
    for (const auto& p : Prompts()) v->push_back(p.first);
    return v;
  }();
  return *names;
}

Result<std::string> PromptPrefix(std::string_view name, std::string_view title) {
  std::string out;
  GGUFEMBED_RETURN_IF_ERROR(AppendPromptPrefix(name, title, &out));
  return out;
}

Status AppendPromptPrefix(std::string_view name, std::string_view title, std::string* out) {
  for (const auto& [prompt_name, prefix] : Prompts()) {
    if (name != prompt_name) continue;
    if (name != "document") {
      if (!title.empty()) {
        return Error(StatusCode::kInvalidArgument,
                     "a title applies to the document prompt only, not to '%s'",
                     prompt_name.c_str());
      }
      out->append(prefix);
      return OkStatus();
    }
    out->append("title: ").append(title.empty() ? "none" : title).append(" | text: ");
    return OkStatus();
  }
  std::string names;
  for (const std::string& n : PromptNames()) names += (names.empty() ? "" : ", ") + n;
  return Error(StatusCode::kInvalidArgument, "unknown prompt '%s' (known: %s)",
               PrintableText(name).c_str(), names.c_str());
}

}  // namespace ggufembed
