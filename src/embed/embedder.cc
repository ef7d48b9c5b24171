// Embedder: options resolved once per call, then per text: prompt + text → tokens (with the
// long-input policy) → the architecture's forward pass → the output head.
#include "ggufembed/embedder.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__EMSCRIPTEN_PTHREADS__)
#include <emscripten/threading.h>
#endif

#include "embed/embedder_access.h"
#include "embed/head.h"
#include "gguf/gguf.h"
#include "models/model.h"
#include "text/prompts.h"
#include "text/tokenizer.h"
#include "util/alloc_guard.h"
#include "util/capacity.h"
#include "util/error.h"
#include "util/utf8.h"

namespace ggufembed {

namespace {

// The memory of one call: kept between calls so that steady use allocates nothing.
struct Workspace {
  std::string prefix;  // the call's task prompt
  std::string text;    // prompt + text
  TokenizerScratch tokenizer;
  std::vector<int32_t> tokens;         // of one text, or of a pack of texts back to back
  std::vector<int32_t> prompt_tokens;  // of the task prompt alone, when a text is truncated
  std::vector<int> lengths;            // of the texts of a pack
  ForwardWorkspace forward;
  std::vector<float> hidden;  // [T × n_embd]
  HeadWorkspace head;
  std::vector<float> result;  // [rows × dim]

  // Text bytes whose buffers a workspace keeps between calls. The text, its tokens and the
  // tokenizer's scratch grow with a text's bytes, not with the context (a truncated text of 15
  // MiB left about 600 MB of them, which each embedder held on to): past this they are given
  // back after the call, so that a kept workspace stays bounded by the longest pass it ran.
  static constexpr size_t kKeptTextBytes = size_t{256} << 10;

  void TrimTextBuffers() {
    if (text.capacity() <= kKeptTextBytes && prefix.capacity() <= kKeptTextBytes &&
        tokens.capacity() * sizeof(int32_t) <= kKeptTextBytes) {
      return;
    }
    // Swapped out, not assigned: libstdc++'s string keeps its buffer when a short one is moved
    // onto it.
    std::string().swap(prefix);
    std::string().swap(text);
    std::vector<int32_t>().swap(tokens);
    std::vector<int32_t>().swap(prompt_tokens);
    TokenizerScratch empty;
    std::swap(tokenizer, empty);
  }

  size_t bytes() const {
    return CapacityBytes(prefix) + CapacityBytes(text) + tokenizer.bytes() + CapacityBytes(tokens) +
           CapacityBytes(prompt_tokens) + CapacityBytes(lengths) + forward.bytes() +
           CapacityBytes(hidden) + head.bytes() + CapacityBytes(result);
  }
};

// The options of one call, checked and resolved once for all its texts.
struct Call {
  std::string_view prefix;  // the task prompt's text, in the workspace
  HeadOptions head;
  bool truncate;
  bool parse_special;
};

// One text of a batch between its steps: its options resolved, its tokens, then its result.
struct Pending {
  Status status;
  Call call;
  std::vector<int32_t> tokens;
  Embedding result;
  bool done = false;
};

}  // namespace

// The loaded model and the calls on it: the public methods are these, turning a failed
// allocation into an error (GuardAllocation).
struct Embedder::Impl {
  Impl(GgufFile f, std::unique_ptr<Model> m, Tokenizer t, ModelInfo i)
      : file(std::move(f)), model(std::move(m)), tokenizer(std::move(t)), info(std::move(i)) {}

  GgufFile file;
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;
  ModelInfo info;
  // Workspaces not in use: each call takes one (creating it only when none is free), so
  // concurrent calls never share memory and a steady single caller allocates nothing.
  std::mutex workspaces_mutex;
  std::vector<std::unique_ptr<Workspace>> free_workspaces;
  // Whether each row of token_embd.weight is in memory, when the model was loaded without them
  // (EmbedderAccess::LoadWithoutTokenRows); empty when all are.
  std::vector<uint8_t> token_row_in_memory;

