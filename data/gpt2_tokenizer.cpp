#include "data/gpt2_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <queue>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "data/file_io.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWho = "Gpt2Tokenizer";

// GPT-2's pre-tokenisation regex (encoder.py in openai/gpt-2).
constexpr std::string_view kPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Pieces longer than this are encoded without the cache (rare: long runs of
// spaces or symbols), so one odd input cannot fill it with huge keys.
constexpr size_t kMaxCachedPiece = 64;
// The per-thread cache starts afresh when it holds this many pieces.
constexpr size_t kMaxCacheEntries = 1 << 18;

// Heterogeneous lookup: find a std::string key from a std::string_view
// without building a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

struct MergeableToken {
  int32_t rank;  // merge priority: lower merges first
  int32_t id;
};

// GPT-2's bytes_to_unicode(): printable bytes stand for themselves, the
// others are moved to U+0100 onwards, in byte order.
std::array<char32_t, 256> byte_to_unicode() {
  std::array<char32_t, 256> table{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    table[size_t(b)] = printable ? char32_t(b) : next++;
  }
  return table;
}

// Decodes a JSON key (UTF-8 of byte_to_unicode characters) to its bytes.
// Returns false when a character is not in the table.
bool unicode_to_bytes(std::string_view key, const std::unordered_map<char32_t, uint8_t>& table, std::string& out) {
  out.clear();
  for (size_t i = 0; i < key.size();) {
    const auto c = uint8_t(key[i]);
    char32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c, len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F, len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F, len = 3;
    } else {
      return false;  // the table only reaches U+0143: never four bytes
    }
    if (i + len > key.size()) return false;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (uint8_t(key[i + k]) & 0x3F);
    const auto it = table.find(cp);
    if (it == table.end()) return false;
    out.push_back(char(it->second));
    i += len;
  }
  return true;
}

std::string read_text(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path, kWho);
  return std::string(bytes.begin(), bytes.end());
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with '=' padding; false on any other character.
bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    if (c == '=') break;
    const int v = base64_value(c);
    if (v < 0) return false;
    bits = (bits << 6) | uint32_t(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(char((bits >> count) & 0xFF));
    }
  }
  return true;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_ascii_solid(char c) { return uint8_t(c) < 0x80 && !is_ascii_space(c); }
bool is_safe_cut(std::string_view text, size_t p) {
  return p > 0 && p + 1 < text.size() && (text[p] == ' ' || text[p] == '\n') && is_ascii_solid(text[p - 1]) &&
         is_ascii_solid(text[p + 1]);
}

std::atomic<uint64_t> next_instance{1};

// Threads that live as long as the program, so that their piece caches stay
// warm from one parallel encode to the next (a fresh thread per call would
// re-encode every common word of each part from scratch).
class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool pool;
    return pool;
  }

  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs every task: tasks[0] on the calling thread, the others on pool
  // threads; returns when all are done. Tasks must not throw.
  void run(std::vector<std::function<void()>>& tasks) {
    size_t remaining = tasks.size() - 1;
    std::condition_variable done;
    {
      std::lock_guard lock(mutex_);
      while (threads_.size() < tasks.size() - 1) threads_.emplace_back([this] { work(); });
      for (size_t k = 1; k < tasks.size(); ++k) {
        queue_.push_back([&, k] {
          tasks[k]();
          std::lock_guard inner(mutex_);
          if (--remaining == 0) done.notify_all();
        });
      }
    }
    wake_.notify_all();
    tasks[0]();
    std::unique_lock lock(mutex_);
    done.wait(lock, [&] { return remaining == 0; });
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      task();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
};

}  // namespace

// Everything a loaded vocabulary holds; shared (read-only) by copies.
struct Gpt2Tokenizer::Impl {
  StringMap<MergeableToken> mergeable;  // token bytes -> rank and id
  std::array<int32_t, 256> byte_id{};   // the single-byte tokens
  std::vector<std::string> id_bytes;    // id -> bytes, for decode
  int32_t eot = -1;
  std::string source;
  uint64_t instance = next_instance++;  // keys the per-thread caches
  pcre2_code* regex = nullptr;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { pcre2_code_free(regex); }

