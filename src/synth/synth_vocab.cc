// Builds the synthetic Gemma-layout SentencePiece vocabulary used by `ggufembed synth`.
#include "synth/synth_vocab.h"

#include <cctype>
#include <cstdio>
#include <string_view>
#include <unordered_set>

#include "util/utf8.h"

namespace ggufembed {
namespace {

const std::string kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

// Frequent English words, most frequent first (merged into whole-word pieces).
// clang-format off
constexpr const char* kWords[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had",
    "by", "not", "word", "but", "what", "some", "we", "can", "out", "other", "were", "all",
    "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which", "do",
    "their", "time", "if", "will", "way", "about", "many", "then", "them", "write", "would",
    "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has", "look",
    "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people", "my",
    "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where",
    "after", "back", "little", "only", "round", "man", "year", "came", "show", "every", "good",
    "me", "give", "our", "under", "name", "very", "through", "just", "form", "sentence", "great",
    "think", "say", "help", "low", "line", "differ", "turn", "cause", "much", "mean", "before",
    "move", "right", "boy", "old", "too", "same", "tell", "does", "set", "three", "want", "air",
    "well", "also", "play", "small", "end", "put", "home", "read", "hand", "port", "large",
    "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow", "act", "why",
    "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth",
    "father", "head", "stand", "own", "page", "should", "country", "found", "answer", "school",
    "grow", "study", "still", "learn", "plant", "cover", "food", "sun", "four", "between",
    "state", "keep", "eye", "never", "last", "let", "thought", "city", "tree", "cross", "farm",
    "hard", "start", "might", "story", "saw", "far", "sea", "draw", "left", "late", "run",
    "while", "press", "close", "night", "real", "life", "few", "north", "open", "seem",
    "together", "next", "white", "children", "begin", "got", "walk", "example", "ease", "paper",
    "group", "always", "music", "those", "both", "mark", "often", "letter", "until", "mile",
    "river", "car", "feet", "care", "second", "book", "carry", "took", "science", "eat", "room",
    "friend", "began", "idea", "fish", "mountain", "stop", "once", "base", "hear", "horse", "cut",
    "sure", "watch", "color", "face", "wood", "main", "enough", "plain", "girl", "usual", "young",
    "ready", "above", "ever", "red", "list", "though", "feel", "talk", "bird", "soon", "body",
    "dog", "family", "direct", "pose", "leave", "song", "measure", "door", "product", "black",
    "short", "numeral", "class", "wind", "question", "happen", "complete", "ship", "area", "half",
    "rock", "order", "fire", "south", "problem", "piece", "told", "knew", "pass", "since", "top",
    "whole", "king", "space", "heard", "best", "hour", "better", "true", "during", "hundred",
    "five", "remember", "step", "early", "hold", "west", "ground", "interest", "reach", "fast",
    "verb", "sing", "listen", "six", "table", "travel", "less", "morning", "ten", "simple",
    "several", "vowel", "toward", "war", "lay", "against", "pattern", "slow", "center", "love",
    "person", "money", "serve", "appear", "road", "map", "rain", "rule", "govern", "pull", "cold",
    "notice", "voice", "unit", "power", "town", "fine", "certain", "fly", "fall", "lead", "cry",
    "dark", "machine", "note", "wait", "plan", "figure", "star", "box", "noun", "field", "rest",
    "correct", "able", "pound", "done", "beauty", "drive", "stood", "contain", "front", "teach",
    "week", "final", "gave", "green", "oh", "quick", "develop", "ocean", "warm", "free",
    "minute", "strong", "special", "mind", "behind", "clear", "tail", "produce", "fact", "street",
    "inch", "multiply", "nothing", "course", "stay", "wheel", "full", "force", "blue", "object",
    "decide", "surface", "deep", "moon", "island", "foot", "system", "busy", "test", "record",
    "boat", "common", "gold", "possible", "plane", "stead", "dry", "wonder", "laugh", "thousand",
    "ago", "ran", "check", "game", "shape", "equate", "hot", "miss", "brought", "heat", "snow",
    "tire", "bring", "yes", "distant", "fill", "east", "paint", "language", "among", "model",
    "embedding", "vector", "search", "query", "document", "text", "data", "code", "function",
    "return", "value", "file", "model", "layer", "token", "network", "learning", "computer",
    "language", "information", "result", "process", "research", "system", "user", "question",
    "answer", "similar", "meaning", "sentence", "retrieval", "classification", "clustering",
    "title", "none", "task", "fact", "checking", "similarity", "quick", "brown", "fox", "jumps",
    "lazy", "weather", "today", "tomorrow", "city", "history", "science", "market", "health",
    "energy", "company", "government", "public", "service", "local", "national", "international",
};
// clang-format on

// Characters of other scripts, as inclusive code point ranges.
struct Range {
  char32_t first, last;
};
constexpr Range kScriptRanges[] = {
    {0x00C0, 0x00FF},    // Latin-1 letters
    {0x0100, 0x017F},    // Latin Extended-A
    {0x0391, 0x03A9},    // Greek capitals
    {0x03B1, 0x03C9},    // Greek small
    {0x0410, 0x044F},    // Cyrillic
    {0x05D0, 0x05EA},    // Hebrew
    {0x0627, 0x064A},    // Arabic letters
    {0x0905, 0x0939},    // Devanagari letters
    {0x093E, 0x094D},    // Devanagari vowel signs and virama
    {0x3041, 0x3096},    // Hiragana
    {0x30A1, 0x30FA},    // Katakana
    {0x4E00, 0x4FFF},    // CJK ideographs (the first 512)
    {0xAC00, 0xAD00},    // Hangul syllables (a few)
    {0x1F600, 0x1F64F},  // emoji faces
    {0x2000, 0x206F},    // general punctuation
    {0x20A0, 0x20BF},    // currency signs
};

class Builder {
 public:
  explicit Builder(uint32_t n_vocab) : n_vocab_(n_vocab) {}