  Status CheckTokenRows(std::span<const int32_t> tokens) const {
    if (token_row_in_memory.empty()) return OkStatus();
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (!token_row_in_memory[static_cast<size_t>(tokens[t])]) {
        return Error(StatusCode::kInternal,
                     "%s: token_embd.weight row %d (token %zu of the text) is not in memory: the "
                     "model was loaded without its token embeddings and this row was not brought "
                     "in",
                     file.name().c_str(), tokens[t], t);
      }
    }
    return OkStatus();
  }

  std::unique_ptr<Workspace> AcquireWorkspace() {
    std::lock_guard<std::mutex> lock(workspaces_mutex);
    if (free_workspaces.empty()) {
      free_workspaces.reserve(free_workspaces.capacity() + 1);  // room to give it back
      return std::make_unique<Workspace>();
    }
    std::unique_ptr<Workspace> ws = std::move(free_workspaces.back());
    free_workspaces.pop_back();
    return ws;
  }
  void ReleaseWorkspace(std::unique_ptr<Workspace> ws) {
    ws->TrimTextBuffers();
    std::lock_guard<std::mutex> lock(workspaces_mutex);
    free_workspaces.push_back(std::move(ws));
  }

  // The options checked and resolved for this model; the prompt assembled in `ws`.
  Result<Call> Prepare(const EmbedOptions& options, Workspace& ws) const;
  Status CheckOptions(const EmbedOptions& options);
  Result<std::vector<Embedding>> EmbedTexts(const std::vector<std::string>& texts,
                                            const EmbedOptions& options, const BatchOptions& batch);
  Status EmbedOne(std::string_view text, const EmbedOptions& options, float* out, size_t capacity,
                  EmbeddingInfo* info, OpProfile* profile);
  Status RunBatch(std::span<const BatchText> texts, const BatchOptions& batch,
                  const std::function<void(size_t index, const Status& status,
                                           const Embedding& embedding)>& on_result);
  // Prompt + text into ws.tokens, with the long-input policy; `e` says what came of it.
  Status Tokenize(std::string_view text, const Call& call, Workspace& ws, EmbeddingInfo* e) const;
  // One text through tokens, the forward pass and the head, into ws.result.
  Status Run(std::string_view text, const Call& call, Workspace& ws, EmbeddingInfo* e,
             OpProfile* profile) const;
  Status RunPack(std::span<Pending* const> pack, Workspace& ws) const;
};

Embedder::Embedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Embedder::~Embedder() = default;

Result<std::unique_ptr<Embedder>> Embedder::Load(const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    return Error(StatusCode::kInvalidArgument, "the path holds a NUL byte (at %zu)",
                 path.find('\0'));
  }
  return GuardAllocation("loading a model", path, [&]() -> Result<std::unique_ptr<Embedder>> {
    GGUFEMBED_ASSIGN_OR_RETURN(std::shared_ptr<const FileBytes> bytes, FileBytes::Map(path));
    return internal::EmbedderAccess::Load(std::move(bytes), path);
  });
}

Result<std::unique_ptr<Embedder>> Embedder::LoadFromMemory(const void* data, size_t size,
                                                           std::string name) {
  if (data == nullptr && size > 0) {
    return Error(StatusCode::kInvalidArgument, "%s: the data pointer is null (%zu bytes)",
                 name.c_str(), size);
  }
  return GuardAllocation("loading a model", [&] {
    return internal::EmbedderAccess::Load(FileBytes::Borrow(data, size), std::move(name));
  });
}

// Both loads name the model in an out_of_memory error (its vocabulary is most of what they
// allocate); their callers guard the copy of the name.
Result<std::unique_ptr<Embedder>> internal::EmbedderAccess::Load(
    std::shared_ptr<const FileBytes> bytes, std::string name) {
  const std::string shown = name;
  return GuardAllocation("loading a model", shown, [&]() -> Result<std::unique_ptr<Embedder>> {
    GGUFEMBED_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Parse(std::move(bytes), std::move(name)));
    return FromParsed(std::move(file));
  });
}

