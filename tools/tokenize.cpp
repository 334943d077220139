#include "tools/tokenize.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "core/error.h"
#include "data/gpt2_tokenizer.h"
#include "data/token_shard.h"
#include "train/progress.h"

namespace strata::tools {

namespace fs = std::filesystem;
using data::Gpt2Tokenizer;
using data::TokenShardWriter;

namespace {

constexpr const char* kWho = "tokenize";
constexpr size_t kReadBlock = 1 << 20;    // bytes read from a file at a time
constexpr size_t kEncodeChunk = 1 << 21;  // text gathered before encoding it in parallel

// One line of progress: redrawn in place on a terminal, every 10% otherwise.
class ProgressLine {
 public:
  explicit ProgressLine(int64_t total_bytes)
      : total_(total_bytes), tty_(::isatty(::fileno(stdout)) != 0), start_(Clock::now()), last_(start_) {}

  void update(int64_t bytes, int64_t tokens, bool force = false) {
    const auto now = Clock::now();
    const int percent = total_ > 0 ? int(100 * bytes / total_) : 100;
    if (tty_) {
      if (!force && now - last_ < std::chrono::milliseconds(200)) return;
    } else {
      if (!force && percent / 10 == printed_percent_ / 10) return;
      printed_percent_ = percent;
    }
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? double(bytes) / seconds : 0.0;
    const std::string eta = rate > 0 ? format_duration(double(total_ - bytes) / rate) : "?";
    fmt::print("{}tokenize: {:.1f}/{:.1f} MB {:3d}% | {:.2f} MB/s | {} tokens | ETA {}{}", tty_ ? "\r" : "",
               double(bytes) / 1e6, double(total_) / 1e6, percent, rate / 1e6, tokens, eta, tty_ ? "" : "\n");
    std::fflush(stdout);
  }

  void finish(int64_t bytes, int64_t tokens) {
    update(bytes, tokens, true);
    if (tty_) fmt::print("\n");
  }

  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  int64_t total_;
  bool tty_;
  Clock::time_point start_, last_;
  int printed_percent_ = -1;
};

// One output shard with its counts.
struct Output {
  explicit Output(const std::string& path) : writer(path) {}
  TokenShardWriter writer;
  int64_t documents = 0;
};

// Encodes a stream of documents into shards. Text is gathered per document
// and encoded whenever kEncodeChunk bytes are pending, up to the last safe
// cut (the rest waits for more text), so the ids equal those of encoding
// each document whole.
class DocumentEncoder {
 public:
  DocumentEncoder(const Gpt2Tokenizer& tokenizer, int threads, ProgressLine& progress)
      : tokenizer_(tokenizer), threads_(threads), progress_(progress) {}

  // Starts a document in `out`: ends the one before, then <|endoftext|>.
  void begin_document(Output& out) {
    end_document();
    out_ = &out;
    ++out.documents;
    const int32_t eot = tokenizer_.eot_id();
    out.writer.write({&eot, 1});
    ++tokens_;
  }

  void add(std::string_view text, int64_t bytes_read) {
    pending_ += text;
    bytes_read_ = bytes_read;
    if (pending_.size() < kEncodeChunk) return;
    const size_t cut = Gpt2Tokenizer::last_safe_cut(pending_);
    if (cut == 0) return;  // no safe cut yet (e.g. megabytes of spaces): keep gathering
    encode(std::string_view(pending_).substr(0, cut));
    pending_.erase(0, cut);
  }

  void end_document() {
    if (out_ && !pending_.empty()) encode(pending_);
    pending_.clear();
  }

  int64_t tokens() const { return tokens_; }

 private:
  void encode(std::string_view text) {
    const std::vector<int32_t> ids = tokenizer_.encode_ordinary(text, threads_);
    out_->writer.write(ids);
    tokens_ += int64_t(ids.size());
    progress_.update(bytes_read_, tokens_);
  }

