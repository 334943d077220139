// safetensors: round trips of every dtype, scalars, empty tensors and
// metadata; files assembled by hand in the format (read as the format says,
// whatever our writer does); every malformed file refused by name.
#include <gtest/gtest.h>

#include <limits>

#include "core/ops.h"
#include "tests/train/file_fixtures.h"
#include "train/safetensors.h"

namespace strata {
namespace {

using testing::concat;
using testing::expect_error;
using testing::le_bytes;
using testing::read_bytes;
using testing::safetensors_bytes;
using testing::TempFolder;
using testing::write_bytes;
namespace fs = std::filesystem;

std::vector<uint8_t> tensor_bytes(const Tensor& t) {
  const Tensor c = ops::contiguous(t);
  const auto* p = static_cast<const uint8_t*>(c.raw_data());
  return p ? std::vector<uint8_t>(p, p + c.nbytes()) : std::vector<uint8_t>{};
}

void expect_same_tensors(const std::vector<NamedTensor>& actual, const std::vector<NamedTensor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_EQ(actual[i].second.dtype(), expected[i].second.dtype());
    EXPECT_EQ(actual[i].second.shape(), expected[i].second.shape());
    EXPECT_TRUE(actual[i].second.is_contiguous());
    EXPECT_EQ(tensor_bytes(actual[i].second), tensor_bytes(expected[i].second));
  }
}

std::vector<bf16> bf16_values(const std::vector<float>& values) {
  std::vector<bf16> out;
  for (float v : values) out.push_back(float_to_bf16(v));
  return out;
}

TEST(Safetensors, RoundTripEveryDtypeScalarsAndEmpty) {
  TempFolder dir;
  const std::vector<NamedTensor> tensors = {
      {"f32", from_vector<float>({1.5f, -0.0f, 3e-38f, std::numeric_limits<float>::infinity(), -7, 8}, {2, 3})},
      {"f64", from_vector<double>({1.0 / 3.0, -1e300, 5e-324, 0.0}, {4})},
      {"bf16", from_vector<bf16>(bf16_values({1.0f, -2.5f, 0.1f, 65504.0f, -0.0f, 3.0f}), {3, 1, 2})},
      {"i32", from_vector<int32_t>({0, -1, std::numeric_limits<int32_t>::min(), 2147483647, 42}, {5})},
      {"i64", from_vector<int64_t>({std::numeric_limits<int64_t>::min(), -1, 1LL << 53, 9}, {2, 2})},
      {"u8", from_vector<uint8_t>({0, 1, 127, 128, 255}, {5})},
      {"scalar.f32", scalar_tensor(2.25, {DType::f32})},
      {"scalar.i64", full({}, -5, {DType::i64})},
      {"empty.f32", empty({0, 3}, {DType::f32})},
      {"empty.u8", empty({0}, {DType::u8})},
      {"empty.bf16", empty({2, 0, 4}, {DType::bf16})},
  };
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"text", "line one\nline \"two\"\t\\ ü 🙂"}, {"empty", ""}};
  const std::string path = dir / "all.safetensors";
  write_safetensors(path, tensors, metadata);

  const SafetensorsFile file = read_safetensors(path);
  expect_same_tensors(file.tensors, tensors);
  EXPECT_EQ(file.metadata, metadata);
  // No temporary file is left behind.
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(Safetensors, WriterLayoutIsTheFormat) {
  // Parse our own output by hand: u64 length, a JSON header padded with
  // spaces to a multiple of 8, then the data in the order given.
  TempFolder dir;
  const std::string path = dir / "layout.safetensors";
  write_safetensors(path, {{"b", from_vector<int32_t>({7, -1}, {2})}, {"a", from_vector<float>({1.5f}, {1})}},
                    {{"k", "v"}});
  const std::vector<uint8_t> bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[size_t(i)];
  EXPECT_EQ(n % 8, 0u);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  const std::string json = header.substr(0, header.find_last_not_of(' ') + 1);
  EXPECT_EQ(json,
            R"({"__metadata__":{"k":"v"},"b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},)"
            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})");
  const std::vector<uint8_t> data(bytes.begin() + 8 + long(n), bytes.end());
  EXPECT_EQ(data, concat({le_bytes<int32_t>({7, -1}), le_bytes<float>({1.5f})}));
}