Result<std::unique_ptr<Embedder>> internal::EmbedderAccess::FromParsed(GgufFile file) {
  GGUFEMBED_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(file));
  GGUFEMBED_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::FromGguf(file));
  const ModelHead& h = model->head();
  ModelInfo info{.architecture = h.architecture,
                 .name = h.name,
                 .dim = h.output_dim,
                 .context_length = h.n_ctx,
                 .n_vocab = h.n_vocab,
                 .pooling = h.pooling,
                 .has_dense = !h.projections.empty()};
  return std::unique_ptr<Embedder>(new Embedder(std::make_unique<Embedder::Impl>(
      std::move(file), std::move(model), std::move(tokenizer), std::move(info))));
}

Result<std::unique_ptr<Embedder>> internal::EmbedderAccess::LoadWithoutTokenRows(
    std::shared_ptr<const FileBytes> bytes, std::string name, uint64_t absent_begin,
    uint64_t absent_end) {
  const std::string shown = name;
  return GuardAllocation("loading a model", shown, [&]() -> Result<std::unique_ptr<Embedder>> {
    GGUFEMBED_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Parse(std::move(bytes), std::move(name)));
    const uint8_t* base = file.bytes().data();
    const GgufTensorInfo* table = file.FindTensor("token_embd.weight");
    if (table == nullptr || uint64_t(table->data - base) != absent_begin ||
        table->n_bytes != absent_end - absent_begin || absent_end < absent_begin) {
      return Error(StatusCode::kInvalidArgument,
                   "%s: the bytes left out, [%" PRIu64 ", %" PRIu64
                   "), are not the data of token_embd.weight",
                   file.name().c_str(), absent_begin, absent_end);
    }
    // No other tensor reads the bytes left out: GgufFile::Parse refuses tensors that share bytes.
    const size_t rows = static_cast<size_t>(table->n_rows());
    GGUFEMBED_ASSIGN_OR_RETURN(std::unique_ptr<Embedder> embedder, FromParsed(std::move(file)));
    embedder->impl_->token_row_in_memory.assign(rows, 0);
    return embedder;
  });
}

Result<std::vector<int32_t>> internal::EmbedderAccess::AbsentTokenRows(
    const Embedder& embedder, std::span<const std::string> texts, const EmbedOptions& options) {
  Embedder::Impl& impl = *embedder.impl_;
  std::vector<int32_t> absent;
  if (impl.token_row_in_memory.empty()) return absent;
  std::unique_ptr<Workspace> ws = impl.AcquireWorkspace();
  Result<Call> call = impl.Prepare(options, *ws);
  for (size_t i = 0; call.ok() && i < texts.size(); ++i) {
    // A text's other errors are its embedding's to report; memory that runs out names the text.
    char name[32] = "";
    if (texts.size() > 1) std::snprintf(name, sizeof name, "text %zu", i);
    const Status status = GuardAllocation("tokenizing", name, [&] {
      EmbeddingInfo info;
      if (!impl.Tokenize(texts[i], *call, *ws, &info).ok()) return OkStatus();
      for (int32_t id : ws->tokens) {
        if (!impl.token_row_in_memory[static_cast<size_t>(id)]) absent.push_back(id);
      }
      return OkStatus();
    });
    if (!status.ok()) return status;
  }
  impl.ReleaseWorkspace(std::move(ws));
  if (!call.ok()) return call.status();
  std::sort(absent.begin(), absent.end());
  absent.erase(std::unique(absent.begin(), absent.end()), absent.end());
  return absent;
}

Status internal::EmbedderAccess::MarkTokenRows(Embedder& embedder, std::span<const int32_t> ids) {
  std::vector<uint8_t>& in_memory = embedder.impl_->token_row_in_memory;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= in_memory.size()) {
      return Error(StatusCode::kInvalidArgument, "%s: token row %d is not one of the %zu left out",
                   embedder.impl_->file.name().c_str(), id, in_memory.size());
    }
  }
  for (int32_t id : ids) in_memory[static_cast<size_t>(id)] = 1;
  return OkStatus();
}

const ModelInfo& Embedder::info() const { return impl_->info; }
uint64_t Embedder::file_size() const { return impl_->file.shared_bytes()->size(); }

size_t Embedder::workspace_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->workspaces_mutex);
  size_t largest = 0;
  for (const auto& ws : impl_->free_workspaces) largest = std::max(largest, ws->bytes());
  return largest;
}
const std::vector<std::string>& Embedder::warnings() const { return impl_->model->head().warnings; }