  int32_t rank_of(std::string_view bytes) const {
    const auto it = mergeable.find(bytes);
    return it == mergeable.end() ? INT32_MAX : it->second.rank;
  }

  void add_token(int32_t id, std::string bytes) {
    if (id < 0 || id > 1'000'000) fail(kWho, "{}: token id {} out of range", source, id);
    if (size_t(id) >= id_bytes.size()) id_bytes.resize(size_t(id) + 1);
    id_bytes[size_t(id)] = std::move(bytes);
  }

  // Checks that every byte has a token and that every id has bytes, adds
  // <|endoftext|> and compiles the regex.
  void finish() {
    byte_id.fill(-1);
    for (const auto& [bytes, token] : mergeable) {
      if (bytes.size() == 1) byte_id[uint8_t(bytes[0])] = token.id;
    }
    for (int b = 0; b < 256; ++b) {
      if (byte_id[size_t(b)] < 0) fail(kWho, "{}: byte 0x{:02x} has no token (not a byte-level BPE?)", source, b);
    }
    if (eot < 0) eot = int32_t(id_bytes.size());
    add_token(eot, std::string(kEndOfTextText));
    for (size_t id = 0; id < id_bytes.size(); ++id) {
      if (id_bytes[id].empty()) fail(kWho, "{}: no token has id {} (ids must be 0..{})", source, id, id_bytes.size() - 1);
    }
    compile_regex();
  }

  void compile_regex() {
    int error = 0;
    PCRE2_SIZE offset = 0;
    regex = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern.data()), kPattern.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!regex) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof(message));
      fail(kWho, "cannot compile the GPT-2 regex at offset {}: {}", offset, reinterpret_cast<char*>(message));
    }
    // JIT makes matching several times faster; the interpreter is the
    // fallback where the JIT is not available.
    pcre2_jit_compile(regex, PCRE2_JIT_COMPLETE);
  }
};

Gpt2Tokenizer Gpt2Tokenizer::load_tiktoken(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  impl->source = path;
  const std::string text = read_text(path);
  std::string bytes;
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    int64_t rank = -1;
    if (space != std::string_view::npos) {
      const std::string_view number = line.substr(space + 1);
      rank = number.empty() || number.size() > 9 || !std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })
                 ? -1
                 : std::stoll(std::string(number));
    }
    if (rank < 0 || !base64_decode(line.substr(0, space), bytes) || bytes.empty()) {
      fail(kWho, "{}:{}: expected \"base64 rank\", got \"{}\"", path, line_number, line.substr(0, 80));
    }
    if (!impl->mergeable.emplace(bytes, MergeableToken{int32_t(rank), int32_t(rank)}).second) {
      fail(kWho, "{}:{}: token listed twice", path, line_number);
    }
    impl->add_token(int32_t(rank), bytes);
  }
  impl->finish();
  return Gpt2Tokenizer(std::move(impl));
}

