// `strata tokenize` end to end: the built binary on text files written here,
// its shards checked against the tokenizer in-process (documents preceded by
// <|endoftext|>, the every-k-th-document validation split, WikiText-103's
// articles as documents), and usage errors exiting with 2.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "data/token_shard.h"
#include "tests/data/fixtures.h"
#include "tests/data/gpt2_fixtures.h"
#include "tests/support/cli.h"

namespace strata::data {
namespace {

using testing::gpt2_file;
using testing::gpt2_tiktoken;
using testing::TempDir;
using testing::write_text_file;
using Ids = std::vector<int32_t>;

using strata::testing::Command;
using strata::testing::run_strata;


Ids shard_ids(const std::string& path) {
  const std::vector<uint16_t> tokens = read_token_shard(path);
  return Ids(tokens.begin(), tokens.end());
}

// <|endoftext|> then each document's ordinary encoding.
Ids expected_shard(const std::vector<std::string>& documents) {
  Ids ids;
  for (const std::string& doc : documents) {
    ids.push_back(50256);
    const Ids encoded = gpt2_tiktoken().encode_ordinary(doc);
    ids.insert(ids.end(), encoded.begin(), encoded.end());
  }
  return ids;
}

// A document large enough (~1.5 MB) to be read and encoded in several parts.
std::string long_document() {
  std::string text;
  for (int i = 0; text.size() < 1'500'000; ++i) {
    text += fmt::format("Line {} of the long play: 'Tis nobler\tin  the mind, {}!\n", i, i % 7 ? "ay" : "\n\n  ");
  }
  return text;
}

TEST(TokenizeCli, FilesWithValidationSplit) {
  TempDir dir;
  const std::vector<std::string> docs = {"Hello world", "First Citizen:\nBefore we proceed any further, hear me speak.\n",
                                         long_document(), "Grüße, 日本語 👍 <|endoftext|> \xff\n\n",
                                         "Fourth\n"};
  std::string inputs;
  for (size_t i = 0; i < docs.size(); ++i) {
    write_text_file(dir / fmt::format("doc{}.txt", i), docs[i]);
    inputs += fmt::format(" '{}'", dir / fmt::format("doc{}.txt", i));
  }
  // F = 0.4: k = round(2.5) = 3 (round half away from zero): document 2 is held out.
  const Command c = run_strata(fmt::format("tokenize --vocab '{}' --in{} --out '{}' --val-out '{}' --val-fraction 0.4 "
                                       "--threads 2",
                                       gpt2_file("gpt2.tiktoken"), inputs, dir / "train.bin", dir / "val.bin"));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("4 documents"), std::string::npos) << c.output;
  EXPECT_EQ(shard_ids(dir / "train.bin"), expected_shard({docs[0], docs[1], docs[3], docs[4]}));
  EXPECT_EQ(shard_ids(dir / "val.bin"), expected_shard({docs[2]}));
  const Ids train = shard_ids(dir / "train.bin");
  EXPECT_EQ((Ids{train.begin(), train.begin() + 3}), (Ids{50256, 15496, 995}));
  EXPECT_EQ(std::count(train.begin(), train.end(), 50256), 4);  // the literal stays text

  // Without a split, one shard; the Hugging Face form gives the same ids.
  const Command single = run_strata(fmt::format("tokenize --vocab '{}' --in '{}' '{}' --out '{}'", gpt2_file("vocab.json"),
                                            dir / "doc0.txt", dir / "doc3.txt", dir / "all.bin"));
  ASSERT_EQ(single.exit_code, 0) << single.output;
  EXPECT_EQ(shard_ids(dir / "all.bin"), expected_shard({docs[0], docs[3]}));
}

TEST(TokenizeCli, WikiText103ArticlesAreDocuments) {
  TempDir dir;
  const std::vector<std::string> articles = {
      " \n = Valkyria Chronicles III = \n \n Senjō no Valkyria 3 is a game . \n \n = = Gameplay = = \n \n"
      " It is played in 1 @,@ 000 turns . \n \n",
      " = Tower Building of the Little Rock Arsenal = \n \n The building was built in 1840 . \n \n",
      " = Cicely Mary Barker = \n \n = = Early life = = \n \n She was born in Croydon . \n"};
  write_text_file(dir / "wikitext-103-raw/wiki.train.raw", articles[0] + articles[1] + articles[2]);
  write_text_file(dir / "wikitext-103-raw/wiki.valid.raw", articles[1]);
  write_text_file(dir / "wikitext-103-raw/wiki.test.raw", articles[2]);
  const Command c = run_strata(fmt::format("tokenize --vocab '{}' --dataset wikitext103 --root '{}'",
                                       gpt2_file("gpt2.tiktoken"), dir / "wikitext-103-raw"));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(shard_ids(dir / "wikitext103_train.bin"), expected_shard(articles));
  EXPECT_EQ(shard_ids(dir / "wikitext103_val.bin"), expected_shard({articles[1]}));
  EXPECT_EQ(shard_ids(dir / "wikitext103_test.bin"), expected_shard({articles[2]}));

  const Command missing = run_strata(fmt::format("tokenize --vocab '{}' --dataset wikitext103 --root '{}' --out-dir '{}'",
                                             gpt2_file("gpt2.tiktoken"), dir.str(), dir / "out"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("wiki.train.raw: file not found"), std::string::npos) << missing.output;
}

TEST(TokenizeCli, UsageErrorsExitWith2) {
  TempDir dir;
  write_text_file(dir / "a.txt", "text");
  const std::string vocab = gpt2_file("gpt2.tiktoken");
  const Command no_fraction =
      run_strata(fmt::format("tokenize --vocab '{}' --in '{}' --out '{}' --val-out '{}'", vocab, dir / "a.txt",
                         dir / "t.bin", dir / "v.bin"));
  EXPECT_EQ(no_fraction.exit_code, 2) << no_fraction.output;
  EXPECT_NE(no_fraction.output.find("--val-out and --val-fraction"), std::string::npos) << no_fraction.output;
  const Command missing = run_strata(fmt::format("tokenize --vocab '{}' --in '{}' --out '{}'", vocab,
                                             dir / "nope.txt", dir / "t.bin"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("nope.txt: file not found"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "t.bin"));
  const Command bad_vocab =
      run_strata(fmt::format("tokenize --vocab '{}' --in '{}' --out '{}'", dir / "a.txt", dir / "a.txt", dir / "t.bin"));
  EXPECT_EQ(bad_vocab.exit_code, 2) << bad_vocab.output;
  EXPECT_NE(bad_vocab.output.find("unknown vocabulary form"), std::string::npos) << bad_vocab.output;
}

}  // namespace
}  // namespace strata::data