TEST(Safetensors, NonContiguousTensorsAreWrittenRowMajor) {
  TempFolder dir;
  const Tensor base = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor transposed = ops::transpose(base, 0, 1);  // (3, 2): 1 4 2 5 3 6
  write_safetensors(dir / "t.safetensors", {{"t", transposed}});
  const SafetensorsFile file = read_safetensors(dir / "t.safetensors");
  EXPECT_EQ(file.tensors[0].second.shape(), (Shape{3, 2}));
  EXPECT_EQ(file.tensors[0].second.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Safetensors, ReadsHandBuiltFiles) {
  // Written as another implementation might: keys out of data order,
  // whitespace and newlines in the JSON, no padding, every dtype, a scalar
  // and an empty tensor (begin == end) in the middle.
  TempFolder dir;
  const std::string header = R"({
  "u8":   {"dtype": "U8",   "shape": [3],    "data_offsets": [44, 47]},
  "f32":  {"dtype": "F32",  "shape": [2],    "data_offsets": [0, 8]},
  "__metadata__": {"format": "pt", "note": "hand \u00e9crit"},
  "empty":{"dtype": "F64",  "shape": [0, 5], "data_offsets": [8, 8]},
  "f64":  {"dtype": "F64",  "shape": [],     "data_offsets": [8, 16]},
  "bf16": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [16, 20]},
  "i32":  {"dtype": "I32",  "shape": [2],    "data_offsets": [20, 28]},
  "i64":  {"dtype": "I64",  "shape": [2],    "data_offsets": [28, 44]}
})";
  const std::vector<uint8_t> data = concat({
      le_bytes<float>({1.5f, -2.0f}),
      le_bytes<double>({0.1}),
      le_bytes<uint16_t>({0x3fc0, 0xc020}),  // bf16 1.5, -2.5
      le_bytes<int32_t>({-7, 65536}),
      le_bytes<int64_t>({-(1LL << 40), 3}),
      {0, 128, 255},
  });
  write_bytes(dir / "hand.safetensors", safetensors_bytes(header, data));
  const SafetensorsFile file = read_safetensors(dir / "hand.safetensors");

  std::vector<std::string> names;
  for (const auto& [name, t] : file.tensors) names.push_back(name);
  // File order: by data offset; the empty tensor keeps its header position
  // among equal offsets.
  EXPECT_EQ(names, (std::vector<std::string>{"f32", "empty", "f64", "bf16", "i32", "i64", "u8"}));
  const auto& t = file.tensors;
  EXPECT_EQ(t[0].second.to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(t[1].second.shape(), (Shape{0, 5}));
  EXPECT_EQ(t[1].second.dtype(), DType::f64);
  EXPECT_EQ(t[2].second.shape(), Shape{});
  EXPECT_EQ(t[2].second.item<double>(), 0.1);
  EXPECT_EQ(t[3].second.dtype(), DType::bf16);
  EXPECT_EQ(t[3].second.shape(), (Shape{2, 1}));
  EXPECT_EQ(t[3].second.to_vector<float>(), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_EQ(t[4].second.to_vector<int32_t>(), (std::vector<int32_t>{-7, 65536}));
  EXPECT_EQ(t[5].second.to_vector<int64_t>(), (std::vector<int64_t>{-(1LL << 40), 3}));
  EXPECT_EQ(t[6].second.to_vector<uint8_t>(), (std::vector<uint8_t>{0, 128, 255}));
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "hand \xc3\xa9" "crit"}}));
}

TEST(Safetensors, ReadsAHeaderOnlyFile) {
  TempFolder dir;
  write_bytes(dir / "none.safetensors", safetensors_bytes("{}      ", {}));
  const SafetensorsFile file = read_safetensors(dir / "none.safetensors");
  EXPECT_TRUE(file.tensors.empty());
  EXPECT_TRUE(file.metadata.empty());
}

// ---- malformed files: each refused with the file's name and the reason ---------------

struct Malformed {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* reason;
};