Gpt2Tokenizer Gpt2Tokenizer::load_json_merges(const std::string& json_path, const std::string& merges_path) {
  auto impl = std::make_shared<Impl>();
  impl->source = json_path + " + " + merges_path;
  std::unordered_map<char32_t, uint8_t> unicode_byte;
  const std::array<char32_t, 256> table = byte_to_unicode();
  for (int b = 0; b < 256; ++b) unicode_byte[table[size_t(b)]] = uint8_t(b);

  // token -> id. Special tokens ("<|...|>") are kept out of the BPE.
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_text(json_path));
  } catch (const nlohmann::json::exception& e) {
    fail(kWho, "{}: not valid JSON: {}", json_path, e.what());
  }
  if (!json.is_object()) fail(kWho, "{}: expected a JSON object of token -> id", json_path);
  StringMap<int32_t> ids;
  std::string bytes;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_number_integer()) fail(kWho, "{}: token \"{}\": id is not an integer", json_path, key);
    const int32_t id = value.get<int32_t>();
    if (key == kEndOfTextText) {
      impl->eot = id;
      continue;
    }
    if (!unicode_to_bytes(key, unicode_byte, bytes)) {
      fail(kWho, "{}: token \"{}\" is not spelled in GPT-2's byte-to-unicode alphabet", json_path, key);
    }
    impl->add_token(id, bytes);
    ids[bytes] = id;
    if (bytes.size() == 1) impl->mergeable.emplace(bytes, MergeableToken{-1, id});
  }

  // Merges, highest priority first, after the "#version" header line.
  const std::string merges = read_text(merges_path);
  size_t line_number = 0;
  int32_t rank = 256;  // after the byte tokens, as in tiktoken's ranks
  std::string left, right;
  for (size_t begin = 0; begin < merges.size();) {
    size_t end = merges.find('\n', begin);
    if (end == std::string::npos) end = merges.size();
    std::string_view line = std::string_view(merges).substr(begin, end - begin);
    begin = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos ||
        !unicode_to_bytes(line.substr(0, space), unicode_byte, left) ||
        !unicode_to_bytes(line.substr(space + 1), unicode_byte, right)) {
      fail(kWho, "{}:{}: expected a merge \"left right\", got \"{}\"", merges_path, line_number, line.substr(0, 80));
    }
    const auto it = ids.find(left + right);
    if (it == ids.end()) {
      fail(kWho, "{}:{}: merge \"{}\" makes a token that {} does not list", merges_path, line_number, line,
           json_path);
    }
    // A token two merges can make keeps the higher priority.
    impl->mergeable.emplace(it->first, MergeableToken{rank++, it->second});
  }
  impl->finish();
  return Gpt2Tokenizer(std::move(impl));
}

Gpt2Tokenizer Gpt2Tokenizer::load(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    if (fs::is_regular_file(p / "gpt2.tiktoken", ec)) return load_tiktoken((p / "gpt2.tiktoken").string());
    if (fs::is_regular_file(p / "vocab.json", ec)) return load((p / "vocab.json").string());
    if (fs::is_regular_file(p / "encoder.json", ec)) return load((p / "encoder.json").string());
    fail(kWho, "{}: no gpt2.tiktoken, vocab.json or encoder.json in this directory", path);
  }
  if (!fs::is_regular_file(p, ec)) fail(kWho, "{}: file not found", path);
  if (p.extension() == ".tiktoken") return load_tiktoken(path);
  if (p.extension() == ".json") {
    // encoder.json pairs with vocab.bpe (OpenAI), vocab.json with merges.txt (Hugging Face).
    const bool openai = p.filename() == "encoder.json";
    for (const char* name : openai ? std::array{"vocab.bpe", "merges.txt"} : std::array{"merges.txt", "vocab.bpe"}) {
      const fs::path merges = p.parent_path() / name;
      if (fs::is_regular_file(merges, ec)) return load_json_merges(path, merges.string());
    }
    fail(kWho, "{}: no merges file (merges.txt or vocab.bpe) beside it", path);
  }
  fail(kWho, "{}: unknown vocabulary form: expected a .tiktoken file, a vocab.json / encoder.json (with "
       "merges.txt / vocab.bpe beside it) or a directory holding them", path);
}

