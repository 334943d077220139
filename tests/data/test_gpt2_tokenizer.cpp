// GPT-2 byte-level BPE: known ids, the three vocabulary forms agreeing, exact
// round trips (invalid UTF-8 included), parallel == serial encoding, and the
// merge order on a merge table written here.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "data/gpt2_tokenizer.h"
#include "tests/data/fixtures.h"
#include "tests/data/gpt2_fixtures.h"

namespace strata::data {
namespace {

using testing::expect_error;
using testing::gpt2_file;
using testing::gpt2_hugging_face;
using testing::gpt2_tiktoken;
using testing::TempDir;
using testing::write_text_file;
using Ids = std::vector<int32_t>;

// Multilingual, emoji (with ZWJ and skin tones), contractions, digits,
// whitespace runs of every kind, a literal <|endoftext|> and invalid UTF-8
// (lone continuation bytes, a cut 3-byte sequence, 0xff, an overlong NUL).
const std::string kHardText =
    "Hello world! It's 2024, we've 3.14159 reasons... they'll say I'd've.\n\n"
    "Grüße aus Köln — naïve café; Ελληνικά; Русский текст; עברית; العربية\n"
    "日本語のテキスト、中文文本。한국어 텍스트 ไทย हिन्दी\n"
    "Emoji: 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ✨🎉\t\ttabs   and    spaces \u00a0nbsp\u3000ideographic\r\n"
    "    indented\n\n\n   \n trailing   \n"
    "<|endoftext|> literal, <|endoftext|>again\n"
    "invalid: \xff\xfe|\x80\x81|\xe2\x82|\xc0\x80|\xed\xa0\x80|end\xc3";

Ids encode(const Gpt2Tokenizer& t, std::string_view s) { return t.encode_ordinary(s); }

TEST(Gpt2Tokenizer, KnownIds) {
  for (const Gpt2Tokenizer* t : {&gpt2_tiktoken(), &gpt2_hugging_face()}) {
    SCOPED_TRACE(t->source());
    EXPECT_EQ(encode(*t, "Hello world"), (Ids{15496, 995}));
    EXPECT_EQ(encode(*t, "!"), (Ids{0}));
    EXPECT_EQ(t->eot_id(), 50256);
    EXPECT_EQ(t->vocab_size(), 50257);
    EXPECT_EQ(t->decode(Ids{15496, 995}), "Hello world");
    EXPECT_EQ(t->decode(Ids{50256}), "<|endoftext|>");
  }
}

TEST(Gpt2Tokenizer, EndOfTextIsSpecialOnlyWhereAllowed) {
  const Gpt2Tokenizer& t = gpt2_tiktoken();
  EXPECT_EQ(t.encode("<|endoftext|>"), (Ids{50256}));
  EXPECT_EQ(t.encode("Hello world<|endoftext|>Hello world"), (Ids{15496, 995, 50256, 15496, 995}));
  // As ordinary text it is several tokens, none of them 50256, and decodes back.
  const Ids ordinary = t.encode_ordinary("<|endoftext|>");
  EXPECT_GT(ordinary.size(), 1u);
  EXPECT_EQ(std::count(ordinary.begin(), ordinary.end(), 50256), 0);
  EXPECT_EQ(t.decode(ordinary), "<|endoftext|>");
}

TEST(Gpt2Tokenizer, ThreeVocabularyFormsGiveIdenticalIds) {
  // The OpenAI form: encoder.json is vocab.json, vocab.bpe is merges.txt
  // under OpenAI's header line.
  TempDir dir;
  const std::vector<uint8_t> vocab = testing::read_bytes(gpt2_file("vocab.json"));
  testing::write_bytes(dir / "openai/encoder.json", vocab);
  const std::vector<uint8_t> merges = testing::read_bytes(gpt2_file("merges.txt"));
  std::string bpe = "#version: 0.2\n";
  const auto first_newline = std::find(merges.begin(), merges.end(), uint8_t('\n'));
  bpe.append(first_newline + 1, merges.end());
  write_text_file(dir / "openai/vocab.bpe", bpe);
  const Gpt2Tokenizer openai = Gpt2Tokenizer::load(dir / "openai");

  const Ids expected = encode(gpt2_tiktoken(), kHardText);
  EXPECT_EQ(encode(gpt2_hugging_face(), kHardText), expected);
  EXPECT_EQ(encode(openai, kHardText), expected);
  EXPECT_EQ(gpt2_tiktoken().decode(expected), kHardText);
  // Every token decodes to the same bytes in all three.
  for (int32_t id = 0; id < 50257; ++id) {
    ASSERT_EQ(gpt2_hugging_face().token_bytes(id), gpt2_tiktoken().token_bytes(id)) << id;
    ASSERT_EQ(openai.token_bytes(id), gpt2_tiktoken().token_bytes(id)) << id;
  }
}

TEST(Gpt2Tokenizer, InvalidUtf8BytesRoundTrip) {
  const Gpt2Tokenizer& t = gpt2_tiktoken();
  // 0xff is GPT-2's byte token 187 ('ÿ' in its byte-to-unicode table).
  EXPECT_EQ(encode(t, "\xff"), (Ids{187}));
  const std::vector<std::string> cases = {"\xff\xfe", "a\x80z", "\xe2\x82", " \xc3", "\xc0\x80x", std::string("nul\0byte", 8)};
  for (const std::string& s : cases) {
    EXPECT_EQ(t.decode(encode(t, s)), s);
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
}

TEST(Gpt2Tokenizer, RandomByteStringsRoundTrip) {
  const Gpt2Tokenizer& t = gpt2_tiktoken();
  std::mt19937 rng(7);
  // Alphabets from uniform bytes to mostly ASCII with some high bytes, so
  // both invalid sequences and real words and spaces occur.
  const std::string ascii = "ab c'sdE 9\n\t.!<|>";
  for (int trial = 0; trial < 300; ++trial) {
    std::string s(rng() % 200, '\0');
    for (char& c : s) c = trial % 2 ? char(rng() % 256) : rng() % 4 ? ascii[rng() % ascii.size()] : char(rng() % 256);
    ASSERT_EQ(t.decode(encode(t, s)), s) << "trial " << trial;
    ASSERT_EQ(t.decode(t.encode(s)), s) << "trial " << trial;
  }
}

// A larger text with everything the cut points must respect.
std::string generated_text(size_t bytes) {
  std::mt19937 rng(11);
  const std::vector<std::string> parts = {"the", " quick", " brown", "fox", "'s", " 42", "\n", "\n\n", "  ", "\t",
                                          " \n", "Ärger", " 日本", "👍", ".", ",", " —", "\xff", "\xe2\x82", "   x",
                                          "\n  indented", "don't", " I'll", "\r\n", " "};
  std::string text;
  while (text.size() < bytes) text += parts[rng() % parts.size()];
  return text;
}

TEST(Gpt2Tokenizer, ParallelEncodingEqualsSerial) {
  const Gpt2Tokenizer& t = gpt2_tiktoken();
  const std::string text = generated_text(600'000);
  const Ids serial = t.encode_ordinary(text);
  EXPECT_EQ(t.encode_ordinary(text, 2), serial);
  EXPECT_EQ(t.encode_ordinary(text, 5), serial);
  EXPECT_EQ(t.decode(serial), text);
}

TEST(Gpt2Tokenizer, SafeCutsDoNotChangeTheEncoding) {
  const Gpt2Tokenizer& t = gpt2_tiktoken();
  const std::string text = generated_text(3000) + kHardText;
  const Ids whole = encode(t, text);
  int cuts = 0;
  for (size_t p = Gpt2Tokenizer::safe_cut(text, 0); p < text.size(); p = Gpt2Tokenizer::safe_cut(text, p + 1)) {
    Ids parts = encode(t, std::string_view(text).substr(0, p));
    const Ids rest = encode(t, std::string_view(text).substr(p));
    parts.insert(parts.end(), rest.begin(), rest.end());
    ASSERT_EQ(parts, whole) << "cut at " << p;
    ++cuts;
  }
  EXPECT_GT(cuts, 50);
  const size_t last = Gpt2Tokenizer::last_safe_cut(text);
  EXPECT_GT(last, 0u);
  EXPECT_EQ(Gpt2Tokenizer::safe_cut(text, last), last);
  // A cut inside a whitespace run would change it: none is offered there.
  EXPECT_EQ(Gpt2Tokenizer::safe_cut("a\n\nb", 0), 4u);
  EXPECT_EQ(Gpt2Tokenizer::safe_cut("a  b", 0), 4u);
  EXPECT_EQ(Gpt2Tokenizer::safe_cut("a b", 0), 1u);
}

// GPT-2's byte-to-unicode spelling of one byte, UTF-8 encoded (for vocab.json keys).
std::string spell_byte(int b) {
  int next = 256;
  int code = -1;
  for (int x = 0; x < 256; ++x) {
    const bool printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
    const int c = printable ? x : next++;
    if (x == b) code = c;
  }
  if (code < 0x80) return std::string(1, char(code));
  return {char(0xC0 | (code >> 6)), char(0x80 | (code & 0x3F))};
}

// A made-up merge table over the 256 byte tokens (id = byte value):
//   256 "ab" = a + b,  257 "bc" = b + c,  258 "cd" = c + d,  259 "bcd" = bc + d
// written in the tiktoken form and in the vocab.json + merges.txt form.
struct TinyVocabulary {
  TempDir dir;
  TinyVocabulary() {
    std::string tiktoken;
    vocab_json = "{";
    auto add = [&](const std::string& bytes, int id, const std::string& spelled) {
      static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string b64;
      for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
        if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        if (i + 2 < bytes.size()) v |= uint8_t(bytes[i + 2]);
        b64 += alphabet[(v >> 18) & 63];
        b64 += alphabet[(v >> 12) & 63];
        b64 += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
        b64 += i + 2 < bytes.size() ? alphabet[v & 63] : '=';
      }
      tiktoken += fmt::format("{} {}\n", b64, id);
      std::string key;
      for (const char c : spelled) key += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
      vocab_json += fmt::format("{}\"{}\": {}", id == 0 ? "" : ", ", key, id);
    };
    for (int b = 0; b < 256; ++b) add(std::string(1, char(b)), b, spell_byte(b));
    add("ab", 256, "ab");
    add("bc", 257, "bc");
    add("cd", 258, "cd");
    add("bcd", 259, "bcd");
    vocab_json += ", \"<|endoftext|>\": 260}";
    write_text_file(dir / "tiny.tiktoken", tiktoken);
    write_text_file(dir / "hf/vocab.json", vocab_json);
    write_text_file(dir / "hf/merges.txt", "#version: 0.2\na b\nb c\nc d\nbc d\n");
  }
  std::string vocab_json;
};

TEST(Gpt2Tokenizer, MergeTableLowestRankMergesFirst) {
  TinyVocabulary tiny;
  const Gpt2Tokenizer tiktoken = Gpt2Tokenizer::load(tiny.dir / "tiny.tiktoken");
  const Gpt2Tokenizer hf = Gpt2Tokenizer::load(tiny.dir / "hf/vocab.json");
  // By hand, piece by piece ("abcd", " xbcd", " cdbc", "!"):
  //   abcd:  pairs ab 256, bc 257, cd 258 -> ab first (not bc, which would
  //          lead to bcd) -> [ab c d] -> cd -> [ab cd]; "abcd" is no token.
  //   xbcd:  bc 257 < cd 258 -> [x bc d] -> bc+d = bcd 259 -> [x bcd].
  //   cdbc:  bc 257 < cd 258, so bc merges first although cd comes first.
  //   The leading spaces stay single byte tokens (32): " x", " c" are no tokens.
  const Ids expected = {256, 258, 32, 'x', 259, 32, 258, 257, '!'};
  const std::string text = "abcd xbcd cdbc!";
  EXPECT_EQ(tiktoken.encode_ordinary(text), expected);
  EXPECT_EQ(hf.encode_ordinary(text), expected);
  EXPECT_EQ(tiktoken.decode(expected), text);
  EXPECT_EQ(tiktoken.encode_ordinary("bcd"), (Ids{259}));
  // Pieces over 256 bytes take the heap-ordered merge: the same merges.
  std::string long_piece;
  Ids long_expected;
  for (int i = 0; i < 200; ++i) {
    long_piece += i % 2 ? "abcd" : "xbcd";
    long_expected.insert(long_expected.end(), {i % 2 ? 256 : 'x', i % 2 ? 258 : 259});
  }
  EXPECT_EQ(tiktoken.encode_ordinary(long_piece), long_expected);
  EXPECT_EQ(hf.encode_ordinary(long_piece), long_expected);
  // <|endoftext|> is the id after the last rank (tiktoken) or the vocab.json entry.
  EXPECT_EQ(tiktoken.eot_id(), 260);
  EXPECT_EQ(hf.eot_id(), 260);
  EXPECT_EQ(tiktoken.encode("ab<|endoftext|>"), (Ids{256, 260}));
}

TEST(Gpt2Tokenizer, BadVocabularyFilesAreRefusedNamingTheFile) {
  TempDir dir;
  expect_error([&] { Gpt2Tokenizer::load(dir / "none.tiktoken"); }, {"none.tiktoken", "not found"});
  write_text_file(dir / "bad.tiktoken", "IQ== 0\nnot base64! 1\n");
  expect_error([&] { Gpt2Tokenizer::load(dir / "bad.tiktoken"); }, {"bad.tiktoken:2", "base64 rank"});
  write_text_file(dir / "short.tiktoken", "IQ== 0\n");
  expect_error([&] { Gpt2Tokenizer::load(dir / "short.tiktoken"); }, {"short.tiktoken", "byte 0x00 has no token"});
  TinyVocabulary tiny;
  write_text_file(tiny.dir / "hf/merges.txt", "#version: 0.2\na b\nx y\n");
  expect_error([&] { Gpt2Tokenizer::load(tiny.dir / "hf"); }, {"merges.txt:3", "x y", "vocab.json"});
  write_text_file(dir / "vocab.txt", "");
  expect_error([&] { Gpt2Tokenizer::load(dir / "vocab.txt"); }, {"vocab.txt", "unknown vocabulary form"});
  expect_error([&] { gpt2_tiktoken().decode(Ids{50257}); }, {"token id 50257"});
}

}  // namespace
}  // namespace strata::data