double Embedder::MultiplyAdds(int n_tokens, Pooling pooling) const {
  return impl_->model->MultiplyAdds(n_tokens) +
         HeadMultiplyAdds(impl_->model->head(), PooledRows(pooling, n_tokens));
}

Result<std::vector<int32_t>> Embedder::Tokenize(std::string_view text, bool add_special,
                                                bool parse_special) const {
  return GuardAllocation("tokenizing",
                         [&] { return impl_->tokenizer.Encode(text, add_special, parse_special); });
}

std::string_view Embedder::TokenPiece(int32_t id) const {
  const Tokenizer& tokenizer = impl_->tokenizer;
  return id >= 0 && id < tokenizer.n_vocab() ? tokenizer.Piece(id) : std::string_view();
}

Result<Call> Embedder::Impl::Prepare(const EmbedOptions& options, Workspace& ws) const {
  const int full_dim = model->head().output_dim;
  if (options.dim < 0 || options.dim > full_dim) {
    return Error(StatusCode::kInvalidArgument,
                 "dim %d is outside the model's output size (1 to %d, or 0 for all)", options.dim,
                 full_dim);
  }
  if (!options.prompt.empty() && !options.prompt_text.empty()) {
    return Error(StatusCode::kInvalidArgument, "give a prompt name or a prompt text, not both");
  }
  if (options.prompt.empty() && !options.title.empty()) {
    return Error(StatusCode::kInvalidArgument, "a title needs the document prompt");
  }
  if (options.pooling && (static_cast<int>(*options.pooling) < static_cast<int>(Pooling::kNone) ||
                          static_cast<int>(*options.pooling) > static_cast<int>(Pooling::kLast))) {
    return Error(StatusCode::kInvalidArgument,
                 "pooling %d is not one of 0..3 (none, mean, cls, last)",
                 static_cast<int>(*options.pooling));
  }
  // Checked apart, so that an error names the option and its own byte offset (the text's check
  // sees them only joined to it).
  for (const auto& [name, value] :
       {std::pair<const char*, std::string_view>{"the title", options.title},
        {"the prompt text", options.prompt_text}}) {
    if (const size_t bad = FindInvalidUtf8(value); bad != std::string_view::npos) {
      return Error(StatusCode::kInvalidArgument, "%s is not valid UTF-8 at byte %zu", name, bad);
    }
  }
  Call call;
  ws.prefix.clear();  // assembled in place: no allocation once warm
  if (!options.prompt.empty()) {
    GGUFEMBED_RETURN_IF_ERROR(AppendPromptPrefix(options.prompt, options.title, &ws.prefix));
  } else {
    ws.prefix.append(options.prompt_text);
  }
  call.prefix = ws.prefix;
  call.head.pooling = options.pooling.value_or(model->head().pooling);
  call.head.dim = options.dim > 0 ? options.dim : full_dim;
  call.head.normalize = options.normalize;
  call.head.reference = options.reference;
  call.truncate = options.truncate;
  call.parse_special = options.parse_special;
  return call;
}

Status Embedder::CheckOptions(const EmbedOptions& options) const {
  return GuardAllocation("checking options", [&] { return impl_->CheckOptions(options); });
}

Status Embedder::Impl::CheckOptions(const EmbedOptions& options) {
  std::unique_ptr<Workspace> ws = AcquireWorkspace();
  Status status = Prepare(options, *ws).status();
  ReleaseWorkspace(std::move(ws));
  return status;
}

Result<std::vector<Embedding>> Embedder::Embed(const std::vector<std::string>& texts,
                                               const EmbedOptions& options) const {
  return Embed(texts, options, BatchOptions{.threads = 1});
}

Result<std::vector<Embedding>> Embedder::Embed(const std::vector<std::string>& texts,
                                               const EmbedOptions& options,
                                               const BatchOptions& batch_options) const {
  return GuardAllocation("embedding",
                         [&] { return impl_->EmbedTexts(texts, options, batch_options); });
}