namespace {

// Pieces longer than this merge through a heap: O(n log n) rather than the
// O(n^2) of the scan below, for inputs like a 100 kB run of '-' that the
// regex keeps in one piece.
constexpr size_t kLongPiece = 256;

int32_t token_id(const Gpt2Tokenizer::Impl& v, std::string_view token) {
  return token.size() == 1 ? v.byte_id[uint8_t(token[0])] : v.mergeable.find(token)->second.id;
}

// The same merges as the scan in encode_piece, in the same order: each step
// takes the lowest rank, the leftmost among equal ranks (the heap orders by
// (rank, start)). Parts form a linked list over byte offsets; a heap entry
// is stale once either of its parts has changed: a part changes when it
// absorbs its right neighbour, and dies when absorbed (generation check).
void merge_long_piece(const Gpt2Tokenizer::Impl& v, std::string_view piece, std::vector<int32_t>& out) {
  const size_t n = piece.size();
  std::vector<size_t> next(n), prev(n);  // neighbouring part starts; n: none
  std::vector<uint32_t> generation(n, 0);
  for (size_t i = 0; i < n; ++i) next[i] = i + 1, prev[i] = i == 0 ? n : i - 1;
  auto end_of = [&](size_t i) { return next[i]; };  // part i is piece[i, end_of(i))
  struct Entry {
    int32_t rank;
    size_t start;
    uint32_t generation_left, generation_right;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : start > o.start; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  auto push_pair = [&](size_t i) {  // the pair of part i and the part after it
    if (i >= n || next[i] >= n) return;
    const int32_t rank = v.rank_of(piece.substr(i, end_of(next[i]) - i));
    if (rank != INT32_MAX) heap.push({rank, i, generation[i], generation[next[i]]});
  };
  for (size_t i = 0; i < n; ++i) push_pair(i);
  while (!heap.empty()) {
    const Entry e = heap.top();
    heap.pop();
    const size_t right = next[e.start];
    if (right >= n || generation[e.start] != e.generation_left || generation[right] != e.generation_right) continue;
    // Merge part `right` into part e.start.
    next[e.start] = next[right];
    if (next[right] < n) prev[next[right]] = e.start;
    ++generation[e.start];
    ++generation[right];  // dead: every entry naming it is stale
    push_pair(e.start);
    // The pair ending at e.start now ends further right: its old entry is
    // stale (generation[e.start] changed); push the new one.
    if (prev[e.start] < n) push_pair(prev[e.start]);
  }
  for (size_t i = 0; i < n; i = next[i]) out.push_back(token_id(v, piece.substr(i, next[i] - i)));
}

}  // namespace

// BPE of one piece: starting from its bytes, merge the adjacent pair whose
// concatenation has the lowest rank until no pair is a token (tiktoken's
// byte_pair_merge). parts[i] is where part i starts; rank[i] the rank of
// parts i and i+1 merged.
void Gpt2Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  const Impl& v = *impl_;
  if (piece.size() == 1) {
    out.push_back(v.byte_id[uint8_t(piece[0])]);
    return;
  }
  const auto whole = v.mergeable.find(piece);  // most pieces are single tokens
  if (whole != v.mergeable.end()) {
    out.push_back(whole->second.id);
    return;
  }
  if (piece.size() > kLongPiece) return merge_long_piece(v, piece, out);
  std::vector<size_t> parts(piece.size() + 1);
  for (size_t i = 0; i <= piece.size(); ++i) parts[i] = i;
  auto pair_rank = [&](size_t i) {  // rank of parts i and i+1 merged
    return i + 2 < parts.size() ? v.rank_of(piece.substr(parts[i], parts[i + 2] - parts[i])) : INT32_MAX;
  };
  std::vector<int32_t> rank(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) rank[i] = pair_rank(i);
  while (parts.size() > 2) {
    const size_t best = size_t(std::min_element(rank.begin(), rank.end() - 1) - rank.begin());
    if (rank[best] == INT32_MAX) break;
    parts.erase(parts.begin() + std::ptrdiff_t(best) + 1);
    rank.erase(rank.begin() + std::ptrdiff_t(best) + 1);
    rank[best] = pair_rank(best);
    if (best > 0) rank[best - 1] = pair_rank(best - 1);
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string_view token = piece.substr(parts[i], parts[i + 1] - parts[i]);
    out.push_back(token.size() == 1 ? v.byte_id[uint8_t(token[0])] : v.mergeable.find(token)->second.id);
  }
}

namespace {

// Each thread's cache of encoded pieces, for one tokenizer at a time.
struct PieceCache {
  uint64_t owner = 0;
  StringMap<std::vector<int32_t>> pieces;
};
thread_local PieceCache piece_cache;

}  // namespace