  const Gpt2Tokenizer& tokenizer_;
  int threads_;
  ProgressLine& progress_;
  Output* out_ = nullptr;
  std::string pending_;
  int64_t tokens_ = 0, bytes_read_ = 0;
};

int64_t file_size_or_fail(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(kWho, "{}: file not found", path);
  return int64_t(fs::file_size(path, ec));
}

// Reads a file block by block; `visit(block)` sees every byte once, in order.
template <typename Visit>
void read_blocks(const std::string& path, Visit&& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kWho, "{}: cannot open for reading", path);
  std::string block(kReadBlock, '\0');
  while (in) {
    in.read(block.data(), std::streamsize(block.size()));
    const auto n = size_t(in.gcount());
    if (n > 0) visit(std::string_view(block).substr(0, n));
  }
  if (in.bad()) fail(kWho, "{}: read error", path);
}

// WikiText-103 articles begin with a single-'=' heading line " = Title = ";
// sections (" = = Section = = ") do not begin one.
bool is_article_title(std::string_view line) {
  return line.size() > 4 && line.starts_with(" = ") && line[3] != '=';
}

struct Summary {
  std::string path;
  int64_t tokens, documents;
};

void print_summary(const std::vector<Summary>& written, int64_t bytes, double seconds) {
  for (const Summary& s : written) {
    fmt::print("tokenize: wrote {}: {} tokens, {} documents\n", s.path, s.tokens, s.documents);
  }
  fmt::print("tokenize: {:.1f} MB of text in {:.1f} s ({:.2f} MB/s)\n", double(bytes) / 1e6, seconds,
             seconds > 0 ? double(bytes) / 1e6 / seconds : 0.0);
}

int thread_count(int requested) {
  return requested > 0 ? requested : int(std::max(1u, std::thread::hardware_concurrency()));
}

// --in files, each a document, into --out (and --val-out).
int tokenize_files(const TokenizeCommandOptions& o, const Gpt2Tokenizer& tokenizer) {
  if (o.inputs.empty() || o.out.empty()) fail(kWho, "--in and --out are required (or --dataset wikitext103 --root DIR)");
  if (o.val_out.empty() != (o.val_fraction == 0.0)) fail(kWho, "--val-out and --val-fraction go together");
  const int64_t k = o.val_fraction > 0 ? std::llround(1.0 / o.val_fraction) : 0;
  int64_t total = 0;
  for (const std::string& path : o.inputs) total += file_size_or_fail(path);

  ProgressLine progress(total);
  Output train(o.out);
  std::unique_ptr<Output> val;
  if (k > 0) val = std::make_unique<Output>(o.val_out);
  DocumentEncoder encoder(tokenizer, thread_count(o.threads), progress);
  int64_t bytes = 0;
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    const bool held_out = k > 0 && int64_t(i) % k == k - 1;
    encoder.begin_document(held_out ? *val : train);
    read_blocks(o.inputs[i], [&](std::string_view block) {
      bytes += int64_t(block.size());
      encoder.add(block, bytes);
    });
  }
  encoder.end_document();
  progress.finish(bytes, encoder.tokens());
  std::vector<Summary> written;
  for (Output* out : {&train, val.get()}) {
    if (!out) continue;
    out->writer.close();
    written.push_back({out->writer.path(), out->writer.count(), out->documents});
  }
  print_summary(written, bytes, progress.seconds());
  return 0;
}

