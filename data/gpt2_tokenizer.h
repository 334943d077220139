#pragma once
// Gpt2Tokenizer: GPT-2's byte-level BPE (50,257 ids: 50,000 merges over the
// 256 byte tokens, plus <|endoftext|> = 50256).
//
// Vocabulary forms, all the same vocabulary and all giving the same ids:
//   tiktoken      gpt2.tiktoken: one "base64(token bytes) rank" per line; the
//                 rank is the id; <|endoftext|> is the id after the last rank.
//   Hugging Face  vocab.json (token -> id) + merges.txt
//   OpenAI        encoder.json (token -> id) + vocab.bpe
//                 The JSON keys spell bytes through GPT-2's byte-to-unicode
//                 table (space -> 'Ġ', newline -> 'Ċ'); the merges file has a
//                 "#version" header line, then one "left right" pair per line,
//                 highest priority first.
// load(path) takes a .tiktoken file, a .json file (its sibling merges file is
// merges.txt or vocab.bpe), or a directory holding one of the three forms.
//
// Encoding: the text is cut into pieces by GPT-2's regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (PCRE2 with UTF + UCP, so \p{L}, \p{N} and \s are Unicode classes), then
// each piece's bytes are merged pairwise, always merging the adjacent pair
// whose concatenation has the lowest merge rank (tiktoken's procedure; for
// GPT-2 it is the same as the merges-file procedure). Bytes that are not
// valid UTF-8 never match the regex; each run of them is a piece of its own,
// so any byte string encodes, and decode(encode(s)) == s byte for byte.
//
// <|endoftext|>, as tiktoken treats it: encode_ordinary() encodes the literal
// text "<|endoftext|>" as ordinary text (several ids), so a corpus cannot
// forge document boundaries; encode() maps each literal occurrence to 50256.
// decode() writes 50256 as the text "<|endoftext|>".
//
// Threads: a tokenizer is immutable after loading and may be shared by any
// number of threads. Each thread keeps a cache of recently encoded pieces.
// encode_ordinary(text, threads) cuts a large text at safe points (see
// safe_cut) and encodes the parts in parallel: the result equals the
// single-threaded encoding.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::data {

class Gpt2Tokenizer {
 public:
  static constexpr int32_t kEndOfText = 50256;  // GPT-2's <|endoftext|>
  static constexpr std::string_view kEndOfTextText = "<|endoftext|>";

  // Any of the three forms (see above); the form is chosen by the path.
  static Gpt2Tokenizer load(const std::string& path);
  static Gpt2Tokenizer load_tiktoken(const std::string& path);
  // The OpenAI (encoder.json + vocab.bpe) and Hugging Face (vocab.json +
  // merges.txt) forms share their formats.
  static Gpt2Tokenizer load_json_merges(const std::string& json_path, const std::string& merges_path);

  // Text to ids; literal "<|endoftext|>" is ordinary text.
  std::vector<int32_t> encode_ordinary(std::string_view text) const;
  // The same, on `threads` threads (0 or 1: the calling thread only).
  std::vector<int32_t> encode_ordinary(std::string_view text, int threads) const;
  // Text to ids; each literal "<|endoftext|>" becomes eot_id().
  std::vector<int32_t> encode(std::string_view text) const;
  // Ids to bytes; an id outside the vocabulary is an error.
  std::string decode(std::span<const int32_t> ids) const;
  // One token's bytes (eot_id() gives "<|endoftext|>").
  const std::string& token_bytes(int32_t id) const;

  int32_t eot_id() const;
  int32_t vocab_size() const;  // ids are [0, vocab_size()), eot_id() included
  const std::string& source() const;  // the file(s) it was loaded from

  // The first position p >= from (p < text.size()) at which text may be
  // split without changing its encoding: encode(text[:p]) + encode(text[p:])
  // == encode(text). Returns text.size() when there is none. A safe point is
  // a space or newline between two ASCII non-space characters ("word| next",
  // "line.|\nNext"): the regex pieces never cross it and never look past it.
  static size_t safe_cut(std::string_view text, size_t from);
  // The last safe point p in (0, text.size()); 0 when there is none.
  static size_t last_safe_cut(std::string_view text);

  struct Impl;  // the loaded vocabulary and regex (gpt2_tokenizer.cpp)

 private:
  explicit Gpt2Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace strata::data