Result<std::vector<Embedding>> Embedder::Impl::EmbedTexts(const std::vector<std::string>& texts,
                                                          const EmbedOptions& options,
                                                          const BatchOptions& batch_options) {
  GGUFEMBED_RETURN_IF_ERROR(CheckOptions(options));
  std::vector<BatchText> batch;
  batch.reserve(texts.size());
  for (const std::string& text : texts) batch.push_back({text, &options});
  std::vector<Embedding> out;
  out.reserve(texts.size());
  Status first_error;
  // The call fails with its first failing text: progress counts the texts before it only.
  std::atomic<size_t> failed_at{texts.size()};
  BatchOptions checked = batch_options;
  if (batch_options.on_progress) {
    checked.on_progress = [&, last = size_t{0}](size_t done) mutable {
      done = std::min(done, failed_at.load());
      if (done > last) batch_options.on_progress(last = done);
    };
  }
  GGUFEMBED_RETURN_IF_ERROR(
      RunBatch(batch, checked, [&](size_t i, const Status& status, const Embedding& e) {
        if (!first_error.ok()) return;
        // On a worker thread, where no exception may escape.
        Status kept = GuardAllocation("keeping a result", [&]() -> Status {
          if (status.ok()) {
            out.push_back(e);
            return OkStatus();
          }
          if (texts.size() == 1) return status;
          return Status(status.code(), StrFormat("text %zu: %s", i, status.message().c_str()));
        });
        if (!kept.ok()) {
          first_error = std::move(kept);
          failed_at = i;
        }
      }));
  GGUFEMBED_RETURN_IF_ERROR(first_error);
  return out;
}

Status Embedder::EmbedInto(std::string_view text, const EmbedOptions& options, float* out,
                           size_t capacity, EmbeddingInfo* info, OpProfile* profile) const {
  return GuardAllocation(
      "embedding", [&] { return impl_->EmbedOne(text, options, out, capacity, info, profile); });
}

Status Embedder::Impl::EmbedOne(std::string_view text, const EmbedOptions& options, float* out,
                                size_t capacity, EmbeddingInfo* info, OpProfile* profile) {
  std::unique_ptr<Workspace> ws = AcquireWorkspace();
  Result<Call> call = Prepare(options, *ws);
  EmbeddingInfo result;
  Status status = call.ok() ? Run(text, *call, *ws, &result, profile) : call.status();
  const size_t n = size_t(result.rows) * result.dim;
  if (status.ok() && n > capacity) {
    status = Error(StatusCode::kInvalidArgument,
                   "the output has room for %zu floats, but the embedding has %d × %d = %zu",
                   capacity, result.rows, result.dim, n);
  }
  if (status.ok()) {
    std::copy_n(ws->result.data(), n, out);
    if (info != nullptr) *info = result;
  }
  ReleaseWorkspace(std::move(ws));
  return status;
}