// One WikiText-103 file, one document per article, into one shard.
Summary tokenize_wikitext_file(const std::string& input, const std::string& output, const Gpt2Tokenizer& tokenizer,
                               int threads) {
  ProgressLine progress(file_size_or_fail(input));
  Output out(output);
  DocumentEncoder encoder(tokenizer, threads, progress);
  encoder.begin_document(out);  // lines before the first title belong to the first article
  bool in_article = false;
  int64_t bytes = 0;
  std::string carry;  // a line cut by a block boundary
  auto take_line = [&](std::string_view line) {
    if (is_article_title(line)) {
      if (in_article) encoder.begin_document(out);
      in_article = true;
    }
    encoder.add(line, bytes);
  };
  read_blocks(input, [&](std::string_view block) {
    bytes += int64_t(block.size());
    size_t begin = 0;
    for (size_t nl; (nl = block.find('\n', begin)) != std::string_view::npos; begin = nl + 1) {
      if (carry.empty()) {
        take_line(block.substr(begin, nl + 1 - begin));
      } else {
        carry += block.substr(begin, nl + 1 - begin);
        take_line(carry);
        carry.clear();
      }
    }
    carry += block.substr(begin);
  });
  if (!carry.empty()) take_line(carry);
  encoder.end_document();
  progress.finish(bytes, encoder.tokens());
  out.writer.close();
  return {output, out.writer.count(), out.documents};
}

int tokenize_wikitext103(const TokenizeCommandOptions& o, const Gpt2Tokenizer& tokenizer) {
  if (o.root.empty()) fail(kWho, "--dataset wikitext103 needs --root DIR (the folder of wiki.train.raw)");
  if (!o.inputs.empty() || !o.out.empty() || !o.val_out.empty()) {
    fail(kWho, "--dataset takes --root and --out-dir, not --in, --out or --val-out");
  }
  const fs::path root(o.root);
  const fs::path out_dir = o.out_dir.empty() ? root / ".." : fs::path(o.out_dir);
  const std::pair<const char*, const char*> splits[] = {
      {"wiki.train.raw", "wikitext103_train.bin"},
      {"wiki.valid.raw", "wikitext103_val.bin"},
      {"wiki.test.raw", "wikitext103_test.bin"}};
  for (const auto& [input, _] : splits) file_size_or_fail((root / input).string());  // all present before any work
  const auto start = std::chrono::steady_clock::now();
  std::vector<Summary> written;
  int64_t bytes = 0;
  for (const auto& [input, output] : splits) {
    bytes += file_size_or_fail((root / input).string());
    written.push_back(tokenize_wikitext_file((root / input).string(), (out_dir / output).lexically_normal().string(),
                                             tokenizer, thread_count(o.threads)));
  }
  print_summary(written, bytes, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace

CLI::App* add_tokenize_command(CLI::App& app, TokenizeCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand("tokenize", "Encode text files into GPT-2 token shards (llm.c format)");
  cmd->add_option("--vocab", o.vocab, "GPT-2 vocabulary: gpt2.tiktoken, vocab.json (+ merges.txt), "
                                      "encoder.json (+ vocab.bpe) or their folder")
      ->capture_default_str();
  cmd->add_option("--in", o.inputs, "input text files, one document each")->allow_extra_args(true);
  cmd->add_option("--out", o.out, "output token shard");
  cmd->add_option("--val-out", o.val_out, "validation shard for the held-out documents");
  cmd->add_option("--val-fraction", o.val_fraction, "hold out every round(1/F)-th document into --val-out")
      ->check(CLI::Range(0.0, 0.5).description("in (0, 0.5]"));
  cmd->add_option("--dataset", o.dataset, "a known corpus layout instead of --in/--out")
      ->check(CLI::IsMember({"wikitext103"}));
  cmd->add_option("--root", o.root, "--dataset wikitext103: folder of wiki.{train,valid,test}.raw");
  cmd->add_option("--out-dir", o.out_dir, "--dataset wikitext103: folder of the shards (default ROOT/..)");
  cmd->add_option("--threads", o.threads, "encoding threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  return cmd;
}

int run_tokenize(const TokenizeCommandOptions& o) {
  if (!o.dataset.empty() && o.dataset != "wikitext103") fail(kWho, "unknown --dataset {}", o.dataset);
  const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::load(o.vocab);
  if (tokenizer.vocab_size() > 65536) {
    fail(kWho, "{}: {} ids do not fit the shards' uint16 tokens", tokenizer.source(), tokenizer.vocab_size());
  }
  return o.dataset.empty() ? tokenize_files(o, tokenizer) : tokenize_wikitext103(o, tokenizer);
}

}  // namespace strata::tools