  bool full() const { return vocab_.tokens.size() >= n_vocab_; }

  // Adds a piece unless it exists already or the vocabulary is full.
  void Add(const std::string& text, int32_t type, float score) {
    if (full() || text.empty() || !seen_.insert(text).second) return;
    vocab_.tokens.push_back(text);
    vocab_.types.push_back(type);
    vocab_.scores.push_back(score);
  }

  // NORMAL pieces get strictly decreasing scores in the order added, like SentencePiece ranks.
  void AddNormal(const std::string& text) {
    if (full() || text.empty() || seen_.count(text)) return;
    Add(text, kTokenNormal, -static_cast<float>(normal_rank_++));
  }

  // A word and every prefix of it, so the score-ordered bigram merge can reach the whole word.
  void AddWithPrefixes(const std::string& word) {
    size_t i = 0;
    while (i < word.size()) {
      i += Utf8CharLength(static_cast<uint8_t>(word[i]));
      if (i > word.size()) i = word.size();
      AddNormal(word.substr(0, i));
    }
  }

  SynthVocab Take() { return std::move(vocab_); }

 private:
  uint32_t n_vocab_;
  SynthVocab vocab_;
  std::unordered_set<std::string> seen_;
  uint32_t normal_rank_ = 0;
};

std::string Capitalize(std::string w) {
  w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
  return w;
}

}  // namespace

SynthVocab MakeSynthVocab(uint32_t n_vocab) {
  Builder b(n_vocab);
  b.Add("<pad>", kTokenControl, 0.0f);
  b.Add("<eos>", kTokenControl, 0.0f);
  b.Add("<bos>", kTokenControl, 0.0f);
  b.Add("<unk>", kTokenUnknown, 0.0f);
  b.Add("<mask>", kTokenControl, 0.0f);
  for (int byte = 0; byte < 256; ++byte) {
    char text[8];
    std::snprintf(text, sizeof(text), "<0x%02X>", byte);
    b.Add(text, kTokenByte, 0.0f);
  }
  b.Add("<start_of_turn>", kTokenControl, 0.0f);
  b.Add("<end_of_turn>", kTokenControl, 0.0f);
  // USER_DEFINED tokens are split out of raw text before the merge, even without special parsing.
  for (const char* t : {"<code>", "</code>", "<table>", "</table>", "<br>"}) {
    b.Add(t, kTokenUserDefined, -1000.0f);
  }

  b.AddNormal(kSpace);
  for (const char* w : {"\n", "\t", "\n\n", "\t\t", "\r\n"}) b.AddNormal(w);
  b.AddNormal(kSpace + kSpace);
  b.AddNormal(kSpace + kSpace + kSpace + kSpace);
  for (char c = 'a'; c <= 'z'; ++c) b.AddNormal(std::string(1, c));
  for (char c = 33; c < 127; ++c) b.AddNormal(std::string(1, c));
  for (char c = 33; c < 127; ++c) b.AddNormal(kSpace + std::string(1, c));
  for (const char* w : kWords) {
    b.AddWithPrefixes(kSpace + w);
    b.AddWithPrefixes(w);
  }
  for (const char* w : kWords) b.AddWithPrefixes(kSpace + Capitalize(w));
  for (const char* w : kWords) {
    for (const char* suffix : {"s", "ed", "ing", "ly", "er"}) b.AddNormal(kSpace + w + suffix);
  }
  for (char c1 = 'a'; c1 <= 'z'; ++c1) {
    for (char c2 = 'a'; c2 <= 'z'; ++c2) b.AddNormal(std::string{c1, c2});
  }
  for (int n = 0; n < 1000; ++n) {
    b.AddNormal(std::to_string(n));
    b.AddNormal(kSpace + std::to_string(n));
  }
  for (const Range& r : kScriptRanges) {
    for (char32_t cp = r.first; cp <= r.last; ++cp) b.AddNormal(Utf8(cp));
  }
  for (const Range& r : kScriptRanges) {
    for (char32_t cp = r.first; cp <= r.last; ++cp) b.AddNormal(kSpace + Utf8(cp));
  }
  for (char c1 = 'a'; c1 <= 'z'; ++c1) {
    for (char c2 = 'a'; c2 <= 'z'; ++c2) {
      for (char c3 = 'a'; c3 <= 'z'; ++c3) b.AddNormal(std::string{c1, c2, c3});
    }
  }
  for (char c1 = 'a'; c1 <= 'z'; ++c1) {
    for (char c2 = 'a'; c2 <= 'z'; ++c2) b.AddNormal(kSpace + std::string{c1, c2});
  }
  // Filler: four- and five-letter strings, counted in base 26, until the vocabulary is full.
  for (uint64_t i = 0; !b.full(); ++i) {
    std::string piece = kSpace;
    uint64_t v = i;
    for (int k = 0; k < (i < 26u * 26 * 26 * 26 ? 4 : 5); ++k, v /= 26) {
      piece += static_cast<char>('a' + v % 26);
    }
    b.AddNormal(piece);
  }
  return b.Take();
}

std::vector<std::string> MakeSynthMerges(const SynthVocab& vocab) {
  std::unordered_set<std::string_view> pieces(vocab.tokens.begin(), vocab.tokens.end());
  std::vector<std::string> merges;
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const std::string& piece = vocab.tokens[id];
    if (vocab.types[id] != kTokenNormal) continue;
    // Split points at character boundaries, the last one first.
    std::vector<size_t> cuts;
    for (size_t i = 0; i < piece.size();) {
      i += Utf8CharLength(static_cast<uint8_t>(piece[i]));
      if (i < piece.size()) cuts.push_back(i);
    }
    for (auto it = cuts.rbegin(); it != cuts.rend(); ++it) {
      const std::string_view left(piece.data(), *it), right(piece.data() + *it, piece.size() - *it);
      if (pieces.count(left) && pieces.count(right)) {
        merges.push_back(std::string(left) + " " + std::string(right));
        break;
      }
    }
  }
  return merges;
}

}  // namespace ggufembed