Status Embedder::Impl::Tokenize(std::string_view text, const Call& call, Workspace& ws,
                                EmbeddingInfo* e) const {
  const ModelHead& head = model->head();
  ws.text.assign(call.prefix);
  ws.text.append(text);
  // A text too long for any tokenization to fit is refused before it is tokenized (a line of
  // megabytes would otherwise cost seconds): every token stands for at most max_piece_bytes().
  const size_t min_tokens =
      (ws.text.size() + tokenizer.max_piece_bytes() - 1) / tokenizer.max_piece_bytes();
  if (!call.truncate && min_tokens > static_cast<size_t>(head.n_ctx)) {
    e->n_input_tokens = min_tokens > INT_MAX ? INT_MAX : static_cast<int>(min_tokens);
    return Error(StatusCode::kInputTooLong,
                 "the text is at least %zu tokens long (%zu bytes), more than the model's "
                 "context of %d tokens (use truncation to embed its beginning)",
                 min_tokens, ws.text.size(), head.n_ctx);
  }
  // Checked apart from the prompt joined to it, so that an error's offset is the text's own.
  if (!call.prefix.empty()) GGUFEMBED_RETURN_IF_ERROR(Tokenizer::CheckUtf8(text));
  std::vector<int32_t>& tokens = ws.tokens;
  GGUFEMBED_RETURN_IF_ERROR(
      tokenizer.EncodeInto(ws.text, true, call.parse_special, ws.tokenizer, &tokens));
  e->n_input_tokens = static_cast<int>(tokens.size());
  e->truncated = false;
  if (e->n_input_tokens > head.n_ctx) {
    if (!call.truncate) {
      return Error(StatusCode::kInputTooLong,
                   "the text is %d tokens long, more than the model's context of %d tokens (use "
                   "truncation to embed its beginning)",
                   e->n_input_tokens, head.n_ctx);
    }
    // A prompt that fills the context by itself would leave none of the text: every text would
    // get the prompt's vector. Refused (a truncated text with a prompt tokenizes it once more).
    if (!call.prefix.empty()) {
      std::vector<int32_t>& prompt_tokens = ws.prompt_tokens;
      GGUFEMBED_RETURN_IF_ERROR(tokenizer.EncodeInto(call.prefix, true, call.parse_special,
                                                     ws.tokenizer, &prompt_tokens));
      if (prompt_tokens.size() >= static_cast<size_t>(head.n_ctx)) {
        return Error(StatusCode::kInputTooLong,
                     "the prompt is %zu tokens long with BOS and EOS, which fills the model's "
                     "context of %d tokens and leaves none for the text",
                     prompt_tokens.size(), head.n_ctx);
      }
    }
    // Keep the beginning and end the sequence with EOS again, as a tokenizer that truncates
    // before adding special tokens would.
    const bool eos = tokenizer.add_eos() && tokens.back() == tokenizer.eos_id();
    tokens.resize(static_cast<size_t>(head.n_ctx));
    if (eos) tokens.back() = tokenizer.eos_id();
    e->truncated = true;
  }
  const int T = static_cast<int>(tokens.size());
  e->n_tokens = T;
  if (T == 0) {
    return Error(StatusCode::kInvalidArgument,
                 "the text has no tokens (the file adds neither BOS nor EOS)");
  }
  e->rows = PooledRows(call.head.pooling, T);
  e->dim = call.head.dim;
  return OkStatus();
}

Status Embedder::Impl::Run(std::string_view text, const Call& call, Workspace& ws, EmbeddingInfo* e,
                           OpProfile* profile) const {
  const ModelHead& head = model->head();
  GGUFEMBED_RETURN_IF_ERROR(Tokenize(text, call, ws, e));
  GGUFEMBED_RETURN_IF_ERROR(CheckTokenRows(ws.tokens));
  const int T = e->n_tokens;
  ws.hidden.resize(std::max(ws.hidden.size(), size_t(T) * head.n_embd));  // [T × n_embd]
  if (call.head.reference) {
    model->ForwardReference(ws.tokens.data(), T, ws.hidden.data());
  } else {
    const int lengths[] = {T};
    GGUFEMBED_RETURN_IF_ERROR(
        model->Forward({ws.tokens.data(), lengths, T}, ws.forward, ws.hidden.data(), profile));
  }
  ws.result.resize(std::max(ws.result.size(), size_t(e->rows) * e->dim));
  return RunHead(head, ws.hidden.data(), T, call.head, ws.head, ws.result.data(), profile);
}

// The texts of `pack`, tokenized and not failed, in one forward pass (each alone on the
// reference); then each one's head.
Status Embedder::Impl::RunPack(std::span<Pending* const> pack, Workspace& ws) const {
  const ModelHead& head = model->head();
  ws.tokens.clear();
  ws.lengths.clear();
  for (const Pending* p : pack) {
    ws.tokens.insert(ws.tokens.end(), p->tokens.begin(), p->tokens.end());
    ws.lengths.push_back(p->result.n_tokens);
  }
  const int T = static_cast<int>(ws.tokens.size());
  ws.hidden.resize(std::max(ws.hidden.size(), size_t(T) * head.n_embd));  // [T × n_embd]
  if (pack.front()->call.head.reference) {
    GGUFEMBED_DCHECK(pack.size() == 1);
    model->ForwardReference(ws.tokens.data(), T, ws.hidden.data());
  } else if (Status s = model->Forward({ws.tokens.data(), ws.lengths, T}, ws.forward,
                                       ws.hidden.data(), nullptr);
             !s.ok()) {
    if (s.code() != StatusCode::kNotFinite || pack.size() == 1) return s;
    // A NaN or an infinity may come from one text's activations: each text alone, so that the
    // others get their vectors (the bits they get in any pass) and the culprit its error.
    for (Pending* p : pack) {
      if (Status alone = RunPack({&p, 1}, ws); !alone.ok()) p->status = alone;
    }
    return OkStatus();
  }
  int first = 0;
  for (Pending* p : pack) {
    Embedding& e = p->result;
    e.values.resize(size_t(e.rows) * e.dim);
    p->status = RunHead(head, ws.hidden.data() + size_t(first) * head.n_embd, e.n_tokens,
                        p->call.head, ws.head, e.values.data(), nullptr);
    first += e.n_tokens;
  }
  return OkStatus();
}