std::vector<Malformed> malformed_files() {
  const std::string one = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<uint8_t> eight = le_bytes<float>({1, 2});
  auto file = [](const std::string& header, const std::vector<uint8_t>& data) {
    return safetensors_bytes(header, data);
  };
  return {
      {"empty file", {}, "truncated header"},
      {"short length", {1, 0, 0}, "truncated header"},
      {"length past end", safetensors_bytes(one, eight, one.size() + 100), "runs past the end of the file"},
      {"length over 100 MB", safetensors_bytes(one, eight, 100'000'001), "exceeds the limit"},
      {"bad JSON", file(R"({"a":{"dtype":"F32",)", {}), "not valid JSON"},
      {"bad JSON bytes", file("{\"a\xff\":1}", {}), "not valid JSON"},
      {"empty header", file("", {}), "not valid JSON"},
      {"not an object", file("[1, 2]", {}), "not an object"},
      {"entry not an object", file(R"({"a":3})", {}), "not an object"},
      {"unknown dtype", file(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", eight),
       "unsupported dtype 'F16'"},
      {"dtype not a string", file(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", eight),
       "\"dtype\" is not a string"},
      {"missing shape", file(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", eight), "missing \"shape\""},
      {"unknown field", file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", eight),
       "unknown field \"x\""},
      {"negative dim", file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight),
       "not a non-negative integer"},
      {"fractional dim", file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", eight),
       "not a non-negative integer"},
      {"shape/offset mismatch", file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
       "needs 12 bytes"},
      {"huge shape",
       file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", eight),
       "too large"},
      {"three offsets", file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", eight),
       "[begin, end]"},
      {"end before begin", file(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}})", eight),
       "end before they begin"},
      {"overlapping offsets",
       file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            eight),
       "overlap tensor 'a'"},
      {"gap", file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight), "gap of 4 bytes"},
      {"data section truncated", file(one, le_bytes<float>({1})), "run past the data section"},
      {"trailing bytes", file(one, concat({eight, {0, 0, 0, 0}})), "trailing"},
      {"duplicate name",
       file(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})",
            {}),
       "duplicate key 'a'"},
      {"metadata not strings", file(R"({"__metadata__":{"step":3}})", {}), "metadata 'step'"},
      {"metadata not an object", file(R"({"__metadata__":"x"})", {}), "not an object"},
  };
}

TEST(Safetensors, MalformedFilesAreRefusedByName) {
  TempFolder dir;
  int index = 0;
  for (const Malformed& m : malformed_files()) {
    SCOPED_TRACE(m.name);
    const std::string path = dir / fmt::format("malformed_{}.safetensors", index++);
    write_bytes(path, m.bytes);
    expect_error([&] { read_safetensors(path); }, {path, m.reason});
  }
  expect_error([&] { read_safetensors(dir / "missing.safetensors"); }, {dir / "missing.safetensors", "not found"});
}

TEST(Safetensors, TruncatingAValidFileAnywhereIsRefused) {
  TempFolder dir;
  const std::string path = dir / "ok.safetensors";
  write_safetensors(path, {{"w", from_vector<float>({1, 2, 3}, {3})}, {"b", from_vector<int64_t>({4}, {1})}});
  const std::vector<uint8_t> bytes = read_bytes(path);
  for (size_t size = 0; size < bytes.size(); ++size) {
    const std::string cut = dir / fmt::format("cut_{}.safetensors", size);  // fresh files: see test_checkpoint
    write_bytes(cut, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(size)));
    EXPECT_THROW(read_safetensors(cut), Error) << "truncated to " << size << " bytes";
    fs::remove(cut);
  }
}

TEST(Safetensors, WriterRefusesBadNames) {
  TempFolder dir;
  const Tensor t = from_vector<float>({1}, {1});
  expect_error([&] { write_safetensors(dir / "x.safetensors", {{"a", t}, {"a", t}}); }, {"duplicate", "'a'"});
  expect_error([&] { write_safetensors(dir / "x.safetensors", {{"__metadata__", t}}); }, {"invalid tensor name"});
  expect_error([&] { write_safetensors(dir / "x.safetensors", {{"", t}}); }, {"invalid tensor name"});
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

TEST(Safetensors, WriteReplacesAtomicallyAndIgnoresStrayTemp) {
  TempFolder dir;
  const std::string path = dir / "m.safetensors";
  write_safetensors(path, {{"old", from_vector<float>({1}, {1})}});
  write_bytes(path + ".tmp", {1, 2, 3});  // left by an interrupted write
  EXPECT_EQ(read_safetensors(path).tensors[0].first, "old");
  write_safetensors(path, {{"new", from_vector<float>({2}, {1})}});
  EXPECT_EQ(read_safetensors(path).tensors[0].first, "new");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  // A write into a missing folder fails by name and leaves the file untouched.
  expect_error([&] { write_safetensors(dir / "no/such/dir/x.safetensors", {}); }, {"no/such/dir/x.safetensors.tmp"});
}

}  // namespace
}  // namespace strata