std::vector<int32_t> Gpt2Tokenizer::encode_ordinary(std::string_view text) const {
  const Impl& v = *impl_;
  PieceCache& cache = piece_cache;
  if (cache.owner != v.instance || cache.pieces.size() > kMaxCacheEntries) {
    cache.pieces.clear();
    cache.owner = v.instance;
  }
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 16);
  auto add_piece = [&](std::string_view piece) {
    if (piece.size() > kMaxCachedPiece) return encode_piece(piece, out);
    const auto hit = cache.pieces.find(piece);
    if (hit != cache.pieces.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
    const size_t first = out.size();
    encode_piece(piece, out);
    cache.pieces.emplace(std::string(piece), std::vector<int32_t>(out.begin() + std::ptrdiff_t(first), out.end()));
  };

  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(v.regex, nullptr), &pcre2_match_data_free);
  if (!match) fail(kWho, "out of memory for PCRE2 match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t offset = 0;
  while (offset < text.size()) {
    const int rc = pcre2_match(v.regex, subject, text.size(), offset, 0, match.get(), nullptr);
    size_t start = text.size(), end = text.size();
    if (rc >= 0) {
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
      start = ovector[0], end = ovector[1];
    } else if (rc != PCRE2_ERROR_NOMATCH) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      fail(kWho, "regex match failed at byte {}: {}", offset, reinterpret_cast<char*>(message));
    }
    // Bytes the regex skipped are invalid UTF-8: they are a piece of their own.
    if (start > offset) add_piece(text.substr(offset, start - offset));
    if (end > start) add_piece(text.substr(start, end - start));
    offset = end;
  }
  return out;
}

std::vector<int32_t> Gpt2Tokenizer::encode_ordinary(std::string_view text, int threads) const {
  // Small texts are not worth a thread.
  constexpr size_t kMinPart = 1 << 16;
  const size_t parts_wanted = std::min(size_t(std::max(threads, 1)), text.size() / kMinPart + 1);
  if (parts_wanted <= 1) return encode_ordinary(text);

  // Cut into about equal parts at safe points; a part may be empty.
  std::vector<size_t> cuts{0};
  for (size_t k = 1; k < parts_wanted; ++k) {
    cuts.push_back(std::max(cuts.back(), safe_cut(text, text.size() * k / parts_wanted)));
  }
  cuts.push_back(text.size());
  std::vector<std::vector<int32_t>> encoded(parts_wanted);
  std::vector<std::exception_ptr> errors(parts_wanted);
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < parts_wanted; ++k) {
    tasks.emplace_back([&, k] {
      try {
        encoded[k] = encode_ordinary(text.substr(cuts[k], cuts[k + 1] - cuts[k]));
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  }
  WorkerPool::instance().run(tasks);
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::vector<int32_t> out;
  size_t total = 0;
  for (const auto& e : encoded) total += e.size();
  out.reserve(total);
  for (const auto& e : encoded) out.insert(out.end(), e.begin(), e.end());
  return out;
}

std::vector<int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  while (true) {
    const size_t special = text.find(kEndOfTextText);
    const std::vector<int32_t> ids = encode_ordinary(text.substr(0, special));
    out.insert(out.end(), ids.begin(), ids.end());
    if (special == std::string_view::npos) return out;
    out.push_back(impl_->eot);
    text.remove_prefix(special + kEndOfTextText.size());
  }
}

std::string Gpt2Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (const int32_t id : ids) out += token_bytes(id);
  return out;
}

const std::string& Gpt2Tokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= vocab_size()) fail(kWho, "token id {} not in [0, {})", id, vocab_size());
  return impl_->id_bytes[size_t(id)];
}

int32_t Gpt2Tokenizer::eot_id() const { return impl_->eot; }
int32_t Gpt2Tokenizer::vocab_size() const { return int32_t(impl_->id_bytes.size()); }
const std::string& Gpt2Tokenizer::source() const { return impl_->source; }

size_t Gpt2Tokenizer::safe_cut(std::string_view text, size_t from) {
  for (size_t p = std::max<size_t>(from, 1); p + 1 < text.size(); ++p) {
    if (is_safe_cut(text, p)) return p;
  }
  return text.size();
}

size_t Gpt2Tokenizer::last_safe_cut(std::string_view text) {
  for (size_t p = text.size(); p-- > 1;) {
    if (is_safe_cut(text, p)) return p;
  }
  return 0;
}

}  // namespace strata::data