namespace {

// Runs fn(worker, i) for i in [0, count) on up to `threads` threads (the calling one included),
// each worker taking the next i in turn. Threads come from pthread_create, whose failure (no
// more threads, a WebAssembly build without them, its pool exhausted) just leaves fewer workers:
// no exception, no abort.
template <class Fn>
void ParallelFor(int threads, size_t count, Fn&& fn) {
  struct Shared {
    std::atomic<size_t> next{0};
    size_t count;
    Fn* fn;
    void Work(int worker) {
      for (size_t i; (i = next.fetch_add(1)) < count;) (*fn)(worker, i);
    }
  } shared{{0}, count, &fn};
  struct Start {
    Shared* shared;
    int worker;
  };
  const int extra = static_cast<int>(std::min<size_t>(size_t(std::max(threads, 1)), count)) - 1;
  // Both sized before any thread starts: a failed allocation after one had started would unwind
  // the stack it works on.
  std::vector<pthread_t> pool;
  pool.reserve(static_cast<size_t>(std::max(extra, 0)));
  std::vector<Start> starts(static_cast<size_t>(std::max(extra, 0)));
  for (int w = 1; w <= extra; ++w) {
    starts[size_t(w - 1)] = {&shared, w};
    pthread_t thread;
    auto run = [](void* arg) -> void* {
      const Start* s = static_cast<const Start*>(arg);
      s->shared->Work(s->worker);
      return nullptr;
    };
    if (pthread_create(&thread, nullptr, run, &starts[size_t(w - 1)]) != 0) break;
    pool.push_back(thread);
  }
  shared.Work(0);
  for (pthread_t thread : pool) pthread_join(thread, nullptr);
}

}  // namespace

int AvailableCores() {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  return 1;
#elif defined(__EMSCRIPTEN__)
  return std::max(1, emscripten_num_logical_cores());
#else
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
#endif
}

Status Embedder::EmbedBatch(
    std::span<const BatchText> texts, const BatchOptions& batch,
    const std::function<void(size_t, const Status&, const Embedding&)>& on_result) const {
  return GuardAllocation("starting a batch",
                         [&] { return impl_->RunBatch(texts, batch, on_result); });
}

Status Embedder::Impl::RunBatch(
    std::span<const BatchText> texts, const BatchOptions& batch,
    const std::function<void(size_t, const Status&, const Embedding&)>& on_result) {
  if (batch.threads < 0 || batch.threads > 4096) {
    return Error(StatusCode::kInvalidArgument, "threads %d is not 0 (all cores) to 4096",
                 batch.threads);
  }
  if (batch.pack_tokens < 0) {
    return Error(StatusCode::kInvalidArgument, "pack_tokens %d is negative", batch.pack_tokens);
  }
  if (!on_result) return Error(StatusCode::kInvalidArgument, "on_result is empty");
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i].options == nullptr) {
      return Error(StatusCode::kInvalidArgument, "text %zu has no options", i);
    }
  }
  const int threads = batch.threads > 0 ? batch.threads : AvailableCores();
  std::vector<Pending> pending(texts.size());
  std::vector<std::unique_ptr<Workspace>> workspaces(static_cast<size_t>(threads));
  auto workspace = [&](int worker) -> Workspace& {
    std::unique_ptr<Workspace>& ws = workspaces[static_cast<size_t>(worker)];
    if (!ws) ws = AcquireWorkspace();
    return *ws;
  };

  // Results go out in input order, by whichever thread completes the next one; `done` flags are
  // written and read under the lock. Returns how many have gone out.
  std::mutex emit_mutex;
  size_t next_to_emit = 0;
  auto finish = [&](std::span<Pending* const> finished, const Status& status) -> size_t {
    std::lock_guard<std::mutex> lock(emit_mutex);
    for (Pending* p : finished) {
      if (!status.ok()) p->status = CopyStatus(status);  // on a worker thread too: cannot throw
      p->done = true;
    }
    for (; next_to_emit < pending.size() && pending[next_to_emit].done; ++next_to_emit) {
      Pending& p = pending[next_to_emit];
      static const Embedding kNone;
      // A reference either way: `ok ? p.result : Embedding{}` copied every result (an
      // allocation, on a worker thread, where no exception may escape).
      on_result(next_to_emit, p.status, p.status.ok() ? p.result : kNone);
      p = Pending{};  // frees its memory
      p.done = true;
    }
    return next_to_emit;
  };

  // 1. Options and tokens, text by text.
  // A failed allocation inside a worker becomes its text's error (an exception must not leave a
  // thread: that would terminate the process).
  ParallelFor(threads, texts.size(), [&](int worker, size_t i) {
    Pending& p = pending[i];
    p.status = GuardAllocation("tokenizing", [&] {
      Workspace& ws = workspace(worker);
      Result<Call> call = Prepare(*texts[i].options, ws);
      GGUFEMBED_RETURN_IF_ERROR(call.status());
      p.call = *call;
      p.call.prefix = {};  // the workspace's, gone with the next text; tokens hold it now
      GGUFEMBED_RETURN_IF_ERROR(Tokenize(texts[i].text, *call, ws, &p.result));
      GGUFEMBED_RETURN_IF_ERROR(CheckTokenRows(ws.tokens));
      p.tokens.assign(ws.tokens.begin(), ws.tokens.end());
      return OkStatus();
    });
  });
  std::vector<Pending*> failed;
  for (Pending& p : pending) {
    if (!p.status.ok()) failed.push_back(&p);
  }
  finish(failed, OkStatus());

  // 2. Passes: consecutive texts (keeping results flowing in order) up to the token budget;
  // long texts, and the reference path, alone.
  std::vector<std::vector<Pending*>> packs;
  int pack_tokens = 0;
  for (Pending& p : pending) {
    if (p.done || !p.status.ok()) continue;  // failed (and perhaps already emitted)
    const int n = p.result.n_tokens;
    const bool alone = p.call.head.reference || n >= batch.pack_tokens;
    if (alone || packs.empty() || pack_tokens + n > batch.pack_tokens ||
        packs.back().front()->call.head.reference) {
      packs.emplace_back();
      pack_tokens = 0;
    }
    packs.back().push_back(&p);
    pack_tokens += n;
  }

  // Progress, on the calling thread only: a count that grew, and every text at the end. An
  // exception from the callback stops the calls and leaves once the other threads have stopped
  // (they work in this frame).
  size_t reported = 0;
  std::exception_ptr progress_error;
  auto progress = [&](size_t done) {
    if (!batch.on_progress || progress_error || done <= reported) return;
    reported = done;
    try {
      batch.on_progress(done);
    } catch (...) {
      progress_error = std::current_exception();
    }
  };

  // 3. The passes, several at once (worker 0 is the calling thread).
  ParallelFor(threads, packs.size(), [&](int worker, size_t k) {
    const size_t done =
        finish(packs[k],
               GuardAllocation("embedding", [&] { return RunPack(packs[k], workspace(worker)); }));
    if (worker == 0) progress(done);
  });
  for (std::unique_ptr<Workspace>& ws : workspaces) {
    if (ws) ReleaseWorkspace(std::move(ws));
  }
  progress(next_to_emit);  // the other threads have stopped
  if (progress_error) std::rethrow_exception(progress_error);
  return OkStatus();
}

}  // namespace ggufembed
